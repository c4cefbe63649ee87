-- Neovim's own LSP client against the real server, WITHOUT the victor plugin: what any Neovim
-- user gets from `vim.lsp.start` alone. Neovim sends the ordinary document notifications and
-- encodes an empty Lua table as `[]`; the server must take both as they come.
local results = { passed = 0, failed = 0 }
local function it(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  results[ok and "passed" or "failed"] = results[ok and "passed" or "failed"] + 1
  io.stdout:write(ok and ("ok - %s\n"):format(name) or ("not ok - %s\n%s\n"):format(name, err))
end

local spec_dir = vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p"))
local repo_root = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(spec_dir)))
local python = vim.env.PYTHON or "python3"
local dir = vim.fn.tempname()
vim.fn.mkdir(dir .. "/.victor", "p")
vim.fn.writefile({ "x = 1" }, dir .. "/main.py")
local stderr_log = dir .. "/server.log"

assert(vim.fn.exists(":VictorChat") == 0, "the plugin must not be loaded here")

local client_id = vim.lsp.start({
  name = "victor",
  cmd = { "sh", "-c", ('"%s" -m victor_server lsp 2>"%s"'):format(python, stderr_log) },
  root_dir = dir,
  cmd_env = { VICTOR_PROVIDER = "scripted", VICTOR_TOOL_SELECTION__STRATEGY = "keyword",
              VICTOR_DB = dir .. "/.victor/victor.db", PYTHONPATH = repo_root },
}, { attach = false })
local client = assert(vim.lsp.get_client_by_id(client_id), "the client started")
assert(vim.wait(60000, function() return client.initialized end, 20), "initialized")

local function request(method, params)
  local answer = client:request_sync(method, params, 120000)
  assert(answer, method .. ": no answer")
  return answer.err, answer.result
end

it("the document notifications an editor sends are taken", function()
  vim.cmd.edit(dir .. "/main.py")
  vim.lsp.buf_attach_client(0, client_id)
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { "x = 2" })
  vim.cmd.write()
  local err = request("victor/session/list", {})
  assert(err == nil, vim.inspect(err))
end)

it("an empty params table (sent as []) is no params", function()
  local err, listed = request("victor/session/list", {})
  assert(err == nil, vim.inspect(err))
  assert(type(listed.sessions) == "table", vim.inspect(listed))
  local err2, config = request("victor/getConfig", {})
  assert(err2 == nil, vim.inspect(err2))
  assert(config.config.provider == "scripted", vim.inspect(config.config.provider))
end)

it("a chat turn through the plain client", function()
  local err, result = request("victor/chat", { message = "hello from plain nvim" })
  assert(err == nil, vim.inspect(err))
  assert(result.content:find("hello from plain nvim", 1, true), result.content)
  local _, listed = request("victor/session/list", {})
  assert(#listed.sessions == 1, vim.inspect(listed))
end)

client:stop()
vim.wait(10000, function() return client:is_stopped() end, 50)
it("the server logged no warning and no traceback", function()
  local log = table.concat(vim.fn.readfile(stderr_log), "\n")
  assert(not log:find("WARNING", 1, true) and not log:find("Traceback", 1, true), log)
end)
io.stdout:write(("%d passed, %d failed\n"):format(results.passed, results.failed))
vim.fn.delete(dir, "rf")
os.exit(results.failed == 0 and 0 or 1)

--- A small harness for specs run as `nvim --clean --headless -l spec/<name>_spec.lua`.
---
--- It puts the plugin on the runtimepath, makes a temporary workspace, points the plugin at
--- the real server (VICTOR_SERVER_CMD, else `victor-server`), and runs `it` blocks in order,
--- printing TAP-like lines and a closing "N passed, N failed". vim.wait keeps the event loop
--- (and so the LSP client) running while a spec waits for a condition.
local H = {}

local spec_dir = vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p"))
H.plugin_dir = vim.fs.dirname(spec_dir)
H.repo_root = vim.fs.dirname(vim.fs.dirname(H.plugin_dir))
H.python = vim.env.PYTHON or "python3"

vim.opt.rtp:prepend(H.plugin_dir)
vim.cmd.runtime("plugin/victor.lua")

--- The server command, as a list, for opts.cmd.
function H.server_cmd()
  local configured = vim.env.VICTOR_SERVER_CMD
  local cmd = configured and configured ~= "" and vim.split(vim.trim(configured), "%s+")
    or (vim.fn.executable("victor-server") == 1 and { "victor-server" })
    or { H.python, "-m", "victor_server" }
  table.insert(cmd, "lsp")
  return cmd
end

--- Make a temporary workspace with `files` and cd into it (the plugin's root falls back to cwd).
---@param files table<string, string>
function H.workspace(files)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  for name, content in pairs(files or {}) do
    vim.fn.mkdir(vim.fs.dirname(dir .. "/" .. name), "p")
    vim.fn.writefile(vim.split(content, "\n", { plain = true }), dir .. "/" .. name)
  end
  vim.fn.chdir(dir)
  H.dir = dir
  return dir
end

--- Start tests/support/fake_anthropic.py with `replies`; returns the env for the server.
--- `opts.caching` makes the fake apply Anthropic's prompt-caching rules and report cache usage.
---@param replies table[]
---@param opts {caching: boolean}|nil
function H.fake_anthropic(replies, opts)
  local script = vim.fn.tempname() .. ".json"
  vim.fn.writefile({ vim.json.encode(replies) }, script)
  local port
  local cmd = { H.python, H.repo_root .. "/tests/support/fake_anthropic.py", "--script", script }
  if opts and opts.caching then
    table.insert(cmd, "--caching")
  end
  H.fake = vim.system(cmd, {
    stdout = function(_, data)
      local p = data and data:match("PORT (%d+)")
      if p then
        port = tonumber(p)
      end
    end,
  })
  assert(vim.wait(15000, function() return port ~= nil end, 20), "fake_anthropic did not start")
  return {
    VICTOR_PROVIDER = "anthropic",
    ANTHROPIC_BASE_URL = ("http://127.0.0.1:%d"):format(port),
    ANTHROPIC_API_KEY = "test",
  }
end

--- Configure the plugin for this workspace and `env`.
function H.setup(env)
  require("victor").setup({
    cmd = H.server_cmd(),
    cmd_env = vim.tbl_extend("force", {
      VICTOR_DB = H.dir .. "/.victor/victor.db",
      PYTHONPATH = H.repo_root,
    }, env or {}),
  })
end

--- Lines of the buffer named `name`, joined with "\n" ("" when it does not exist).
function H.text(name)
  local buf = vim.fn.bufnr(name or "victor://chat")
  if buf == -1 then
    return ""
  end
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
end

--- Wait (processing events) until `fn()` is truthy; error with `what` on timeout.
function H.wait_for(what, fn, timeout)
  local ok = vim.wait(timeout or 60000, function()
    local good, value = pcall(fn)
    return good and value
  end, 20)
  if not ok then
    error(("timed out waiting for %s\n--- notifications ---\n%s\n--- victor://chat ---\n%s"):format(
      what, vim.inspect(H.notes), H.text()), 2)
  end
end

--- Wait for the chat turn in flight to finish (the VictorChatDone autocmd).
function H.wait_turn(timeout)
  H.wait_for("the chat turn to finish", function()
    return require("victor.chat").state.turn == nil
  end, timeout)
end

--- Capture vim.notify messages.
H.notes = {}
vim.notify = function(msg, level)
  table.insert(H.notes, { msg = msg, level = level })
end

function H.eq(want, got, what)
  if not vim.deep_equal(want, got) then
    error(("%s: expected %s, got %s"):format(what or "value", vim.inspect(want), vim.inspect(got)), 2)
  end
end

function H.contains(haystack, needle, what)
  if not haystack:find(needle, 1, true) then
    error(("%s: %q not found in:\n%s"):format(what or "text", needle, haystack), 2)
  end
end

local results = { passed = 0, failed = 0 }

function H.it(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    results.passed = results.passed + 1
    io.stdout:write(("ok - %s\n"):format(name))
  else
    results.failed = results.failed + 1
    io.stdout:write(("not ok - %s\n%s\n"):format(name, err))
  end
end

--- Stop the server and the fake, print the summary and exit with its status.
function H.finish()
  for _, c in ipairs(vim.lsp.get_clients({ name = "victor" })) do
    c:stop()
  end
  vim.wait(5000, function() return #vim.lsp.get_clients({ name = "victor" }) == 0 end, 50)
  if H.fake then
    H.fake:kill(15)
  end
  io.stdout:write(("%d passed, %d failed\n"):format(results.passed, results.failed))
  vim.fn.delete(H.dir or "", "rf")
  os.exit(results.failed == 0 and 0 or 1)
end

return H

--- The LSP client for victor-server: finding or starting it, and sending its custom requests.
---
--- The server is a workspace agent rather than a per-filetype language server, so it is started
--- detached from buffers (`attach = false` on 0.11+, `vim.lsp.start_client` on 0.10) and found
--- again by name. A client started by `vim.lsp.enable("victor")` (see lsp/victor.lua) is reused.
--- Requests made before `initialize` has finished wait for it instead of failing.
local config = require("victor.config")

local M = {}

M.name = "victor"

local has_011 = vim.fn.has("nvim-0.11") == 1

--- The workspace root for the current buffer.
---@return string
function M.root_dir()
  local root = vim.fs.root(0, config.options.root_markers)
  return root or vim.fn.getcwd()
end

--- The command with `--workspace` appended unless the user's command names one.
---@param root string
---@return string[]
function M.command(root)
  local cmd = vim.deepcopy(config.options.cmd)
  if not vim.tbl_contains(cmd, "--workspace") then
    vim.list_extend(cmd, { "--workspace", root })
  end
  return cmd
end

--- The client config given to vim.lsp (also the shape lsp/victor.lua returns).
---@param root string
---@return vim.lsp.ClientConfig
function M.client_config(root)
  local opts = config.options
  return {
    name = M.name,
    cmd = M.command(root),
    cmd_env = opts.cmd_env,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } },
    -- requestPermission: this plugin presents victor/requestPermission (approvals)
    init_options = { authToken = opts.auth_token, requestPermission = true },
    handlers = require("victor.chat").handlers,
  }
end

---@return vim.lsp.Client|nil
function M.get()
  local clients = vim.lsp.get_clients({ name = M.name })
  for _, c in ipairs(clients) do
    if not (c.is_stopped and c:is_stopped()) then
      return c
    end
  end
end

--- The running client, started if there is none.
---@return vim.lsp.Client|nil client, string|nil err
function M.ensure()
  local existing = M.get()
  if existing then
    return existing
  end
  local root = M.root_dir()
  local cfg = M.client_config(root)
  if vim.fn.executable(cfg.cmd[1]) == 0 then
    return nil, ("victor: %q is not executable; install victor-server or set opts.cmd"):format(cfg.cmd[1])
  end
  local id
  if has_011 then
    id = vim.lsp.start(cfg, { attach = false })
  else
    id = vim.lsp.start_client(cfg)
  end
  local client = id and vim.lsp.get_client_by_id(id)
  if not client then
    return nil, "victor: the server did not start (see :LspLog)"
  end
  return client
end

--- Call `fn(client)` once the client has answered `initialize`.
---@param fn fun(client: vim.lsp.Client)
---@param on_error fun(err: string)
local function when_ready(fn, on_error)
  local client, err = M.ensure()
  if not client then
    return on_error(err or "victor: no client")
  end
  if client.initialized then
    return fn(client)
  end
  local timer = assert(vim.uv.new_timer())
  local waited = 0
  timer:start(20, 20, vim.schedule_wrap(function()
    waited = waited + 20
    if client.initialized then
      timer:stop()
      timer:close()
      fn(client)
    elseif (client.is_stopped and client:is_stopped()) or waited > 60000 then
      timer:stop()
      timer:close()
      on_error("victor: the server stopped before it was ready (see :LspLog)")
    end
  end))
end

--- Describe a JSON-RPC error for a message: the server's error codes get a hint.
---@param err table
---@return string
function M.error_text(err)
  local hints = {
    [-32001] = "session not found",
    [-32002] = "provider unavailable (is ANTHROPIC_API_KEY set?)",
    [-32003] = "rate limited",
    [-32004] = "unauthorized (set opts.auth_token)",
    [-32005] = "store unavailable",
  }
  local hint = hints[err.code]
  return ("victor: %s%s"):format(err.message or vim.inspect(err), hint and (" [" .. hint .. "]") or "")
end

--- Send `method` with `params`; `cb(result)` on success, errors are notified.
--- `on_sent(client, request_id)` lets the caller cancel later.
---@param method string
---@param params table
---@param cb fun(result: any)
---@param on_sent? fun(client: vim.lsp.Client, request_id: integer)
---@param on_fail? fun(msg: string)
function M.request(method, params, cb, on_sent, on_fail)
  local fail = function(msg)
    vim.notify(msg, vim.log.levels.ERROR)
    if on_fail then
      on_fail(msg)
    end
  end
  -- An empty Lua table encodes as a JSON array; the server wants an object.
  if next(params) == nil then
    params = vim.empty_dict()
  end
  when_ready(function(client)
    local handler = function(err, result)
      if err then
        return fail(M.error_text(err))
      end
      cb(result)
    end
    local ok, id
    if has_011 then
      ok, id = client:request(method, params, handler)
    else
      ok, id = client.request(method, params, handler)
    end
    if not ok then
      return fail("victor: the server is not running (see :LspLog)")
    end
    if on_sent then
      on_sent(client, id)
    end
  end, fail)
end

--- Cancel a request: the server answers a chat with stopReason "cancelled".
---@param client vim.lsp.Client
---@param id integer
function M.cancel(client, id)
  if has_011 then
    client:cancel_request(id)
  else
    client.cancel_request(id)
  end
end

return M

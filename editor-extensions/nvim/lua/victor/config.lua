--- Options for victor.nvim, with their defaults.
---
--- `require("victor").setup(opts)` deep-merges `opts` over these. Every field is optional.
local M = {}

---@class victor.ChatConfig
---@field position "right"|"left"|"below"|"above"|"tab"|"current" Where the victor://chat window opens.
---@field size integer|nil Width (right/left) or height (below/above) of the chat window; nil = half.
---@field stream boolean Stream replies as they arrive (victor/chatDelta); false waits for the whole reply.

---@class victor.Config
---@field cmd string[] Server command; `--workspace <root>` is appended unless it is already there.
---@field cmd_env table<string, string> Extra environment for the server (e.g. VICTOR_PROVIDER).
---@field root_markers string[] Files that mark the workspace root; the cwd is used when none is found.
---@field auth_token string|nil Sent as initializationOptions.authToken (auth middleware).
---@field chat victor.ChatConfig
---@field notify_tool_calls boolean Also echo tool calls with vim.notify, not only in the chat buffer.

---@type victor.Config
M.defaults = {
  cmd = { "victor-server", "lsp" },
  cmd_env = {},
  root_markers = { ".victor", ".git" },
  auth_token = nil,
  chat = {
    position = "right",
    size = nil,
    stream = true,
  },
  notify_tool_calls = false,
}

---@type victor.Config
M.options = vim.deepcopy(M.defaults)

--- Merge user options over the defaults. Bad values are reported and replaced by defaults, so a
--- typo in a config never stops the editor from starting.
---@param opts victor.Config|table|nil
function M.set(opts)
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if type(merged.cmd) == "string" then
    merged.cmd = { merged.cmd, "lsp" }
  end
  if type(merged.cmd) ~= "table" or #merged.cmd == 0 then
    vim.notify("victor: opts.cmd must be a list like { 'victor-server', 'lsp' }; using the default",
      vim.log.levels.WARN)
    merged.cmd = vim.deepcopy(M.defaults.cmd)
  end
  M.options = merged
  return merged
end

return M

-- victor-server for Neovim 0.11+: `vim.lsp.enable("victor")`.
-- The :Victor* commands reuse this client when it is running (they look it up by name).
-- Override fields with vim.lsp.config("victor", { cmd = { ... } }).
---@type vim.lsp.Config
return {
  cmd = { "victor-server", "lsp" },
  root_markers = { ".victor", ".git" },
  init_options = { requestPermission = true }, -- approvals are asked with vim.ui.select
  handlers = {
    ["victor/chatDelta"] = function(...) return require("victor.chat").handlers["victor/chatDelta"](...) end,
    ["victor/toolCall"] = function(...) return require("victor.chat").handlers["victor/toolCall"](...) end,
    ["victor/requestPermission"] = function(...) return require("victor.permissions").handler(...) end,
  },
}

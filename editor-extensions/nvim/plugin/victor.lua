-- User commands for victor.nvim. Cheap to load: each command requires the plugin on first use.
if vim.g.loaded_victor then
  return
end
vim.g.loaded_victor = true

-- Notification handlers are global so they also serve a client started by vim.lsp.enable().
for method, handler in pairs(require("victor.chat").handlers) do
  vim.lsp.handlers[method] = vim.lsp.handlers[method] or handler
end

local function ask(prompt, fn)
  vim.ui.input({ prompt = prompt }, function(value)
    if value and value ~= "" then
      fn(value)
    end
  end)
end

vim.api.nvim_create_user_command("VictorChat", function(cmd)
  local victor = require("victor")
  local range = cmd.range > 0 and { bufnr = vim.api.nvim_get_current_buf(), line1 = cmd.line1, line2 = cmd.line2 }
    or nil
  if cmd.args ~= "" or range then
    return victor.chat(cmd.args, range)
  end
  ask("Victor> ", victor.chat)
end, { nargs = "*", range = true, desc = "Victor: chat (with a range, about the selected lines)" })

vim.api.nvim_create_user_command("VictorSelectTools", function(cmd)
  if cmd.args ~= "" then
    return require("victor").select_tools(cmd.args)
  end
  ask("Task: ", require("victor").select_tools)
end, { nargs = "*", desc = "Victor: which tools would be selected for a task" })

vim.api.nvim_create_user_command("VictorCompact", function() require("victor").compact() end,
  { desc = "Victor: compact the chat session's context" })
vim.api.nvim_create_user_command("VictorSessions", function() require("victor").sessions() end,
  { desc = "Victor: pick a stored session and resume it" })
vim.api.nvim_create_user_command("VictorAnalytics", function() require("victor").analytics() end,
  { desc = "Victor: analytics summary" })
vim.api.nvim_create_user_command("VictorCancel", function() require("victor").cancel() end,
  { desc = "Victor: stop the reply being streamed" })
vim.api.nvim_create_user_command("VictorNew", function() require("victor").new_session() end,
  { desc = "Victor: start a new chat session" })

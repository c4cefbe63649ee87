--- Approvals: the server's `victor/requestPermission` request, presented with `vim.ui.select`.
---
--- The server asks before a tool call its approvals policy (`tools.approvals`) says to ask
--- about: a write or edit (the request carries a unified diff), a bash command, an MCP tool with
--- side effects. The diff or command is written into the victor://chat buffer so it can be read
--- in full, then `vim.ui.select` offers the server's options (allow once, always allow when the
--- call can be remembered, reject). Closing the picker rejects.
---
--- Neovim runs a server request's handler inside a coroutine and sends whatever it returns, so
--- the handler yields until the picker's callback resumes it. The plugin declares that it can be
--- asked with `initializationOptions.requestPermission`; a client that does not is never asked
--- (the server refuses such calls itself, naming the config key that would allow them).
local M = {}

M.method = "victor/requestPermission"
M.capability = "requestPermission"

--- The lines shown in the chat buffer before the picker opens.
---@param request table
---@return string[]
function M.context_lines(request)
  local lines = { ("> victor asks to run %s (%s)"):format(request.title or request.tool, request.rule or "") }
  local body = request.command and ("$ " .. request.command) or request.diff
  if body and body ~= "" then
    table.insert(lines, request.command and "```sh" or "```diff")
    vim.list_extend(lines, vim.split(vim.trim(body), "\n", { plain = true }))
    table.insert(lines, "```")
  end
  table.insert(lines, "")
  return lines
end

--- Handler for victor/requestPermission: returns `{ optionId = ... }` once the user chose.
---@param request table
function M.handler(_, request)
  local co, is_main = coroutine.running()
  if not co or is_main or type(request) ~= "table" or type(request.options) ~= "table" then
    return { optionId = "reject" }
  end
  pcall(function() require("victor.chat").note(M.context_lines(request)) end)
  vim.ui.select(request.options, {
    prompt = ("Victor: allow %s?"):format(request.title or request.tool),
    kind = "victor.permission",
    format_item = function(option) return option.name end,
  }, function(choice)
    -- the picker may answer before this coroutine has yielded: resume on the next tick
    vim.schedule(function() coroutine.resume(co, choice) end)
  end)
  local choice = coroutine.yield()
  return { optionId = type(choice) == "table" and choice.optionId or "reject" }
end

return M

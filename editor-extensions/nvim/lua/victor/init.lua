--- victor.nvim: chat with victor-server from Neovim.
---
--- `require("victor").setup(opts)` merges options (see victor/config.lua); the commands are
--- defined by plugin/victor.lua and call the functions here. The server starts on first use.
local M = {}

---@param opts victor.Config|table|nil
function M.setup(opts)
  require("victor.config").set(opts)
  for method, handler in pairs(require("victor.chat").handlers) do
    vim.lsp.handlers[method] = handler
  end
end

--- Send a message; with `range` (from a :'<,'> command) the selected lines are quoted in it.
---@param message string
---@param range {bufnr: integer, line1: integer, line2: integer}|nil
function M.chat(message, range)
  local chat = require("victor.chat")
  if not range then
    return chat.send(message)
  end
  local lines = vim.api.nvim_buf_get_lines(range.bufnr, range.line1 - 1, range.line2, false)
  local ft = vim.bo[range.bufnr].filetype
  local name = vim.api.nvim_buf_get_name(range.bufnr)
  local path = name ~= "" and vim.fn.fnamemodify(name, ":.") or "[No Name]"
  local fence = table.concat(lines, "\n"):find("```", 1, true) and "````" or "```"
  local question = message ~= "" and message or "Explain this code."
  local text = ("%s\n\nFrom `%s` lines %d-%d:\n%s%s\n%s\n%s"):format(
    question, path, range.line1, range.line2, fence, ft, table.concat(lines, "\n"), fence)
  chat.send(text, { language = ft ~= "" and ft or nil, file = path })
end

--- Show the tools the server would pick for `query`.
---@param query string
function M.select_tools(query)
  require("victor.client").request("victor/selectTools", { query = query }, function(result)
    local lines = { ("victor: tools for %q (%s)"):format(query, result.strategy) }
    for _, t in ipairs(result.tools or {}) do
      table.insert(lines, ("  %-12s %.2f  [%s]  %s"):format(t.name, t.score, t.costTier, t.description))
    end
    vim.notify(table.concat(lines, "\n"))
  end)
end

--- Compact the current session's context.
function M.compact()
  local session_id = require("victor.chat").state.session_id
  if not session_id then
    return vim.notify("victor: no chat session to compact yet", vim.log.levels.WARN)
  end
  require("victor.client").request("victor/compactContext", { sessionId = session_id }, function(r)
    vim.notify(("victor: compacted with %s: %d messages / %d tokens -> %d messages / %d tokens"):format(
      r.strategy, r.before.messages, r.before.tokens, r.after.messages, r.after.tokens))
  end)
end

--- How a session reads in :VictorSessions. JSON null arrives as vim.NIL (truthy), so a session
--- with no title (made by the CLI, MCP or ACP before titles) shows its id instead.
---@param s table
---@return string
function M.session_label(s)
  local title = type(s.title) == "string" and vim.trim(s.title) ~= "" and s.title
    or ("untitled " .. tostring(s.sessionId))
  local when = type(s.updatedAt) == "number" and os.date("%Y-%m-%d %H:%M", math.floor(s.updatedAt))
    or "unknown date"
  return ("%s  (%d messages, %s)"):format(title, tonumber(s.messageCount) or 0, when)
end

--- Pick a stored session with vim.ui.select and resume it in the chat buffer.
function M.sessions()
  local client = require("victor.client")
  client.request("victor/session/list", { limit = 100 }, function(result)
    local sessions = result.sessions or {}
    if #sessions == 0 then
      return vim.notify("victor: no stored sessions")
    end
    vim.ui.select(sessions, {
      prompt = "Resume a Victor session",
      format_item = M.session_label,
    }, function(choice)
      if choice then
        client.request("victor/session/get", { sessionId = choice.sessionId }, function(session)
          require("victor.chat").load(session)
        end)
      end
    end)
  end)
end

--- Show the analytics summary in a scratch buffer (victor://analytics).
function M.analytics()
  require("victor.client").request("victor/analytics/summary", {}, function(s)
    local lines = {
      "# Victor analytics", "",
      ("Sessions: %d"):format(s.sessions or 0),
      ("Tokens: %d in, %d out, %d total"):format(s.tokens.input, s.tokens.output, s.tokens.total),
      ("Prompt cache: %d tokens read, %d written"):format(s.tokens.cacheRead or 0, s.tokens.cacheWrite or 0),
      "", "## Events", "",
    }
    local function counts(tbl)
      local keys = vim.tbl_keys(tbl or {})
      table.sort(keys)
      for _, k in ipairs(keys) do
        table.insert(lines, ("- %s: %d"):format(k, tbl[k]))
      end
    end
    counts(s.events)
    vim.list_extend(lines, { "", "## Tool calls", "" })
    counts(s.toolCalls)
    local buf = vim.fn.bufnr("victor://analytics")
    if buf == -1 then
      buf = vim.api.nvim_create_buf(true, true)
      vim.api.nvim_buf_set_name(buf, "victor://analytics")
      vim.bo[buf].buftype = "nofile"
      vim.bo[buf].filetype = "markdown"
    end
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, buf)
  end)
end

M.cancel = function() require("victor.chat").cancel() end
M.new_session = function() require("victor.chat").reset() end
M.statusline = function() return require("victor.chat").statusline() end

return M

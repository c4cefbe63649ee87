--- The chat: the `victor://chat` buffer, streaming into it, and the conversation's state.
---
--- A turn writes "## You" and the message, then "## Victor", and appends each
--- `victor/chatDelta` as it arrives. `victor/toolCall` notifications become "> tool ..." lines,
--- updated in place as the call's status changes. The final result ends the turn with a usage
--- line (tokens in and out, and the prompt tokens read from or written to the provider's prompt
--- cache when there are any); when streaming is off (or no delta arrived) the result's content is
--- written instead.
---
--- Deltas carry a session id, not a request id, so a new conversation creates its session
--- first (`victor/session/create`) and only notifications for the current session are drawn.
local client = require("victor.client")
local config = require("victor.config")

local M = {}

M.BUF_NAME = "victor://chat"

---@class victor.ChatState
---@field session_id string|nil
---@field usage {inputTokens: integer, outputTokens: integer, totalTokens: integer, cacheReadTokens: integer, cacheWriteTokens: integer}
---@field turn {client: vim.lsp.Client, id: integer|nil, streamed: boolean, tools: table<string, integer>}|nil
local USAGE_KEYS = { "inputTokens", "outputTokens", "totalTokens", "cacheReadTokens", "cacheWriteTokens" }

--- A usage table with every count, zero where `u` (a server usage object) has none.
---@param u table|nil
local function usage_of(u)
  local out = {}
  for _, k in ipairs(USAGE_KEYS) do
    out[k] = (u or {})[k] or 0
  end
  return out
end

M.state = {
  session_id = nil,
  usage = usage_of(nil),
  turn = nil,
}

--- The chat buffer, created on first use.
---@return integer
function M.buf()
  local existing = vim.fn.bufnr(M.BUF_NAME)
  if existing ~= -1 and vim.api.nvim_buf_is_valid(existing) then
    return existing
  end
  local buf = vim.api.nvim_create_buf(true, true)
  vim.api.nvim_buf_set_name(buf, M.BUF_NAME)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = "markdown"
  vim.keymap.set("n", "<C-c>", M.cancel, { buffer = buf, desc = "Victor: stop the reply" })
  vim.keymap.set("n", "i", function()
    vim.ui.input({ prompt = "Victor> " }, function(msg)
      if msg and msg ~= "" then
        M.send(msg)
      end
    end)
  end, { buffer = buf, desc = "Victor: send a message" })
  return buf
end

--- Show the chat buffer in a window (reusing one that shows it) and return the window.
---@return integer
function M.open()
  local buf = M.buf()
  local win = vim.fn.bufwinid(buf)
  if win ~= -1 then
    return win
  end
  local pos = config.options.chat.position
  local size = config.options.chat.size
  local prefix = ({
    right = "botright vertical", left = "topleft vertical",
    below = "botright", above = "topleft", tab = "tab",
  })[pos]
  if prefix then
    vim.cmd(("%s %ssplit"):format(prefix, size and tostring(size) or ""))
  end
  win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, buf)
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  return win
end

---@param lines string[]
local function append_lines(lines)
  local buf = M.buf()
  local count = vim.api.nvim_buf_line_count(buf)
  local empty = count == 1 and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == ""
  vim.api.nvim_buf_set_lines(buf, empty and 0 or count, -1, false, lines)
end

--- Append `text` to the end of the buffer, continuing its last line.
---@param text string
local function append_text(text)
  local buf = M.buf()
  local last = vim.api.nvim_buf_line_count(buf)
  local tail = vim.api.nvim_buf_get_lines(buf, last - 1, last, false)[1] or ""
  local parts = vim.split(text, "\n", { plain = true })
  parts[1] = tail .. parts[1]
  vim.api.nvim_buf_set_lines(buf, last - 1, last, false, parts)
end

local function scroll()
  local buf = M.buf()
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.api.nvim_win_set_cursor(win, { last, 0 })
  end
end

local function tool_line(p)
  return ("> tool `%s` %s"):format(p.name, p.status)
end

--- The victor/* notification handlers (registered globally and in the client config).
M.handlers = {
  ["victor/chatDelta"] = function(_, params)
    local turn = M.state.turn
    if not (turn and params and params.sessionId == M.state.session_id) then
      return
    end
    turn.streamed = true
    append_text(params.text or "")
    scroll()
  end,
  ["victor/toolCall"] = function(_, params)
    local turn = M.state.turn
    if not (turn and params and params.sessionId == M.state.session_id) then
      return
    end
    local buf = M.buf()
    local line = turn.tools[params.id]
    if line then
      vim.api.nvim_buf_set_lines(buf, line, line + 1, false, { tool_line(params) })
    else
      -- Tool lines stand alone: close the text line, write the tool, reopen a text line.
      local last = vim.api.nvim_buf_line_count(buf)
      local tail = vim.api.nvim_buf_get_lines(buf, last - 1, last, false)[1]
      local at = tail == "" and last - 1 or last
      vim.api.nvim_buf_set_lines(buf, at, -1, false, { tool_line(params), "" })
      turn.tools[params.id] = at
    end
    if config.options.notify_tool_calls then
      vim.notify(("victor: %s %s"):format(params.name, params.status))
    end
    scroll()
  end,
  ["victor/requestPermission"] = function(...) return require("victor.permissions").handler(...) end,
}

--- Append whole lines to the chat buffer (what an approval request is about).
---@param lines string[]
function M.note(lines)
  append_lines(lines)
  scroll()
end

---@param u table
local function usage_text(u, stop)
  local cache = ""
  if (u.cacheReadTokens or 0) > 0 or (u.cacheWriteTokens or 0) > 0 then
    cache = (" · cache: %d read, %d written"):format(u.cacheReadTokens or 0, u.cacheWriteTokens or 0)
  end
  return ("_%d tokens (%d in / %d out)%s · %s_"):format(
    u.totalTokens or 0, u.inputTokens or 0, u.outputTokens or 0, cache, stop or "?")
end

---@param result table
local function finish(result)
  local turn = M.state.turn
  M.state.turn = nil
  M.state.session_id = result.sessionId or M.state.session_id
  local u = result.usage or {}
  for _, k in ipairs(USAGE_KEYS) do
    M.state.usage[k] = (M.state.usage[k] or 0) + (u[k] or 0)
  end
  if turn and not turn.streamed and result.content and result.content ~= "" then
    append_text(result.content)
  end
  append_lines({ "", usage_text(u, result.stopReason), "" })
  scroll()
  vim.api.nvim_exec_autocmds("User", { pattern = "VictorChatDone", data = result })
end

---@param message string
---@param context table|nil
local function run_turn(message, context)
  local lines = vim.split(message, "\n", { plain = true })
  append_lines(vim.list_extend({ "## You", "" }, lines))
  -- The last "" is the line the reply streams into, after a blank separator line.
  append_lines({ "", "## Victor", "", "" })
  scroll()
  local params = {
    message = message,
    sessionId = M.state.session_id,
    stream = config.options.chat.stream,
    context = context,
  }
  client.request("victor/chat", params, finish, function(c, id)
    if M.state.turn then
      M.state.turn.client, M.state.turn.id = c, id
    end
  end, function(msg)
    M.state.turn = nil
    append_lines({ "", "**" .. msg .. "**", "" })
  end)
end

--- Send `message` as the next turn of the current conversation.
---@param message string
---@param context table|nil e.g. { language = "lua" }
function M.send(message, context)
  if M.state.turn then
    vim.notify("victor: a reply is still streaming (<C-c> in the chat stops it)", vim.log.levels.WARN)
    return
  end
  M.open()
  -- The turn exists from here on, so a second :VictorChat waits even while the session is
  -- still being created.
  M.state.turn = { streamed = false, tools = {} }
  if M.state.session_id then
    return run_turn(message, context)
  end
  local title = vim.split(message, "\n", { plain = true })[1]:sub(1, 60)
  client.request("victor/session/create", { title = title }, function(session)
    M.state.session_id = session.sessionId
    run_turn(message, context)
  end, nil, function()
    M.state.turn = nil
  end)
end

--- Stop the reply being streamed.
function M.cancel()
  local turn = M.state.turn
  if turn and turn.client and turn.id then
    client.cancel(turn.client, turn.id)
  end
end

--- Text of stored content: strings as is, text blocks joined, tool blocks as markers.
---@param content any
---@return string
function M.content_text(content)
  if type(content) == "string" then
    return content
  end
  local parts = {}
  for _, block in ipairs(type(content) == "table" and content or {}) do
    if block.type == "text" then
      table.insert(parts, block.text)
    elseif block.type == "tool_use" then
      table.insert(parts, tool_line({ name = block.name, status = "called" }))
    end
  end
  return table.concat(parts, "\n")
end

--- Make `session` (from victor/session/get) the conversation and show its history.
---@param session table
function M.load(session)
  M.state.session_id = session.sessionId
  M.state.turn = nil
  M.state.usage = usage_of(session.usage)
  local buf = M.buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
  for _, m in ipairs(session.messages or {}) do
    local text = M.content_text(m.content)
    if text ~= "" then
      append_lines({ m.role == "user" and "## You" or "## Victor", "" })
      append_lines(vim.split(text, "\n", { plain = true }))
      append_lines({ "" })
    end
  end
  M.open()
  scroll()
end

--- Forget the conversation; the next message starts a new session.
function M.reset()
  M.cancel()
  M.state.session_id = nil
  M.state.turn = nil
  M.state.usage = usage_of(nil)
  vim.api.nvim_buf_set_lines(M.buf(), 0, -1, false, {})
end

--- "victor 1.2k" for a statusline: the current session's tokens, and the share of its prompt
--- tokens read from the prompt cache when there is one ("victor 12.5k 84% cached").
---@return string
function M.statusline()
  local u = M.state.usage
  local total = u.totalTokens or 0
  local text = total >= 1000 and ("victor %.1fk"):format(total / 1000) or ("victor %d"):format(total)
  local prompt = (u.inputTokens or 0) + (u.cacheReadTokens or 0) + (u.cacheWriteTokens or 0)
  if (u.cacheReadTokens or 0) > 0 and prompt > 0 then
    text = text .. (" %d%% cached"):format(math.floor(100 * u.cacheReadTokens / prompt + 0.5))
  end
  return text
end

return M

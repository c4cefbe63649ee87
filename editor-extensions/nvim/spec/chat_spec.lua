-- The plugin against the real server with the scripted provider (offline, deterministic).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/helpers.lua")

H.workspace({ ["main.lua"] = "local x = 1\nprint(x)\nreturn x\n" })
H.setup({ VICTOR_PROVIDER = "scripted" })
local chat = require("victor.chat")

H.it("commands are defined", function()
  for _, name in ipairs({ "VictorChat", "VictorSelectTools", "VictorCompact", "VictorSessions",
    "VictorAnalytics" }) do
    H.eq(2, vim.fn.exists(":" .. name), name)
  end
end)

local first_session
H.it(":VictorChat streams the reply into victor://chat", function()
  local deltas = 0
  local original = chat.handlers["victor/chatDelta"]
  chat.handlers["victor/chatDelta"] = function(...)
    deltas = deltas + 1
    return original(...)
  end
  vim.cmd("VictorChat hello victor")
  H.wait_turn()
  chat.handlers["victor/chatDelta"] = original
  local text = H.text()
  H.contains(text, "## You\n\nhello victor\n\n## Victor\n\n", "chat layout")
  H.contains(text, "you said 'hello victor'", "scripted reply")
  H.contains(text, "end_turn_", "usage line")
  assert(deltas > 1, "the reply arrived as several deltas, got " .. deltas)
  assert(chat.state.usage.totalTokens > 0, "usage is counted")
  assert(vim.fn.bufwinid("victor://chat") ~= -1, "the chat window is open")
  first_session = chat.state.session_id
  assert(first_session, "a session id")
end)

H.it("a second message continues the session", function()
  local before = chat.state.usage.totalTokens
  require("victor").chat("and again")
  H.wait_turn()
  H.eq(first_session, chat.state.session_id, "session id")
  assert(chat.state.usage.totalTokens > before, "usage accumulates")
  H.contains(H.text(), "you said 'and again'")
  H.contains(require("victor").statusline(), "victor ")
end)

H.it(":'<,'>VictorChat quotes the selected lines", function()
  vim.cmd.edit("main.lua")
  vim.cmd("1,2VictorChat what does this do?")
  H.wait_turn()
  H.contains(H.text(), "what does this do?\n\nFrom `main.lua` lines 1-2:\n```lua\nlocal x = 1\nprint(x)\n```")
end)

H.it(":VictorSelectTools reports ranked tools", function()
  H.notes = {}
  vim.cmd("VictorSelectTools read a file")
  H.wait_for("a tools notification", function() return #H.notes > 0 end)
  H.contains(H.notes[1].msg, 'tools for "read a file"')
  H.contains(H.notes[1].msg, "read")
end)

H.it(":VictorCompact compacts the session", function()
  H.notes = {}
  vim.cmd("VictorCompact")
  H.wait_for("a compaction notification", function() return #H.notes > 0 end)
  H.contains(H.notes[1].msg, "victor: compacted with")
end)

H.it(":VictorAnalytics opens a summary", function()
  vim.cmd("VictorAnalytics")
  H.wait_for("victor://analytics", function() return H.text("victor://analytics") ~= "" end)
  local text = H.text("victor://analytics")
  H.contains(text, "# Victor analytics")
  H.contains(text, "chat_request")
end)

H.it(":VictorSessions picks and resumes a session", function()
  require("victor").new_session()
  H.eq("", H.text(), "a new session clears the buffer")
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(opts.format_item, items)
    for _, s in ipairs(items) do
      if s.sessionId == first_session then
        return on_choice(s)
      end
    end
  end
  vim.cmd("VictorSessions")
  H.wait_for("the resumed transcript", function() return H.text():find("and again", 1, true) end)
  H.eq(first_session, chat.state.session_id, "resumed session")
  assert(offered and offered[1]:find("messages", 1, true), "items are described")
  H.contains(H.text(), "## You\n\nhello victor")
  vim.cmd("VictorChat after resume")
  H.wait_turn()
  H.eq(first_session, chat.state.session_id, "the resumed session continues")
  H.contains(H.text(), "you said 'after resume'")
end)

H.it(":checkhealth victor reports the server", function()
  vim.cmd("checkhealth victor")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  H.contains(text, "server command:")
  H.contains(text, "server running")
end)

H.finish()

-- The plugin against the real server and the fake Anthropic API: tool calls and cancellation,
-- with the client started the 0.11+ way (lsp/victor.lua through vim.lsp.enable).
local H = dofile(vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p")) .. "/helpers.lua")

H.workspace({ ["notes.txt"] = "ship it", [".victor/standards.md"] = "Be brief.\n" })
local env = H.fake_anthropic({
  { kind = "tool_use", name = "read", input = { path = "notes.txt" }, text_before = "Let me look." },
  { kind = "text", text = "The notes say: ship it." },
  { kind = "slow_text", chunks = { "one ", "two ", "three ", "four ", "five " }, delay = 0.4 },
})
H.setup(env)
local chat = require("victor.chat")

H.it("lsp/victor.lua starts the client through vim.lsp.enable", function()
  local cfg = dofile(H.plugin_dir .. "/lsp/victor.lua")
  H.eq({ "victor-server", "lsp" }, cfg.cmd, "default command")
  vim.lsp.config("victor", {
    cmd = vim.list_extend(H.server_cmd(), { "--workspace", H.dir }),
    cmd_env = require("victor.config").options.cmd_env,
  })
  vim.lsp.enable("victor")
  vim.cmd.edit("notes.txt")
  H.wait_for("the enabled client", function()
    local c = vim.lsp.get_clients({ name = "victor" })[1]
    return c and c.initialized
  end)
end)

H.it("tool calls show in the chat while the turn runs", function()
  local statuses = {}
  local original = chat.handlers["victor/toolCall"]
  chat.handlers["victor/toolCall"] = function(err, p, ...)
    table.insert(statuses, p.status)
    return original(err, p, ...)
  end
  vim.cmd("VictorChat what do my notes say?")
  H.wait_turn()
  chat.handlers["victor/toolCall"] = original
  H.eq(1, #vim.lsp.get_clients({ name = "victor" }), "the enabled client is reused")
  assert(#statuses >= 1, "victor/toolCall notifications arrived")
  local text = H.text()
  H.contains(text, "Let me look.")
  H.contains(text, "> tool `read` " .. statuses[#statuses])
  H.contains(text, "The notes say: ship it.")
  H.contains(text, "end_turn_")
end)

H.it(":VictorCancel stops a streaming reply", function()
  vim.api.nvim_create_autocmd("User", {
    pattern = "VictorChatDone", once = true,
    callback = function(ev) chat.last_result = ev.data end,
  })
  vim.cmd("VictorChat count slowly")
  H.wait_for("the first delta", function() return H.text():find("one ", 1, true) end)
  vim.cmd("VictorCancel")
  H.wait_turn()
  H.eq("cancelled", chat.last_result.stopReason, "stop reason")
  assert(not H.text():find("five", 1, true), "the reply stopped early")
  H.contains(H.text(), "· cancelled_")
end)

H.finish()

-- Prompt-cache usage in the plugin, against the real server and the fake Anthropic API applying
-- Anthropic's caching rules: the first turn writes the tools and system prompt to the cache, the
-- second reads them; the usage lines, the statusline and :VictorAnalytics say so.
local H = dofile(vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p")) .. "/helpers.lua")

-- Standards long enough that the prompt passes the cache's 1024-token minimum.
local standards = {}
for i = 1, 120 do
  table.insert(standards, ("- Rule %d: keep functions short and name them after what they do."):format(i))
end
H.workspace({ ["notes.txt"] = "ship it", [".victor/standards.md"] = table.concat(standards, "\n") .. "\n" })
local env = H.fake_anthropic({
  { kind = "text", text = "First answer." },
  { kind = "text", text = "Second answer." },
}, { caching = true })
H.setup(env)
local chat = require("victor.chat")

H.it("the first turn's usage line shows the tokens written to the cache", function()
  vim.cmd("VictorChat hello")
  H.wait_turn()
  H.contains(H.text(), "First answer.")
  assert(chat.state.usage.cacheWriteTokens > 0, "cache writes counted")
  H.contains(H.text(), ("cache: 0 read, %d written"):format(chat.state.usage.cacheWriteTokens),
    "usage line")
end)

H.it("the second turn reads the prefix from the cache", function()
  local written = chat.state.usage.cacheWriteTokens
  require("victor").chat("and again")
  H.wait_turn()
  H.contains(H.text(), "Second answer.")
  local read = chat.state.usage.cacheReadTokens
  assert(read >= written, ("read %d, first turn wrote %d"):format(read, written))
  H.contains(H.text(), ("cache: %d read, "):format(read), "usage line")
  H.contains(require("victor").statusline(), "% cached", "statusline")
end)

H.it(":VictorAnalytics shows the cache tokens", function()
  vim.cmd("VictorAnalytics")
  H.wait_for("victor://analytics", function() return H.text("victor://analytics") ~= "" end)
  H.contains(H.text("victor://analytics"),
    ("Prompt cache: %d tokens read, %d written"):format(chat.state.usage.cacheReadTokens,
      chat.state.usage.cacheWriteTokens))
end)

H.finish()

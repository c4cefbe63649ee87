-- :checkhealth victor reads the provider the config resolves to, and :VictorSessions lists
-- sessions that have no title (made by the CLI, MCP or ACP) without showing vim.NIL.
local H = dofile(vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p")) .. "/helpers.lua")

H.workspace({ [".victor/config.yml"] = "provider: scripted\nprovder: typo\n" })
vim.env.ANTHROPIC_API_KEY = nil
vim.env.VICTOR_PROVIDER = nil
H.setup({ VICTOR_TOOL_SELECTION__STRATEGY = "keyword" })

--- The text :checkhealth victor writes.
local function health_text()
  vim.cmd("checkhealth victor")
  local text
  H.wait_for("the health report", function()
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[buf].filetype == "checkhealth" then
        local lines = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
        if lines:find("provider", 1, true) or lines:find("could not read", 1, true) then
          text = lines
          return true
        end
      end
    end
  end)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.bo[buf].filetype == "checkhealth" then
      vim.api.nvim_buf_delete(buf, { force = true })
    end
  end
  return text
end

H.it("checkhealth takes the provider from the project config, before the server runs", function()
  assert(require("victor.client").get() == nil, "no server yet")
  local text = health_text()
  H.contains(text, "provider: scripted (from file)", "health")
  H.contains(text, "did you mean `provider`?", "health reports the config error")
  assert(not text:find("ANTHROPIC_API_KEY is not set", 1, true), "no key warning:\n" .. text)
end)

H.it("checkhealth asks the running server (victor/getConfig)", function()
  local created
  require("victor.client").request("victor/session/create", {}, function(s) created = s end)
  H.wait_for("a session without a title", function() return created ~= nil end)
  H.eq(vim.NIL, created.title, "the server sends null for no title")
  local text = health_text()
  H.contains(text, "provider: scripted (from file)", "health")
  H.contains(text, "server running", "health")
end)

H.it("checkhealth warns about the key when the config resolves to anthropic", function()
  vim.fn.writefile({ "provider: anthropic" }, H.dir .. "/.victor/config.yml")
  local text = health_text()
  H.contains(text, "provider anthropic (from file) and ANTHROPIC_API_KEY is not set", "health")
end)

H.it(":VictorSessions lists untitled sessions by id, titled ones by title", function()
  vim.fn.writefile({ "provider: scripted" }, H.dir .. "/.victor/config.yml")
  local done
  require("victor.client").request("victor/chat", { message = "Explain the build" }, function() done = true end)
  H.wait_for("a chat", function() return done end)
  local labels
  vim.ui.select = function(items, opts, _)
    labels = vim.tbl_map(opts.format_item, items)
  end
  vim.cmd("VictorSessions")
  H.wait_for("the session picker", function() return labels ~= nil end)
  H.eq(2, #labels, "two sessions")
  local joined = table.concat(labels, "\n")
  assert(not joined:find("vim.NIL", 1, true), "no vim.NIL in:\n" .. joined)
  H.contains(joined, "untitled ", "the untitled session")
  H.contains(joined, "Explain the build  (2 messages,", "the chat's session is titled by its message")
end)

H.finish()

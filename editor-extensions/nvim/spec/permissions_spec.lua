-- Approvals through the plugin against the real server and the fake Anthropic API: the model
-- asks to write and to edit; victor/requestPermission reaches vim.ui.select (scripted here, as a
-- user would pick), allow once writes, a closed picker rejects, and each turn goes on.
local H = dofile(vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p")) .. "/helpers.lua")

H.workspace({ ["notes.txt"] = "draft" })
local env = H.fake_anthropic({
  { kind = "tool_use", name = "write", input = { path = "notes.txt", content = "approved\n" } },
  { kind = "text", text = "wrote it" },
  { kind = "tool_use", name = "edit", input = { path = "notes.txt", old = "approved", new = "pwned" } },
  { kind = "text", text = "the edit was refused" },
})
H.setup(env)

local asked = {}
local picks = {}
vim.ui.select = function(items, opts, on_choice)
  table.insert(asked, { items = items, prompt = opts.prompt, kind = opts.kind,
                        labels = vim.tbl_map(opts.format_item, items) })
  local pick = table.remove(picks, 1)
  on_choice(pick and items[pick] or nil, pick)
end

local function notes()
  return table.concat(vim.fn.readfile(H.dir .. "/notes.txt"), "\n")
end

H.it("allow once runs the write, with the diff shown in the chat", function()
  picks = { 1 }
  vim.cmd("VictorChat write my notes")
  H.wait_turn()
  H.eq(1, #asked, "one approval asked")
  H.eq("victor.permission", asked[1].kind, "picker kind")
  H.eq("Victor: allow write notes.txt?", asked[1].prompt, "prompt")
  H.eq({ "allow_once", "allow_always", "reject" },
    vim.tbl_map(function(o) return o.optionId end, asked[1].items), "options")
  H.eq("approved", notes(), "file written")
  local text = H.text()
  H.contains(text, "> victor asks to run write notes.txt")
  H.contains(text, "+approved")
  H.contains(text, "wrote it")
end)

H.it("a closed picker rejects the edit and the turn goes on", function()
  picks = {}
  vim.cmd("VictorChat change them")
  H.wait_turn()
  H.eq(2, #asked, "asked again")
  H.eq("approved", notes(), "file untouched")
  H.contains(H.text(), "the edit was refused")
  H.contains(H.text(), "> tool `edit` error")
end)

H.finish()

-- :checkhealth victor lists the server's plugins: a package whose plugins fail to import shows
-- as errors naming the package and the reason.
local H = dofile(vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p")) .. "/helpers.lua")

H.workspace({})
-- tests/broken_plugins installed the way pip would: the package and a .dist-info folder
local site = H.dir .. "/site"
vim.fn.mkdir(site .. "/victor_broken_plugins-0.1.0.dist-info", "p")
vim.uv.fs_symlink(H.repo_root .. "/tests/broken_plugins/victor_broken_plugins", site .. "/victor_broken_plugins")
vim.fn.writefile({ "Metadata-Version: 2.1", "Name: victor-broken-plugins", "Version: 0.1.0" },
  site .. "/victor_broken_plugins-0.1.0.dist-info/METADATA")
vim.fn.writefile({ "[victor_server.prompt_contributors]", "broken_contributor = victor_broken_plugins:Contributor" },
  site .. "/victor_broken_plugins-0.1.0.dist-info/entry_points.txt")
H.setup({ PYTHONPATH = site .. ":" .. H.repo_root, VICTOR_TEST_BREAK = "import" })

H.it("checkhealth reports the failed plugin with its package", function()
  vim.cmd("checkhealth victor")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  H.contains(text, "server plugins", "the plugins section")
  H.contains(text, "prompt_contributors broken_contributor (victor-broken-plugins) failed at import",
    "the failed plugin")
  H.contains(text, "cannot be imported", "the reason")
end)

H.finish()

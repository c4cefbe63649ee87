--- :checkhealth victor
local M = {}

function M.check()
  local health = vim.health
  local config = require("victor.config").options
  health.start("victor.nvim")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.10 or newer is required")
  end

  local exe = config.cmd[1]
  if vim.fn.executable(exe) == 1 then
    health.ok(("server command: %s (%s)"):format(table.concat(config.cmd, " "), vim.fn.exepath(exe)))
    local out = vim.system({ exe, "--version" }, { text = true }):wait(10000)
    if out.code == 0 then
      health.ok("version: " .. vim.trim(out.stdout or ""))
    elseif exe == "victor-server" then
      health.warn("`victor-server --version` failed: " .. vim.trim(out.stderr or ""))
    end
  else
    health.error(("%q is not executable"):format(exe), {
      "pip install victor-server (it provides the victor-server command)",
      "or set opts.cmd in require('victor').setup()",
    })
  end

  local provider = config.cmd_env.VICTOR_PROVIDER or vim.env.VICTOR_PROVIDER or "anthropic"
  if provider == "anthropic" and not (config.cmd_env.ANTHROPIC_API_KEY or vim.env.ANTHROPIC_API_KEY) then
    health.warn("ANTHROPIC_API_KEY is not set: chat will answer 'provider unavailable' (-32002)",
      { "export ANTHROPIC_API_KEY, or choose a provider in .victor/config.yml" })
  else
    health.ok("provider: " .. provider)
  end

  local client = require("victor.client")
  health.info("workspace root: " .. client.root_dir())
  local running = client.get()
  if running then
    health.ok(("server running (client id %d)"):format(running.id))
  else
    health.info("server not started yet (it starts on the first :Victor command)")
  end
end

return M

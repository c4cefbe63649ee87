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
      "from a clone of victor-server: pipx install . (it provides the victor-server command)",
      "or set opts.cmd in require('victor').setup()",
    })
  end

  local client = require("victor.client")
  M.check_config(health, config, client)
  health.info("workspace root: " .. client.root_dir())
  local running = client.get()
  if running then
    health.ok(("server running (client id %d)"):format(running.id))
  else
    health.info("server not started yet (it starts on the first :Victor command)")
  end
end

--- The config the server uses: asked of the running server (victor/getConfig), else of
--- `victor-server config --json` run with the plugin's command and environment. nil, reason
--- when neither answers.
---@return table|nil, string|nil
function M.effective_config(config, client)
  local running = client.get()
  if running and running.initialized then
    local response
    if vim.fn.has("nvim-0.11") == 1 then
      response = running:request_sync("victor/getConfig", vim.empty_dict(), 10000)
    else
      response = running.request_sync("victor/getConfig", vim.empty_dict(), 10000)
    end
    if response and response.result then
      return response.result
    end
  end
  local cmd = client.command(client.root_dir())
  local at
  for i, arg in ipairs(cmd) do
    if arg == "lsp" and not at then
      at = i
    end
  end
  if not at then
    return nil, "opts.cmd names no `lsp` subcommand to swap for `config`"
  end
  cmd[at] = "config"
  table.insert(cmd, at + 1, "--json")
  local ok, proc = pcall(vim.system, cmd, { text = true, env = config.cmd_env, cwd = client.root_dir() })
  if not ok then
    return nil, tostring(proc)
  end
  local out = proc:wait(30000)
  local decoded, result = pcall(vim.json.decode, out.stdout or "")
  if not decoded or type(result) ~= "table" then
    return nil, vim.trim(out.stderr or "") ~= "" and vim.trim(out.stderr) or "no answer"
  end
  return result
end

--- Config errors, and the provider as the config resolves it (file, environment or default),
--- so a project that says `provider: scripted` gets no warning about an API key.
function M.check_config(health, config, client)
  local result, reason = M.effective_config(config, client)
  if not result then
    health.warn("could not read the server's config: " .. (reason or "unknown reason"))
    return
  end
  local errors = result.errors ~= vim.NIL and result.errors or {}
  for _, message in ipairs(errors) do
    health.warn("config: " .. message)
  end
  if #errors == 0 then
    health.ok("config: no errors")
  end
  local provider = result.config and result.config.provider or "anthropic"
  local source = result.sources and result.sources.provider or "default"
  local has_key = config.cmd_env.ANTHROPIC_API_KEY or vim.env.ANTHROPIC_API_KEY
  if provider == "anthropic" and not has_key then
    health.warn(("provider anthropic (from %s) and ANTHROPIC_API_KEY is not set: "
      .. "chat will answer 'provider unavailable' (-32002)"):format(source),
      { "export ANTHROPIC_API_KEY, or choose another provider (`provider: scripted` works offline)" })
  else
    health.ok(("provider: %s (from %s)"):format(provider, source))
  end
end

return M

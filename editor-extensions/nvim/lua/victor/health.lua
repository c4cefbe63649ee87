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
  if vim.fn.executable(exe) == 1 then
    M.check_plugins(config, client.root_dir())
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

--- The server command with its face (`lsp`) replaced by `plugins --json`.
local function plugins_cmd(cmd, root)
  local out = {}
  for _, part in ipairs(cmd) do
    if part == "lsp" then
      break
    end
    table.insert(out, part)
  end
  vim.list_extend(out, { "plugins", "--json", "--workspace", root })
  return out
end

--- Every installed extension (config providers, prompt contributors, strategies, exporters,
--- middleware, providers, tools): a failed one is an error naming its package and why.
function M.check_plugins(config, root)
  local health = vim.health
  health.start("victor.nvim: server plugins")
  local env = vim.tbl_extend("force", vim.fn.environ(), config.cmd_env or {})
  local ok, proc = pcall(vim.system, plugins_cmd(config.cmd, root), { text = true, env = env })
  if not ok then
    health.warn("could not run `victor-server plugins`: " .. tostring(proc))
    return
  end
  local out = proc:wait(60000)
  local decoded_ok, decoded = pcall(vim.json.decode, out.stdout or "")
  if not decoded_ok or type(decoded) ~= "table" or type(decoded.plugins) ~= "table" then
    health.warn("`victor-server plugins --json` gave no list: " .. vim.trim(out.stderr or ""))
    return
  end
  local counts = { active = 0, failed = 0, other = 0 }
  for _, p in ipairs(decoded.plugins) do
    if p.status == "failed" then
      counts.failed = counts.failed + 1
      health.error(("%s %s (%s) failed at %s: %s"):format(p.kind, p.name, p.package,
        tostring(p.stage), tostring(p.error)), {
        "fix or uninstall the package, or list it under plugins.disabled in .victor/config.yml",
      })
    elseif p.status == "shadowed" then
      health.warn(("%s %s (%s): %s"):format(p.kind, p.name, p.package, tostring(p.error)))
    elseif not p.builtin then
      health.ok(("%s %s (%s): %s"):format(p.kind, p.name, p.package, p.status))
    end
    if p.status == "active" then
      counts.active = counts.active + 1
    end
  end
  if counts.failed == 0 then
    health.ok(("%d extensions, %d active, none failed"):format(#decoded.plugins, counts.active))
  end
end

return M

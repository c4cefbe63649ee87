#!/usr/bin/env bash
# `make run`: a short demo of the server's core on embedded defaults (SQLite under .victor/),
# then how to connect an editor. With no ANTHROPIC_API_KEY the offline `scripted` provider is
# chosen explicitly, and said so: the server itself never falls back silently.
set -euo pipefail
if [ -z "${ANTHROPIC_API_KEY:-}" ] && [ -z "${VICTOR_PROVIDER:-}" ]; then
  export VICTOR_PROVIDER=scripted
  echo "No ANTHROPIC_API_KEY set: using the offline 'scripted' provider (VICTOR_PROVIDER=scripted)."
fi
# A throwaway workspace, removed on exit; VICTOR_DEMO_WORKSPACE names one to keep.
if [ -n "${VICTOR_DEMO_WORKSPACE:-}" ]; then
  workspace="$VICTOR_DEMO_WORKSPACE"
else
  workspace="$(mktemp -d "${TMPDIR:-/tmp}/victor-demo.XXXXXX")"
  trap 'rm -rf "$workspace"' EXIT
fi
mkdir -p "$workspace/.victor"
[ -f "$workspace/.victor/standards.md" ] || echo "Prefer small, well-named functions." > "$workspace/.victor/standards.md"
[ -f "$workspace/README.md" ] || echo "# demo project" > "$workspace/README.md"
echo "Workspace: $workspace  (store: $workspace/.victor/victor.db)"
[ -n "${VICTOR_DEMO_WORKSPACE:-}" ] || echo "(removed when the demo ends; set VICTOR_DEMO_WORKSPACE=DIR to keep one)"
echo
echo "$ victor-server chat 'Hello, Victor'"
victor-server --workspace "$workspace" chat "Hello, Victor"
echo
if [ "${VICTOR_PROVIDER:-}" = "scripted" ]; then
  echo "$ victor-server chat '/tool ls {}'   # the scripted provider asks for a tool"
  victor-server --workspace "$workspace" chat '/tool ls {}'
  echo
fi
echo "$ victor-server sessions list"
victor-server --workspace "$workspace" sessions list
echo
echo "$ victor-server analytics summary"
victor-server --workspace "$workspace" analytics summary
cat <<MSG

The server speaks JSON-RPC over stdio; editors start it themselves:
  victor-server lsp   # VS Code and Neovim extensions (editor-extensions/)
  victor-server mcp   # Claude Desktop / Claude Code and other MCP clients
  victor-server acp   # Zed, JetBrains, CodeCompanion, avante
See README.md for copy-paste set-up.
MSG

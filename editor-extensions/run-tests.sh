#!/usr/bin/env bash
# Run the editor-extension suites against the real victor-server (scripted provider and the
# fake Anthropic API from tests/support/fake_anthropic.py; no network beyond 127.0.0.1):
#   1. VS Code: tsc --noEmit over the whole extension, then node's test runner.
#   2. Neovim: each spec under nvim/spec in a headless nvim.
# VICTOR_SERVER_CMD overrides the server command (default: victor-server, else python -m victor_server).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
status=0

echo "== VS Code extension: type check and node tests"
(
  cd "$here/vscode" &&
    npx --no-install tsc -p . --noEmit &&
    npx --no-install tsc -p . &&
    node --test out/test/*.test.js
) || status=1

echo "== Neovim plugin: headless specs"
if command -v nvim >/dev/null 2>&1; then
  for spec in "$here"/nvim/spec/*_spec.lua; do
    echo "-- $(basename "$spec")"
    nvim --clean --headless -l "$spec" || status=1
  done
else
  echo "nvim not found: run editor-extensions/install-test-deps.sh" >&2
  status=1
fi
exit $status

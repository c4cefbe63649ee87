"""``victor-server --version`` names the server's version and each face's protocol versions, as
the libraries implementing the faces report them."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import acp
from lsprotocol.types import __lsp_version__
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from victor_server import __version__


def test_version_names_each_faces_protocol_versions() -> None:
    done = subprocess.run([sys.executable, "-m", "victor_server", "--version"],
                          capture_output=True, text=True, check=True, timeout=60)
    first, *faces = done.stdout.splitlines()
    assert first == f"victor-server {__version__}"
    assert done.stderr == ""
    lines = {line.split(":", 1)[0].strip(): line for line in faces}
    assert set(lines) == {"lsp", "mcp", "acp"}
    assert __lsp_version__.startswith("3.17")
    assert f"LSP {__lsp_version__}" in lines["lsp"] and version("pygls") in lines["lsp"]
    for served in (*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS):
        assert served in lines["mcp"]
    assert f"mcp {version('mcp')}" in lines["mcp"]
    assert f"ACP protocol version {acp.PROTOCOL_VERSION}" in lines["acp"]
    assert version("agent-client-protocol") in lines["acp"]


def test_version_comes_before_any_subcommand_work(tmp_path: Path) -> None:
    """``--version`` wins over a subcommand and touches no store."""
    done = subprocess.run([sys.executable, "-m", "victor_server", "--version", "lsp"],
                          capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert done.returncode == 0 and done.stdout.startswith("victor-server ")
    assert list(tmp_path.iterdir()) == []


def test_version_piped_into_head_ends_quietly() -> None:
    done = subprocess.run(f"'{sys.executable}' -m victor_server --version | head -1",
                          shell=True, capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("victor-server ") and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr

"""The MCP page's Python snippet, run as pasted, against the installed `victor-server` (it reads
ANTHROPIC_API_KEY from the environment, as a user's shell has it). The workspace's config picks
the offline provider, so no real API is called."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from server_env import server_env

MCP_DOC = Path(__file__).resolve().parent.parent / "docs" / "mcp.md"


def mcp_python_snippet() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", MCP_DOC.read_text(), re.MULTILINE | re.DOTALL)
    [snippet] = [b for b in blocks if "StdioServerParameters" in b]
    return snippet


def test_the_mcp_python_snippet_runs_as_pasted(workspace: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text("provider: scripted\n")
    (workspace / "snippet.py").write_text(mcp_python_snippet())
    env = server_env({"ANTHROPIC_API_KEY": "sk-ant-snippet-test",
                      # `victor-server` as installed next to this interpreter
                      "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                               os.environ.get("PATH", "")])})
    done = subprocess.run([sys.executable, "snippet.py"], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "you said 'What does main.py do?'" in done.stdout

"""The TypeScript ACP SDK (``@agentclientprotocol/sdk`` 2.x) as the client of ``victor-server acp``.

``tests/node_acp/acp_client.test.mjs`` holds the scenario; this wrapper starts the fake Anthropic
API, queues the model's replies, runs node and checks what reached the model. It runs when
``tests/node_acp/node_modules`` exists (``tests/node_acp/install.sh``, i.e. ``npm ci``) and node
is on PATH, and is skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, slow_text, text, tool_use

NODE_DIR = Path(__file__).with_name("node_acp")
SDK = NODE_DIR / "node_modules" / "@agentclientprotocol" / "sdk"

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(not SDK.is_dir(), reason="tests/node_acp/node_modules is missing: "
                       "run tests/node_acp/install.sh (npm ci)"),
]


def test_typescript_sdk_client_full_session(workspace: Path, fake: FakeAnthropic) -> None:
    fake.queue(slow_text(["Hello", " from", " node"], delay=0.01),
               tool_use("write", {"path": "notes.txt", "content": "from node\n"}),
               text("wrote it"),
               tool_use("edit", {"path": "notes.txt", "old": "from", "new": "to"}),
               text("left it"),
               slow_text([f"word{i} " for i in range(40)], delay=0.1))
    env = {**os.environ, **fake.env(), "VICTOR_PYTHON": sys.executable,
           "VICTOR_WORKSPACE": str(workspace.resolve())}
    env.pop("VICTOR_AUTH_TOKEN", None)
    run = subprocess.run(["node", "acp_client.test.mjs"], cwd=NODE_DIR, env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-4000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["replayed"] > 0

    denied = [b for r in fake.message_requests for m in r.body["messages"]
              if isinstance(m["content"], list) for b in m["content"]
              if b.get("type") == "tool_result" and b.get("is_error")]
    assert denied and denied[0]["content"] == "permission denied by the user"
    assert (workspace / "notes.txt").read_text() == "from node\n"

"""What a newcomer meets in the first hour: the README's Python example run as written, and a
CLI that stops quietly when its reader goes away."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from lsp_harness import server_env

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_python_example() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    [example] = [b for b in blocks if "AgentOrchestrator(" in b]
    return example


def test_readme_python_example_runs_and_exits_in_the_asyncio_repl(workspace: Path) -> None:
    example = readme_python_example()
    # typed into `python -m asyncio` line by line; the blank line ends the `async with` block
    repl = subprocess.run([sys.executable, "-m", "asyncio"], input=example + "\n",
                          cwd=workspace, capture_output=True, text=True,
                          env=server_env(), timeout=120, check=False)
    assert repl.returncode == 0, repl.stderr
    assert "scripted reply 1: you said 'Explain this repository'" in repl.stderr + repl.stdout
    assert "Traceback" not in repl.stderr
    assert (workspace / ".victor" / "victor.db").is_file()


def test_an_orchestrator_never_closed_does_not_hang_the_exit(workspace: Path) -> None:
    script = ("from victor_server.orchestrator import AgentOrchestrator\n"
              "from victor_server.providers.scripted import ScriptedProvider\n"
              "o = await AgentOrchestrator(workspace='.', provider=ScriptedProvider()).start()\n"
              "print((await o.chat('hi')).content)\n")
    repl = subprocess.run([sys.executable, "-m", "asyncio"], input=script, cwd=workspace,
                          capture_output=True, text=True, env=server_env(), timeout=120,
                          check=False)
    assert repl.returncode == 0, repl.stderr
    assert "you said 'hi'" in repl.stderr + repl.stdout


def test_export_into_a_closed_pipe_stops_quietly(workspace: Path) -> None:
    base = [sys.executable, "-m", "victor_server", "--workspace", str(workspace)]
    env = server_env({"VICTOR_PROVIDER": "scripted"})
    subprocess.run([*base, "chat", "hello"], env=env, capture_output=True, check=True,
                   timeout=120)
    for fmt in ("json", "csv"):
        # the reader is gone before the first byte is written: `... | head` at its harshest
        proc = subprocess.Popen([*base, "analytics", "export", "--format", fmt], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141
        assert stderr == ""

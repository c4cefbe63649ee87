"""Approvals on the MCP face, the model as the attacker: the real ``victor-server mcp`` over
stdio, the Python ``mcp`` SDK's client (its ClientSession) with and without an elicitation
callback. A client that declared elicitation is asked with a form; one that did not is never
asked, and the call is refused naming the config key that would allow it. The turn goes on
either way."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from fake_anthropic import FakeAnthropic, text, tool_use, tool_uses
from mcp import Client, StdioServerParameters, types
from mcp_face_harness import server_args, structured
from server_env import server_env

CONFIG = "tools:\n  bash: {enabled: true, allow: [touch, ls]}\n"


def params(workspace: Path, fake: FakeAnthropic) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable,
                                 args=server_args(workspace, workspace / "v.db"),
                                 env=server_env(fake.env()), cwd=str(workspace))


def tool_results(fake: FakeAnthropic) -> list[dict[str, Any]]:
    last = fake.message_requests[-1].body["messages"][-1]["content"]
    return [b for b in last if b.get("type") == "tool_result"]


async def test_elicitation_asks_and_remembers(workspace: Path, fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "config.yml").write_text(CONFIG)
    asked: list[types.ElicitRequestFormParams] = []
    answers = ["allow_always", "reject"]

    async def elicit(context: Any, request: Any) -> types.ElicitResult:
        asked.append(request)
        answer = answers.pop(0)
        return types.ElicitResult(action="accept", content={"decision": answer})

    fake.queue(tool_uses(("bash", {"command": "touch one.txt"}),
                         ("bash", {"command": "touch two.txt"}),
                         ("write", {"path": "three.txt", "content": "3"})),
               text("two of three"))
    async with Client(params(workspace, fake), read_timeout_seconds=60, mode="legacy",
                      elicitation_callback=elicit) as client:
        result = structured(await client.call_tool("chat", {"message": "make files"}))
    assert result["content"] == "two of three"
    assert (workspace / "one.txt").exists() and (workspace / "two.txt").exists()
    assert not (workspace / "three.txt").exists()
    assert len(asked) == 2  # touch two.txt ran on the remembered "touch" prefix
    first = asked[0]
    assert "touch one.txt" in first.message
    decision = first.requested_schema["properties"]["decision"]
    assert decision["enum"] == ["allow_once", "allow_always", "reject"]
    assert "+3" in asked[1].message  # the write's diff
    touched, _, written = tool_results(fake)
    assert not touched["is_error"]
    assert written["is_error"] and written["content"] == "permission denied by the user"


async def test_without_elicitation_ask_is_refused(workspace: Path, fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "config.yml").write_text(CONFIG)
    (workspace / "a.txt").write_text("keep\n")
    fake.queue(tool_uses(("write", {"path": "a.txt", "content": "pwned"}),
                         ("bash", {"command": "touch x.txt"}),
                         ("ls", {})),
               text("could only list"))
    async with Client(params(workspace, fake), read_timeout_seconds=60, mode="legacy") as client:
        result = structured(await client.call_tool("chat", {"message": "go"}))
    assert result["content"] == "could only list"
    written, touched, listed = tool_results(fake)
    assert written["is_error"] and "did not declare the elicitation capability" in \
        written["content"]
    assert "tools.approvals.write: allow" in written["content"]
    assert touched["is_error"] and 'tools.approvals.bash.allow: ["touch"]' in touched["content"]
    assert not listed["is_error"]
    assert (workspace / "a.txt").read_text() == "keep\n" and not (workspace / "x.txt").exists()



async def test_stateless_era_cannot_be_asked(workspace: Path, fake: FakeAnthropic) -> None:
    """2026-07-28 has no channel for a server request inside a tool call: refused, not hung."""
    asked: list[Any] = []

    async def elicit(context: Any, request: Any) -> types.ElicitResult:
        asked.append(request)
        return types.ElicitResult(action="accept", content={"decision": "allow_once"})

    fake.queue(tool_use("write", {"path": "b.txt", "content": "b"}), text("refused"))
    async with Client(params(workspace, fake), read_timeout_seconds=60, mode="2026-07-28",
                      elicitation_callback=elicit) as client:
        result = structured(await client.call_tool("chat", {"message": "write b"}))
    assert result["content"] == "refused" and asked == []
    (written,) = tool_results(fake)
    assert written["is_error"] and "stateless 2026-07-28 protocol" in written["content"]
    assert not (workspace / "b.txt").exists()

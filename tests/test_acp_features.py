"""What editors hosting agents over ACP rely on beyond a plain turn, driven by the ACP Python
SDK's own client against the loopback fake Anthropic API: slash commands, images in prompts,
ACP's own error codes, session modes and the editor's terminal."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from pathlib import Path
from typing import Any

import acp
import pytest
from acp import schema
from fake_anthropic import FakeAnthropic, text, tool_use, without_cache_marks
from test_acp import RecordingClient, new_session, spawned

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


async def wait_for_commands(client: RecordingClient) -> list[str]:
    for _ in range(200):
        updates = client.of(schema.AvailableCommandsUpdate)
        if updates:
            return [c.name for c in updates[-1].available_commands]
        await asyncio.sleep(0.05)
    raise AssertionError("no available_commands_update")


async def test_slash_commands_are_advertised_and_answered_without_the_model(
        workspace: Path, fake: FakeAnthropic) -> None:
    client = RecordingClient()
    fake.queue(text("first answer"), text("on the other model"))
    async with spawned(workspace, fake, client) as conn:
        sid = await new_session(conn, workspace)
        assert await wait_for_commands(client) == ["compact", "context", "tools", "model",
                                                   "help"]
        await conn.prompt(session_id=sid, prompt=[acp.text_block("hello")])
        asked = len(fake.message_requests)

        client.reset()
        done = await conn.prompt(session_id=sid, prompt=[acp.text_block("/context")])
        assert done.stop_reason == "end_turn"
        assert "messages" in client.said() and "tokens of a 200000-token window" in client.said()

        client.reset()
        await conn.prompt(session_id=sid, prompt=[acp.text_block("/tools read a file")])
        assert "`read`" in client.said()

        client.reset()
        await conn.prompt(session_id=sid, prompt=[acp.text_block("/compact 2")])
        assert "between 0 and 1" in client.said()

        client.reset()
        await conn.prompt(session_id=sid, prompt=[acp.text_block("/model claude-other-1")])
        assert "claude-other-1" in client.said()
        assert len(fake.message_requests) == asked  # none of the commands reached the model

        await conn.prompt(session_id=sid, prompt=[acp.text_block("and now?")])
        assert fake.message_requests[-1].body["model"] == "claude-other-1"
        # commands are not part of the conversation the model sees
        assert "/context" not in str(fake.message_requests[-1].body["messages"])


async def test_an_image_reaches_the_model_and_comes_back_on_load(
        workspace: Path, fake: FakeAnthropic) -> None:
    client = RecordingClient()
    fake.queue(text("a red dot"))
    async with spawned(workspace, fake, client) as conn:
        sid = await new_session(conn, workspace)
        image = schema.ImageContentBlock(type="image", mime_type="image/png", data=PNG)
        await conn.prompt(session_id=sid, prompt=[acp.text_block("what is this?"), image])
        sent = without_cache_marks(fake.message_requests[-1].body["messages"][0]["content"])
        assert sent[0] == {"type": "text", "text": "what is this?"}
        assert sent[1] == {"type": "image", "source": {"type": "base64",
                                                       "media_type": "image/png", "data": PNG}}
    replay = RecordingClient()
    async with spawned(workspace, fake, replay) as conn:
        await conn.load_session(cwd=str(workspace), session_id=sid, mcp_servers=[])
        images = [u.content for u in replay.of(schema.UserMessageChunk)
                  if isinstance(u.content, schema.ImageContentBlock)]
        assert [(i.mime_type, i.data) for i in images] == [("image/png", PNG)]


async def test_acp_codes_on_the_acp_face(workspace: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "VICTOR_"))}
    env["VICTOR_TOOL_SELECTION__STRATEGY"] = "keyword"
    async with acp.spawn_agent_process(
            RecordingClient(), sys.executable, "-m", "victor_server", "acp", "--workspace",
            str(workspace), env=env) as (conn, _process):
        await conn.initialize(protocol_version=1)
        sid = await new_session(conn, workspace)
        with pytest.raises(acp.RequestError) as no_key:
            await conn.prompt(session_id=sid, prompt=[acp.text_block("hi")])
        # no API key: ACP's "authentication required", with our code and reason in data
        assert no_key.value.code == -32000
        assert no_key.value.data["victorCode"] == -32002
        assert "ANTHROPIC_API_KEY" in no_key.value.data["reason"]
        with pytest.raises(acp.RequestError) as unknown:
            await conn.load_session(cwd=str(workspace), session_id="ghost", mcp_servers=[])
        assert unknown.value.code == -32002  # ACP's "resource not found"


async def test_session_modes_read_only_and_accept_edits(workspace: Path,
                                                        fake: FakeAnthropic) -> None:
    client = RecordingClient(answers=[])  # any permission request would be answered "no"
    fake.queue(tool_use("write", {"path": "plan.md", "content": "step 1"}), text("refused"),
               tool_use("write", {"path": "plan.md", "content": "step 1"}), text("written"))
    async with spawned(workspace, fake, client) as conn:
        created = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        sid = created.session_id
        assert created.modes is not None and created.modes.current_mode_id == "default"
        assert [m.id for m in created.modes.available_modes] == ["default", "accept_edits",
                                                                 "read_only"]

        await conn.set_session_mode(session_id=sid, mode_id="read_only")
        assert client.of(schema.CurrentModeUpdate)[-1].current_mode_id == "read_only"
        await conn.prompt(session_id=sid, prompt=[acp.text_block("write the plan")])
        refused = fake.message_requests[-1].body["messages"][-1]["content"][0]
        assert refused["is_error"] and "read-only mode" in str(refused["content"])
        assert not (workspace / "plan.md").exists() and not client.permission_requests

        await conn.set_session_mode(session_id=sid, mode_id="accept_edits")
        await conn.prompt(session_id=sid, prompt=[acp.text_block("write it now")])
        assert (workspace / "plan.md").read_text() == "step 1"
        assert not client.permission_requests  # edits accepted without asking

        with pytest.raises(acp.RequestError) as unknown:
            await conn.set_session_mode(session_id=sid, mode_id="yolo")
        assert unknown.value.code == -32602


class TerminalClient(RecordingClient):
    """An editor that offers terminal/*: it runs each command itself and records the calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self.out: dict[str, bytes] = {}

    async def create_terminal(self, command: str, session_id: str, args: list[str] | None = None,
                              env: list[Any] | None = None, cwd: str | None = None,
                              output_byte_limit: int | None = None,
                              **kwargs: Any) -> schema.CreateTerminalResponse:
        terminal_id = f"t{len(self.procs)}"
        self.calls.append(("create", {"command": command, "args": args, "cwd": cwd,
                                      "env": {v.name: v.value for v in env or []}}))
        self.procs[terminal_id] = await asyncio.create_subprocess_exec(
            command, *(args or []), cwd=cwd, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env={v.name: v.value for v in env or []})
        return schema.CreateTerminalResponse(terminal_id=terminal_id)

    async def wait_for_terminal_exit(self, session_id: str, terminal_id: str,
                                     **kwargs: Any) -> schema.WaitForTerminalExitResponse:
        proc = self.procs[terminal_id]
        assert proc.stdout is not None
        self.out[terminal_id] = await proc.stdout.read()
        return schema.WaitForTerminalExitResponse(exit_code=await proc.wait())

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.calls.append(("kill", terminal_id))
        self.procs[terminal_id].kill()

    async def terminal_output(self, session_id: str, terminal_id: str,
                              **kwargs: Any) -> schema.TerminalOutputResponse:
        proc = self.procs[terminal_id]
        status = (schema.TerminalExitStatus(exit_code=proc.returncode)
                  if proc.returncode is not None and proc.returncode >= 0 else None)
        return schema.TerminalOutputResponse(output=self.out.get(terminal_id, b"").decode(),
                                             truncated=False, exit_status=status)

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.calls.append(("release", terminal_id))


async def test_commands_run_in_the_editors_terminal(workspace: Path, fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "config.yml").write_text(
        "tools: {bash: {enabled: true, allow: [echo, sleep], timeout: 2},"
        " approvals: {bash: {allow: ['*']}}}\n")
    client = TerminalClient()
    fake.queue(tool_use("bash", {"command": "echo from the editor"}), text("seen"),
               tool_use("bash", {"command": "sleep 30"}), text("stopped"))
    async with acp.spawn_agent_process(
            client, sys.executable, "-m", "victor_server", "acp", "--workspace", str(workspace),
            env={**os.environ, **fake.env()}) as (conn, _process):
        await conn.initialize(protocol_version=1, client_capabilities=schema.ClientCapabilities(
            terminal=True))
        sid = await new_session(conn, workspace)
        await conn.prompt(session_id=sid, prompt=[acp.text_block("say hi")])
        ran = fake.message_requests[-1].body["messages"][-1]["content"][0]
        assert not ran["is_error"] and "from the editor" in str(ran["content"])
        kind, created = client.calls[0]
        assert kind == "create" and created["command"] == "echo"
        assert created["args"] == ["from", "the", "editor"]
        assert created["cwd"] == str(workspace)
        assert "ANTHROPIC_API_KEY" not in created["env"]  # the allow-listed environment
        assert client.calls[1] == ("release", "t0")
        shown = [c for u in client.of(schema.ToolCallProgress) for c in u.content or []
                 if isinstance(c, schema.TerminalToolCallContent)]
        assert [c.terminal_id for c in shown] == ["t0"]

        await conn.prompt(session_id=sid, prompt=[acp.text_block("wait a while")])
        stopped = fake.message_requests[-1].body["messages"][-1]["content"][0]
        assert stopped["is_error"] and "timed out after 2 s" in str(stopped["content"])
        assert client.calls[-2:] == [("kill", "t1"), ("release", "t1")]


async def test_the_models_plan_is_shown_as_a_plan(workspace: Path, fake: FakeAnthropic) -> None:
    steps = [{"content": "read the module", "status": "completed", "priority": "high"},
             {"content": "write the fix", "status": "in_progress"},
             {"content": "run the tests", "status": "pending"}]
    client = RecordingClient()
    fake.queue(tool_use("plan", {"entries": steps}), text("working on it"))
    async with spawned(workspace, fake, client) as conn:
        sid = await new_session(conn, workspace)
        await conn.prompt(session_id=sid, prompt=[acp.text_block("fix the parser, with tests")])
        plans = client.of(schema.AgentPlanUpdate)
        assert [(e.content, e.status, e.priority) for e in plans[-1].entries] == [
            ("read the module", "completed", "high"), ("write the fix", "in_progress", "medium"),
            ("run the tests", "pending", "medium")]
        assert not client.of(schema.ToolCallStart)  # a plan, not a tool card
        sent = fake.message_requests[-1].body["messages"][-1]["content"][0]
        assert "[x] read the module" in str(sent["content"])
    replay = RecordingClient()
    async with spawned(workspace, fake, replay) as conn:
        await conn.load_session(cwd=str(workspace), session_id=sid, mcp_servers=[])
        assert len(replay.of(schema.AgentPlanUpdate)) == 1
        assert not replay.of(schema.ToolCallStart)

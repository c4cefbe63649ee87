"""What editors hosting agents over ACP rely on beyond a plain turn, driven by the ACP Python
SDK's own client against the loopback fake Anthropic API: slash commands, images in prompts,
and ACP's own error codes."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import acp
import pytest
from acp import schema
from fake_anthropic import FakeAnthropic, text, tool_use
from test_acp import RecordingClient, new_session, spawned

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


async def wait_for_commands(client: RecordingClient) -> list[str]:
    import asyncio

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
        sent = fake.message_requests[-1].body["messages"][0]["content"]
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

"""``victor-server acp`` driven by the ACP Python SDK's own client (``acp.spawn_agent_process``)
against the loopback fake Anthropic API: streaming, permissions (granted, rejected, "always"
remembered across processes), cancel mid-stream, load in a fresh process, the editor's file
system and MCP servers passed in ``session/new``."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import acp
import pytest
import pytest_asyncio
from acp import schema
from fake_anthropic import FakeAnthropic, slow_text, text, tool_use, without_cache_marks

# One event loop for the module, so one server process can serve several tests: each spawn
# costs seconds of imports on a busy machine.
pytestmark = pytest.mark.asyncio(loop_scope="module")

MCP_ECHO = str(Path(__file__).parent / "support" / "mcp_echo_server.py")


class RecordingClient:
    """An ACP client that records updates and answers permission requests from a script."""

    def __init__(self, answers: list[str] | None = None,
                 files: dict[str, str] | None = None) -> None:
        self.updates: list[Any] = []
        self.permission_requests: list[schema.RequestPermissionRequest] = []
        self.answers = list(answers or [])
        self.files = files  # when set, the client offers fs/* backed by this dict
        self.first_chunk = asyncio.Event()

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)
        if isinstance(update, schema.AgentMessageChunk):
            self.first_chunk.set()

    async def request_permission(self, session_id: str, tool_call: schema.ToolCallUpdate,
                                 options: list[schema.PermissionOption],
                                 **kwargs: Any) -> schema.RequestPermissionResponse:
        self.permission_requests.append(schema.RequestPermissionRequest(
            session_id=session_id, tool_call=tool_call, options=options))
        choice = self.answers.pop(0)
        return schema.RequestPermissionResponse(
            outcome=schema.AllowedOutcome(outcome="selected", option_id=choice))

    async def read_text_file(self, session_id: str, path: str, **kwargs: Any) \
            -> schema.ReadTextFileResponse:
        assert self.files is not None
        if path not in self.files:
            raise acp.RequestError.resource_not_found(path)
        return schema.ReadTextFileResponse(content=self.files[path])

    async def write_text_file(self, session_id: str, path: str, content: str,
                              **kwargs: Any) -> schema.WriteTextFileResponse:
        assert self.files is not None
        self.files[path] = content
        return schema.WriteTextFileResponse()

    def reset(self, answers: list[str] | None = None) -> None:
        self.updates.clear()
        self.permission_requests.clear()
        self.answers = list(answers or [])
        self.first_chunk.clear()

    def of(self, kind: type) -> list[Any]:
        return [u for u in self.updates if isinstance(u, kind)]

    def said(self) -> str:
        return "".join(u.content.text for u in self.of(schema.AgentMessageChunk))


@asynccontextmanager
async def spawned(workspace: Path, fake: FakeAnthropic, client: RecordingClient) \
        -> AsyncIterator[acp.ClientSideConnection]:
    env = {**os.environ, **fake.env()}
    env.pop("VICTOR_AUTH_TOKEN", None)
    async with acp.spawn_agent_process(
            client, sys.executable, "-m", "victor_server", "acp", "--workspace", str(workspace),
            "--db", str(workspace / "acp.db"), env=env) as (conn, _process):
        fs = schema.FileSystemCapabilities(read_text_file=client.files is not None,
                                           write_text_file=client.files is not None)
        answer = await conn.initialize(protocol_version=1, client_capabilities=(
            schema.ClientCapabilities(fs=fs)))
        assert answer.protocol_version == 1
        yield conn


async def new_session(conn: acp.ClientSideConnection, workspace: Path,
                      mcp_servers: list[Any] | None = None) -> str:
    created = await conn.new_session(cwd=str(workspace), mcp_servers=mcp_servers or [])
    return created.session_id


@dataclass
class Shared:
    """One ``victor-server acp`` process with one client, reused by the tests below."""

    conn: acp.ClientSideConnection
    client: RecordingClient
    fake: FakeAnthropic
    workspace: Path

    def fresh(self, answers: list[str] | None = None) -> Shared:
        self.client.reset(answers)
        self.fake.reset()
        return self


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shared]:
    workspace = tmp_path_factory.mktemp("acp") / "project"
    workspace.mkdir()
    client = RecordingClient()
    with FakeAnthropic() as fake:
        async with spawned(workspace, fake, client) as conn:
            yield Shared(conn, client, fake, workspace)


@pytest.fixture
def shared(shared_server: Shared) -> Shared:
    return shared_server.fresh()


async def test_initialize_streams_and_lists(shared: Shared) -> None:
    conn, client, fake, workspace = shared.conn, shared.client, shared.fake, shared.workspace
    fake.queue(slow_text(["Hello", " from", " the", " fake"], delay=0.01))
    caps = (await conn.initialize(protocol_version=1)).agent_capabilities
    assert caps is not None and caps.load_session
    assert caps.prompt_capabilities is not None and caps.prompt_capabilities.embedded_context
    assert caps.session_capabilities is not None and caps.session_capabilities.list is not None
    created = await conn.new_session(cwd=str(workspace), mcp_servers=[])
    assert created.config_options and created.config_options[0].id == "model"
    done = await conn.prompt(session_id=created.session_id, prompt=[acp.text_block("say hello")])
    listed = await conn.list_sessions(cwd=str(workspace))
    elsewhere = await conn.list_sessions(cwd=str(workspace.parent))

    assert done.stop_reason == "end_turn"
    assert done.usage is not None and done.usage.total_tokens > 0
    chunks = client.of(schema.AgentMessageChunk)
    assert len(chunks) == 4 and client.said() == "Hello from the fake"
    usage = client.of(schema.UsageUpdate)
    assert usage and usage[-1].used > 0 and usage[-1].size == 200000
    assert created.session_id in [s.session_id for s in listed.sessions]
    assert listed.sessions[0].cwd == str(workspace.resolve())
    assert elsewhere.sessions == []


async def test_model_choice_reaches_the_model(shared: Shared) -> None:
    conn, fake = shared.conn, shared.fake
    sid = await new_session(conn, shared.workspace)
    changed = await conn.set_config_option(config_id="model", session_id=sid,
                                           value="claude-haiku-4-5")
    assert changed is not None and changed.config_options[0].current_value == "claude-haiku-4-5"
    await conn.prompt(session_id=sid, prompt=[acp.text_block("which model?")])
    assert fake.last_request.body["model"] == "claude-haiku-4-5"


async def test_permission_granted_then_rejected(shared: Shared) -> None:
    conn, fake, workspace = shared.conn, shared.fake, shared.workspace
    client = shared.fresh(answers=["allow_once", "reject_once"]).client
    fake.queue(tool_use("write", {"path": "notes.txt", "content": "first\n"}), text("wrote it"),
               tool_use("edit", {"path": "notes.txt", "old": "first", "new": "second"}),
               text("could not edit"))
    sid = await new_session(conn, workspace)
    granted = await conn.prompt(session_id=sid, prompt=[acp.text_block("write notes")])
    assert (workspace / "notes.txt").read_text() == "first\n"
    rejected = await conn.prompt(session_id=sid, prompt=[acp.text_block("edit notes")])
    assert granted.stop_reason == rejected.stop_reason == "end_turn"
    assert (workspace / "notes.txt").read_text() == "first\n"  # the rejected edit changed nothing

    asked = client.permission_requests
    assert [r.tool_call.title for r in asked] == ["Write notes.txt", "Edit notes.txt"]
    assert [o.kind for o in asked[0].options] == ["allow_once", "allow_always", "reject_once"]
    assert asked[0].options[1].name == "Always allow every write call in this workspace"
    assert asked[0].tool_call.status == "pending"
    proposed = asked[0].tool_call.content[0]
    assert proposed.type == "diff" and proposed.new_text == "first\n"

    # pending while the user decides; in progress only once allowed
    started = client.of(schema.ToolCallStart)
    assert [(s.kind, s.status) for s in started] == [("edit", "pending")] * 2
    assert started[0].locations[0].path == str(workspace.resolve() / "notes.txt")
    assert asked[0].tool_call.tool_call_id == started[0].tool_call_id
    finished = client.of(schema.ToolCallProgress)
    assert [f.status for f in finished] == ["in_progress", "completed", "failed"]
    diff = finished[1].content[0]
    assert diff.type == "diff" and diff.new_text == "first\n" and diff.old_text is None

    results = [b for b in without_cache_marks(fake.last_request.body["messages"][-1]["content"])
               if b.get("type") == "tool_result"]
    assert results == [{"type": "tool_result", "tool_use_id": started[1].tool_call_id,
                        "content": "permission denied by the user", "is_error": True}]


async def test_cancel_mid_stream(shared: Shared) -> None:
    conn, client, fake = shared.conn, shared.client, shared.fake
    fake.queue(slow_text([f"word{i} " for i in range(40)], delay=0.1))
    sid = await new_session(conn, shared.workspace)
    turn = asyncio.create_task(conn.prompt(session_id=sid,
                                           prompt=[acp.text_block("talk slowly")]))
    await asyncio.wait_for(client.first_chunk.wait(), 30)
    await conn.cancel(session_id=sid)
    cancelled = await asyncio.wait_for(turn, 30)
    said = client.said()
    after = await conn.prompt(session_id=sid, prompt=[acp.text_block("still there?")])
    assert cancelled.stop_reason == "cancelled"
    # the cancelled request was billed for what it sent: its usage says so, not all zeros
    sent = fake.message_requests[-2].usage
    assert cancelled.usage is not None and sent is not None
    assert cancelled.usage.input_tokens == sent[0] > 0
    assert said.startswith("word0") and "word39" not in said
    assert after.stop_reason == "end_turn"
    assert client.said().endswith("echo: still there?")


async def test_session_new_mcp_servers_become_tools(shared: Shared) -> None:
    conn, client, fake = shared.conn, shared.client, shared.fake
    server = schema.McpServerStdio(name="echo", command=sys.executable, args=[MCP_ECHO],
                                   env=[])
    fake.queue(tool_use("echo__echo", {"text": "ping"}), text("pong"))
    sid = await new_session(conn, shared.workspace, [server])
    await conn.prompt(session_id=sid, prompt=[acp.text_block("echo ping please")])
    offered = [t["name"] for t in fake.message_requests[0].body.get("tools") or []]
    assert "echo__echo" in offered
    finished = client.of(schema.ToolCallProgress)
    assert [f.status for f in finished] == ["in_progress", "completed"]  # read-only: not asked
    assert finished[1].content[0].content.text == "echo: ping"


async def test_embedded_context_and_unknown_session(shared: Shared) -> None:
    conn, fake = shared.conn, shared.fake
    resource = acp.resource_block(acp.embedded_text_resource("file:///x/main.py", "print(1)"))
    sid = await new_session(conn, shared.workspace)
    await conn.prompt(session_id=sid, prompt=[acp.text_block("explain"), resource])
    with pytest.raises(acp.RequestError) as missing:
        await conn.prompt(session_id="nope", prompt=[acp.text_block("hi")])
    with pytest.raises(acp.RequestError) as unknown:
        await conn.load_session(cwd=str(shared.workspace), session_id="nope", mcp_servers=[])
    sent = fake.message_requests[0].body["messages"][0]["content"]
    assert sent[0] == {"type": "text", "text": "explain"}
    assert sent[1]["text"].startswith('<context uri="file:///x/main.py">')
    assert "print(1)" in sent[1]["text"]
    # ACP's own "resource not found"; our code rides along in data
    assert missing.value.code == unknown.value.code == -32002
    assert missing.value.data["victorCode"] == unknown.value.data["victorCode"] == -32001


async def test_allow_always_is_remembered_and_load_replays(workspace: Path,
                                                           fake: FakeAnthropic) -> None:
    first = RecordingClient(answers=["allow_always"])
    fake.queue(tool_use("write", {"path": "a.txt", "content": "a"}, text_before="Writing."),
               text("Done with a."))
    async with spawned(workspace, fake, first) as conn:
        sid = await new_session(conn, workspace)
        await conn.prompt(session_id=sid, prompt=[acp.text_block("write a")])
    assert len(first.permission_requests) == 1

    second = RecordingClient(answers=[])  # any permission request would fail the turn
    fake.queue(tool_use("write", {"path": "b.txt", "content": "b"}), text("Done with b."))
    async with spawned(workspace, fake, second) as conn:
        loaded = await conn.load_session(cwd=str(workspace), session_id=sid, mcp_servers=[])
        replayed = list(second.updates)
        second.updates.clear()
        done = await conn.prompt(session_id=sid, prompt=[acp.text_block("write b")])
    assert loaded is not None and loaded.config_options
    kinds = [type(u).__name__ for u in replayed]
    assert kinds == ["UserMessageChunk", "AgentMessageChunk", "ToolCallStart",
                     "ToolCallProgress", "AgentMessageChunk", "UsageUpdate",
                     "AvailableCommandsUpdate"]
    assert replayed[0].content.text == "write a"
    assert replayed[2].title == "Write a.txt" and replayed[3].status == "completed"
    assert replayed[4].content.text == "Done with a."

    assert done.stop_reason == "end_turn" and second.permission_requests == []
    assert (workspace / "b.txt").read_text() == "b"
    # the fresh process sent the whole earlier conversation to the model
    sent = fake.message_requests[-2].body["messages"]
    assert sent[0]["content"] == "write a" or sent[0]["content"][0]["text"] == "write a"


@pytest.fixture
def real_workspace(workspace: Path) -> Path:
    return workspace.resolve()


async def test_file_tools_use_the_editor_buffers(real_workspace: Path,
                                                 fake: FakeAnthropic) -> None:
    workspace = real_workspace
    target = str(workspace / "buffer.py")
    client = RecordingClient(answers=["allow_once"], files={target: "x = 1  # unsaved\n"})
    fake.queue(tool_use("read", {"path": "buffer.py"}),
               tool_use("edit", {"path": "buffer.py", "old": "x = 1", "new": "x = 2"}),
               text("edited"))
    async with spawned(workspace, fake, client) as conn:
        sid = await new_session(conn, workspace)
        await conn.prompt(session_id=sid, prompt=[acp.text_block("bump x")])
    assert client.files == {target: "x = 2  # unsaved\n"}
    assert not (workspace / "buffer.py").exists()  # the edit landed in the editor, not on disk
    read_result = fake.message_requests[1].body["messages"][-1]["content"][0]
    assert "unsaved" in str(read_result["content"])

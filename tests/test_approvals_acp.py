"""Approvals on the ACP face, the model as the attacker, two tenants on one ``victor-server acp``
process (the ACP SDK's own client, tokens as ``_meta.authToken``): a tool call is ``pending``
while ``session/request_permission`` waits and ``in_progress`` only once allowed; "always allow"
for a bash command keeps that command's prefix for that tenant only; a denied command is never
asked about; a rejection is a tool error and the turn goes on."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import acp
from acp import schema
from fake_anthropic import FakeAnthropic, text, tool_use
from tenancy_setup import ACME, GLOBEX, write_config

TOOLS = """
tools:
  bash: {enabled: true, allow: [ls, echo, rm]}
  approvals:
    bash: {deny: [rm]}
"""


class ScriptedClient:
    """Answers permission requests from a script and records every update."""

    def __init__(self) -> None:
        self.updates: list[Any] = []
        self.asked: list[schema.ToolCallUpdate] = []
        self.options: list[list[schema.PermissionOption]] = []
        self.answers: list[str] = []

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)

    async def request_permission(self, session_id: str, tool_call: schema.ToolCallUpdate,
                                 options: list[schema.PermissionOption],
                                 **kwargs: Any) -> schema.RequestPermissionResponse:
        self.asked.append(tool_call)
        self.options.append(options)
        # what the editor shows at this moment: the call's latest reported status
        return schema.RequestPermissionResponse(outcome=schema.AllowedOutcome(
            outcome="selected", option_id=self.answers.pop(0)))

    def statuses(self, tool_call_id: str) -> list[str | None]:
        return [u.status for u in self.updates
                if isinstance(u, schema.ToolCallStart | schema.ToolCallProgress)
                and u.tool_call_id == tool_call_id]


def commands_asked(client: ScriptedClient) -> list[str]:
    return [str((a.raw_input or {}).get("command")) for a in client.asked]


def last_results(fake: FakeAnthropic) -> list[dict[str, Any]]:
    content = fake.message_requests[-1].body["messages"][-1]["content"]
    return [b for b in content if b.get("type") == "tool_result"]


async def test_pending_status_and_always_allow_per_prefix_and_tenant(
        workspace: Path, fake: FakeAnthropic) -> None:
    config = write_config(workspace)
    config.write_text(config.read_text() + TOOLS)
    (workspace / "src").mkdir()
    env = {**os.environ, **fake.env(), "VICTOR_TOOL_SELECTION__STRATEGY": "keyword"}
    env.pop("VICTOR_AUTH_TOKEN", None)
    client = ScriptedClient()
    cwd = str(workspace)
    async with acp.spawn_agent_process(client, sys.executable, "-m", "victor_server", "acp",
                                       "--workspace", cwd, env=env) as (conn, _process):
        await conn.initialize(protocol_version=1)
        acme = (await conn.new_session(cwd=cwd, mcp_servers=[], authToken=ACME)).session_id
        globex = (await conn.new_session(cwd=cwd, mcp_servers=[], authToken=GLOBEX)).session_id

        async def turn(session: str, token: str, command: str, answers: list[str]) -> None:
            client.answers = answers
            fake.queue(tool_use("bash", {"command": command}), text("next"))
            done = await conn.prompt(session_id=session, prompt=[acp.text_block(command)],
                                     authToken=token)
            assert done.stop_reason == "end_turn"  # a refusal never ends the turn

        await turn(acme, ACME, "ls -a", ["allow_always"])
        first = client.asked[0]
        assert first.status == "pending"
        assert [o.option_id for o in client.options[0]] == ["allow_once", "allow_always",
                                                            "reject_once"]
        assert client.options[0][1].name == \
            "Always allow bash commands starting with `ls` in this workspace"
        assert client.statuses(first.tool_call_id) == ["pending", "in_progress", "completed"]

        await turn(acme, ACME, "ls src", [])            # remembered for acme: not asked
        await turn(acme, ACME, "echo hi", ["reject_once"])  # another prefix: asked
        rejected = client.asked[-1].tool_call_id
        assert client.statuses(rejected) == ["pending", "failed"]
        assert last_results(fake)[0]["content"] == "permission denied by the user"
        await turn(globex, GLOBEX, "ls -a", ["reject_once"])  # another tenant: asked
        await turn(acme, ACME, "rm -rf src", [])        # denied by config: never asked
        assert 'tools.approvals.bash.deny: "rm"' in last_results(fake)[0]["content"]
        assert (workspace / "src").is_dir()
        assert commands_asked(client) == ["ls -a", "echo hi", "ls -a"]

"""Tool uses of one assistant message: read-only ones run together, the rest one at a time.

The orchestrator runs in process with the real anthropic SDK against the loopback fake, and with
probe tools that log when they start and end. The evidence is ordering, never timing: the four
read-only probes each wait until all four have started (a sequential loop would never get
there: the wait is only a guard so such a bug fails instead of hanging), they finish in the
reverse of the order asked, and the results still go back to the model in the order asked. The
two writing tools run one after the other, each asked for permission just before it runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fake_anthropic import FakeAnthropic, text, tool_uses

from victor_server.orchestrator import AgentOrchestrator
from victor_server.providers.anthropic import AnthropicProvider
from victor_server.settings import Settings
from victor_server.tools.approvals import ApprovalRequest
from victor_server.tools.base import ToolContext, ToolResult, ToolSpec
from victor_server.tools.coordinator import ToolCoordinator

READERS = ("probe_a", "probe_b", "probe_c", "probe_d")
GUARD_S = 30.0  # only reached when the readers run one at a time


class Probes:
    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.started = 0
        self.all_started = asyncio.Event()
        self.ended = {name: asyncio.Event() for name in READERS}


class ReadProbe:
    def __init__(self, name: str, probes: Probes) -> None:
        self.spec = ToolSpec(name, f"read-only probe {name}", writes=False)
        self.probes = probes

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        p, name = self.probes, self.spec.name
        p.log.append(("start", name))
        p.started += 1
        if p.started == len(READERS):
            p.all_started.set()
        try:
            await asyncio.wait_for(p.all_started.wait(), GUARD_S)
        except TimeoutError:
            p.log.append(("never all started", name))
        later = READERS.index(name) + 1
        if later < len(READERS):  # finish after the one asked after this one
            await p.ended[READERS[later]].wait()
        p.log.append(("end", name))
        p.ended[name].set()
        return ToolResult(f"result of {name}")


class WriteProbe:
    def __init__(self, name: str, probes: Probes) -> None:
        self.spec = ToolSpec(name, f"writing probe {name}", writes=True)
        self.probes = probes

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        self.probes.log.append(("start", self.spec.name))
        await asyncio.sleep(0)
        self.probes.log.append(("end", self.spec.name))
        return ToolResult(f"result of {self.spec.name}")


async def test_read_only_tools_run_together_writes_one_by_one(
        workspace: Path, fake: FakeAnthropic) -> None:
    probes = Probes()
    tools: list[Any] = [ReadProbe(n, probes) for n in READERS]
    tools += [WriteProbe("write_one", probes), WriteProbe("write_two", probes)]
    asked = [*READERS, "write_one", "write_two"]
    fake.queue(tool_uses(*((name, {}) for name in asked)), text("done"))

    async def approve(request: ApprovalRequest) -> str:
        probes.log.append(("ask", request.spec.name))
        return "allow_once"

    provider = AnthropicProvider(api_key="test-key", base_url=fake.base_url)
    orchestrator = AgentOrchestrator(
        Settings(tool_selection={"strategy": "all"}),
        provider, workspace=workspace,
        tool_coordinator=ToolCoordinator(workspace, tools=tools, load_plugins=False))
    await orchestrator.start()
    try:
        result = await orchestrator.chat("probe everything", ask_permission=approve)
    finally:
        await orchestrator.close()
        await provider.aclose()

    assert result.content == "done"
    log = probes.log
    reads = log[:2 * len(READERS)]
    assert {e for e, _ in reads[:len(READERS)]} == {"start"}  # all four started before any end
    assert [n for e, n in reads if e == "end"] == list(reversed(READERS))
    assert log[2 * len(READERS):] == [("ask", "write_one"), ("start", "write_one"),
                                      ("end", "write_one"), ("ask", "write_two"),
                                      ("start", "write_two"), ("end", "write_two")]
    assert [c.name for c in result.tool_calls] == asked
    *_, assistant, results = fake.last_request.body["messages"]
    asked_ids = [b["id"] for b in assistant["content"] if b["type"] == "tool_use"]
    sent = results["content"]
    assert [c.id for c in result.tool_calls] == asked_ids
    assert [b["tool_use_id"] for b in sent] == asked_ids
    assert [b["content"] for b in sent] == [f"result of {n}" for n in asked]


async def test_a_read_after_a_write_waits_for_it(workspace: Path, fake: FakeAnthropic) -> None:
    """Read-only uses on either side of a write are not merged: later reads see its effect."""
    log: list[str] = []

    class Read:
        def __init__(self, name: str) -> None:
            self.spec = ToolSpec(name, "read", writes=False)

        async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
            log.append(self.spec.name)
            return ToolResult(self.spec.name)

    class Write(Read):
        def __init__(self) -> None:
            self.spec = ToolSpec("put", "write", writes=True)

    fake.queue(tool_uses(("before", {}), ("put", {}), ("after", {})), text("ok"))
    provider = AnthropicProvider(api_key="test-key", base_url=fake.base_url)
    orchestrator = AgentOrchestrator(
        Settings(tool_selection={"strategy": "all"}, tools={"approvals": {"put": "allow"}}),
        provider, workspace=workspace,
        tool_coordinator=ToolCoordinator(workspace, tools=[Read("before"), Write(),
                                                           Read("after")], load_plugins=False))
    await orchestrator.start()
    try:
        await orchestrator.chat("go")
    finally:
        await orchestrator.close()
        await provider.aclose()
    assert log == ["before", "put", "after"]


async def test_read_only_tools_the_user_is_asked_about_run_one_by_one(
        workspace: Path, fake: FakeAnthropic) -> None:
    """``tools.approvals`` can make a read-only tool ``ask``: such calls are not run side by
    side, so the user gets one question at a time."""
    log: list[str] = []

    class Read:
        def __init__(self, name: str) -> None:
            self.spec = ToolSpec(name, "read", writes=False)

        async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
            log.append(f"run {self.spec.name}")
            await asyncio.sleep(0)
            log.append(f"done {self.spec.name}")
            return ToolResult(self.spec.name)

    async def approve(request: ApprovalRequest) -> str:
        log.append(f"ask {request.spec.name}")
        return "allow_once"

    fake.queue(tool_uses(("secret_a", {}), ("secret_b", {})), text("ok"))
    provider = AnthropicProvider(api_key="test-key", base_url=fake.base_url)
    orchestrator = AgentOrchestrator(
        Settings(tool_selection={"strategy": "all"},
                 tools={"approvals": {"secret_*": "ask"}}),
        provider, workspace=workspace,
        tool_coordinator=ToolCoordinator(workspace, tools=[Read("secret_a"), Read("secret_b")],
                                         load_plugins=False))
    await orchestrator.start()
    try:
        await orchestrator.chat("go", ask_permission=approve)
    finally:
        await orchestrator.close()
        await provider.aclose()
    assert log == ["ask secret_a", "run secret_a", "done secret_a",
                   "ask secret_b", "run secret_b", "done secret_b"]

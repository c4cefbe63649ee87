"""What every compaction guarantees, whatever strategy (built-in or plugin) chose the messages.

``enforce`` maps a strategy's answer back onto the original conversation and restores the rules:
pinned and system messages, the current request and the newest unit are kept; a tool pair is kept
whole when the strategy kept either half; messages the strategy made up (a summary) stay where it
put them, relative to the originals; then ``units.repair`` fixes roles and the start.

``fit`` makes the result fit a hard token limit (the window minus system prompt and tool schemas)
when a strategy overshoots: it drops the oldest whole turns that hold nothing pinned, then older
units of the current turn, and as a last resort shortens the longest texts and tool results,
saying so in the text. Nothing here mutates a caller's message.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from victor_server.context.units import Unit, protected_units, repair, split_units, turn_starts
from victor_server.messages import Block, Message

Counter = Callable[[Message], int]
_MIN_CHARS = 400


def enforce(original: list[Message], returned: list[Message]) -> list[Message]:
    by_id = {id(m): i for i, m in enumerate(original)}
    by_seq = {m.seq: i for i, m in enumerate(original) if m.seq is not None}
    units = split_units(original)
    unit_of = {i: k for k, u in enumerate(units) for i in u.indices()}
    kept_units = set(protected_units(original, units))
    made_up: dict[int, list[Message]] = {}  # anchor unit (-1: the front) -> new messages
    anchor = -1
    for message in returned:
        index = by_id.get(id(message))
        if index is None and message.seq is not None and message.seq in by_seq \
                and original[by_seq[message.seq]].role == message.role:
            index = by_seq[message.seq]
        if index is None:
            made_up.setdefault(anchor, []).append(message)
        else:
            anchor = unit_of[index]
            kept_units.add(anchor)
    out = list(made_up.get(-1, []))
    for k in sorted(kept_units):
        out.extend(original[i] for i in units[k].indices())
        out.extend(made_up.get(k, []))
    return repair(out)


def _drop_order(messages: list[Message], units: list[Unit]) -> list[int]:
    """Units in the order ``fit`` gives them up: oldest turns without a pinned unit first, then
    the remaining unprotected units oldest first."""
    protected = protected_units(messages, units)
    starts = [*turn_starts(units), len(units)]
    order: list[int] = []
    for a, b in itertools.pairwise(starts[:-1]):  # every turn but the last
        if not any(k in protected for k in range(a, b)):
            order.extend(range(a, b))
    order.extend(k for k in range(len(units)) if k not in protected and k not in order)
    return order


def _shorten(block: Block, keep: int) -> Block:
    if block.get("type") == "text":
        text = str(block.get("text", ""))
        return {**block, "text": f"{text[:keep]}\n[... {len(text) - keep} characters cut to fit "
                                 "the context window]"}
    content = block.get("content", "")
    text = content if isinstance(content, str) else "\n".join(
        str(c.get("text", "")) for c in content if isinstance(c, dict))
    return {**block, "content": f"{text[:keep]}\n[... {len(text) - keep} characters cut to fit "
                                "the context window]"}


def _longest_block(messages: list[Message]) -> tuple[int, int, int] | None:
    best: tuple[int, int, int] | None = None
    for i, m in enumerate(messages):
        for j, block in enumerate(m.blocks()):
            if block.get("type") not in ("text", "tool_result"):
                continue
            size = len(Message("user", [block]).text())
            if size > _MIN_CHARS * 2 and (best is None or size > best[2]):
                best = (i, j, size)
    return best


def fit(messages: list[Message], limit: int, count: Counter) -> tuple[list[Message], str | None]:
    """``messages`` made to count at most ``limit`` tokens, and a note when anything was cut."""
    total = sum(count(m) for m in messages)
    if total <= limit:
        return messages, None
    units = split_units(messages)
    unit_tokens = [sum(count(messages[i]) for i in u.indices()) for u in units]
    dropped: set[int] = set()
    for k in _drop_order(messages, units):
        if total <= limit:
            break
        dropped.add(k)
        total -= unit_tokens[k]
    out = repair([messages[i] for k, u in enumerate(units) if k not in dropped
                  for i in u.indices()])
    note = f"dropped {len(dropped)} more units to fit {limit} tokens" if dropped else None
    total = sum(count(m) for m in out)
    cuts = 0
    while total > limit and (spot := _longest_block(out)) is not None:
        i, j, size = spot
        excess_chars = int((total - limit) * 4) + 200
        blocks: list[Any] = list(out[i].blocks())
        blocks[j] = _shorten(blocks[j], max(_MIN_CHARS, size - excess_chars, size // 2))
        old = out[i]
        out[i] = Message(old.role, blocks, seq=old.seq, pinned=old.pinned,
                         created_at=old.created_at, complete=old.complete)
        total = sum(count(m) for m in out)
        cuts += 1
    if cuts:
        note = f"{note + '; ' if note else ''}shortened {cuts} long texts to fit {limit} tokens"
    if total > limit:
        note = f"{note + '; ' if note else ''}pinned messages alone exceed {limit} tokens"
    return out, note

"""The atoms compaction keeps or drops, and the repair that makes any kept list sendable.

A *unit* is the smallest span that can be dropped without breaking the Messages API:

* an assistant message with ``tool_use`` blocks together with the user message right after it
  that carries the ``tool_result`` blocks (a tool pair: keep or drop both);
* any other single message (a human message, an assistant reply, a system message).

A *turn* starts at a human message (a user message that is not a bare tool result) and runs to
the next one. Strategies choose units; ``repair`` then makes the choice valid: roles alternate
(adjacent same-role messages are merged, tool results first, thinking first), the list starts
with a user message that is not a bare tool result (a short synthetic note is put in front when
the conversation's start was dropped), and system messages stay in front. Repaired messages are
new objects; the caller's messages are never mutated, because they belong to the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from victor_server.messages import Block, Message

OMITTED_NOTE = "[Earlier conversation omitted to fit the context window]"


@dataclass(frozen=True)
class Unit:
    start: int  # index of the first message
    end: int  # index past the last message
    kind: str  # "human" | "assistant" | "tool" | "system" | "result"

    def indices(self) -> range:
        return range(self.start, self.end)


def is_human(message: Message) -> bool:
    return message.role == "user" and not message.tool_result_ids()


def split_units(messages: list[Message]) -> list[Unit]:
    units: list[Unit] = []
    i = 0
    while i < len(messages):
        message = messages[i]
        nxt = messages[i + 1] if i + 1 < len(messages) else None
        if message.role == "system":
            units.append(Unit(i, i + 1, "system"))
        elif message.role == "assistant" and message.tool_use_ids() and nxt is not None \
                and nxt.role == "user" and nxt.tool_result_ids():
            units.append(Unit(i, i + 2, "tool"))
            i += 1
        elif is_human(message):
            units.append(Unit(i, i + 1, "human"))
        elif message.role == "user":
            units.append(Unit(i, i + 1, "result"))  # an orphan tool result: history was broken
        else:
            units.append(Unit(i, i + 1, "assistant"))
        i += 1
    return units


def turn_starts(units: list[Unit]) -> list[int]:
    """Unit positions where a turn starts (every human unit; 0 when the list starts otherwise)."""
    starts = [k for k, u in enumerate(units) if u.kind == "human"]
    if units and (not starts or starts[0] != 0):
        starts.insert(0, 0)
    return starts


def protected_units(messages: list[Message], units: list[Unit]) -> set[int]:
    """Units no strategy may drop: pinned and system messages, the current request (the last
    human message) and the newest unit (the latest reply or tool result)."""
    keep = {k for k, u in enumerate(units)
            if u.kind == "system" or any(messages[i].pinned for i in u.indices())}
    humans = [k for k, u in enumerate(units) if u.kind == "human"]
    if humans:
        keep.add(humans[-1])
    if units:
        keep.add(len(units) - 1)
    return keep


def _ordered(role: str, blocks: list[Block]) -> list[Block]:
    # The API wants tool results first in a user message and thinking first in an assistant one.
    first = ("tool_result",) if role == "user" else ("thinking", "redacted_thinking")
    return [b for b in blocks if b.get("type") in first] + \
        [b for b in blocks if b.get("type") not in first]


def _merge(a: Message, b: Message) -> Message:
    if isinstance(a.content, str) and isinstance(b.content, str):
        content: str | list[Block] = f"{a.content}\n\n{b.content}"
    else:
        content = _ordered(a.role, [*a.blocks(), *b.blocks()])
    return Message(a.role, content, seq=a.seq, pinned=a.pinned or b.pinned,
                   created_at=a.created_at, complete=a.complete and b.complete)


def repair(messages: list[Message]) -> list[Message]:
    """Make a kept list valid for the Messages API (see the module docstring)."""
    system = [m for m in messages if m.role == "system"]
    out: list[Message] = []
    for message in (m for m in messages if m.role != "system"):
        if not message.blocks():
            continue  # an empty message is rejected by the API and says nothing
        if out and out[-1].role == message.role:
            out[-1] = _merge(out[-1], message)
        else:
            out.append(message)
    if out and out[0].role == "user" and out[0].tool_result_ids():
        # Tool results whose tool_use was dropped cannot be sent; keep whatever else it said.
        rest = [b for b in out[0].blocks() if b.get("type") != "tool_result"]
        if rest:
            out[0] = Message("user", rest, seq=out[0].seq, pinned=out[0].pinned,
                             created_at=out[0].created_at)
        else:
            out.pop(0)
    if out and out[0].role != "user":
        out.insert(0, Message("user", OMITTED_NOTE))
    return system + out

"""Anthropic's prompt-caching rules, emulated for the loopback fake (``caching=True``).

The rules, as the API documents them:

* a request is a sequence of blocks in the order tools -> system -> messages; a block carrying
  ``cache_control`` is a breakpoint (at most four per request, more is a 400);
* a breakpoint's prefix (every block up to and including it) is written to the cache if it is
  at least ``min_tokens`` long (1024 for most models) and not already there;
* a lookup for a breakpoint checks the prefix ending at it and at each of the 20 block
  boundaries before it, and reads the longest prefix found; the request's read is the longest
  over all its breakpoints;
* an entry lives five minutes after it was last written or used (read, or a breakpoint of a
  request that read a longer prefix through it);
* the cache is per organisation (here: per API key) and per model.

Usage then splits the prompt: ``cache_read_input_tokens`` is the prefix read,
``cache_creation_input_tokens`` what the request wrote past it (up to its furthest written
breakpoint), and ``input_tokens`` the rest. Each block's tokens are ``ceil(len(canonical) / 4)``
(the fake's one token rule) over its JSON without ``cache_control`` (a string ``content`` counts
as one text block), so the three add up to the request's whole prompt. ``clock`` is injectable so
benchmarks and tests can pass the five minutes without waiting.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
MIN_TOKENS = 1024
LIFETIME_S = 300.0


@dataclass(frozen=True)
class CacheUsage:
    input_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_blocks(body: JSON) -> list[tuple[str, bool]]:
    """(canonical text, is a breakpoint) per block, in the order the cache sees them."""
    blocks: list[tuple[str, bool]] = []

    def add(kind: str, block: Any) -> None:
        mark = isinstance(block, dict) and "cache_control" in block
        plain = {k: v for k, v in block.items() if k != "cache_control"} \
            if isinstance(block, dict) else block
        blocks.append((f"{kind}:{_canonical(plain)}", mark))

    for tool in body.get("tools") or []:
        add("tool", tool)
    system = body.get("system")
    if isinstance(system, str) and system:
        add("system", {"type": "text", "text": system})
    elif isinstance(system, list):
        for block in system:
            add("system", block)
    for message in body.get("messages") or []:
        content = message.get("content")
        items = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in items or []:
            add(str(message.get("role")), block)
    return blocks


def count_breakpoints(body: JSON) -> int:
    return sum(1 for _, mark in request_blocks(body) if mark)


class PromptCache:
    def __init__(self, *, min_tokens: int = MIN_TOKENS, lifetime: float = LIFETIME_S,
                 lookback: int = LOOKBACK_BLOCKS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.min_tokens = min_tokens
        self.lifetime = lifetime
        self.lookback = lookback
        self.clock = clock
        self._entries: dict[str, float] = {}  # prefix hash -> expiry
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def apply(self, body: JSON, scope: str) -> CacheUsage:
        """Look the request up, write its new prefixes, and split its prompt tokens."""
        blocks = request_blocks(body)
        lengths, hashes = [], []
        running = hashlib.sha256(f"{scope}\0{body.get('model')}".encode())
        chars = 0
        for text, _ in blocks:
            running.update(text.encode() + b"\0")
            hashes.append(running.hexdigest())
            chars += len(text)
            lengths.append(math.ceil(chars / 4))
        total = lengths[-1] if lengths else 0
        marks = [i for i, (_, mark) in enumerate(blocks) if mark]
        now = self.clock()
        with self._lock:
            self._entries = {h: t for h, t in self._entries.items() if t > now}
            hit = -1
            for mark in marks:
                for at in range(mark, max(-1, mark - self.lookback - 1), -1):
                    if hashes[at] in self._entries:
                        hit = max(hit, at)
                        break
            if hit >= 0:
                self._entries[hashes[hit]] = now + self.lifetime
            written = -1
            for mark in marks:
                if lengths[mark] < self.min_tokens:
                    continue
                # a breakpoint inside the prefix read is used by this request: refreshed free
                self._entries[hashes[mark]] = now + self.lifetime
                if mark > hit:
                    written = max(written, mark)
        read = lengths[hit] if hit >= 0 else 0
        created = lengths[written] - read if written >= 0 else 0
        return CacheUsage(total - read - created, read, created)

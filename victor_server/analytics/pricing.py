"""Model prices: USD per million tokens for input, output, cache reads and cache writes.

The summary's ``cost`` is an estimate from the provider's own token counts and a price found, in
order, in:

1. the user's ``analytics.prices: {model-prefix: {input: 3.0, output: 15.0, cache_read: 0.3,
   cache_write: 3.75}}``, longest matching prefix first, so a negotiated or missing price is
   always the user's to set;
2. ``genai-prices``, a maintained table of list prices (Anthropic, OpenAI, Google, ...) that
   matches dated and aliased model names (``claude-sonnet-4-5-20250929``) itself; imported on
   first use, since loading its data takes a fifth of a second;
3. ``scripted``, the offline provider, which costs nothing.

Token kinds follow Anthropic's usage: ``input`` excludes the tokens read from or written to the
prompt cache, which are priced apart (reads at about a tenth of the input price, writes at a
quarter more). A user's entry without ``cache_read`` / ``cache_write`` prices those tokens at its
``input`` price. Tiered prices (long-context surcharges) are taken at their base tier, since the
summary adds up many requests. A model no table knows costs nothing and is listed under
``cost.unpriced`` rather than guessed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from victor_server.api_models import CostEstimate

logger = logging.getLogger(__name__)

PriceTable = Mapping[str, Mapping[str, float]]
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")

FREE: dict[str, float] = dict.fromkeys(TOKEN_KINDS, 0.0)
BUILTIN_PRICES: dict[str, dict[str, float]] = {"scripted": FREE}


def priced_model(data: Mapping[str, Any]) -> str:
    """The model a ``token_usage`` event is priced as: the offline ``scripted`` provider costs
    nothing whatever model name the config carries."""
    if data.get("provider") == "scripted":
        return "scripted"
    return str(data.get("model") or "unknown")


def _by_prefix(model: str, table: PriceTable) -> Mapping[str, float] | None:
    matches = [prefix for prefix in table if model.startswith(prefix)]
    return table[max(matches, key=len)] if matches else None


def price_for(model: str, prices: PriceTable | None = None) -> dict[str, float] | None:
    """Per-million prices for every token kind, or None when no table knows the model."""
    user = _by_prefix(model, prices or {})
    if user is not None:
        base = float(user.get("input", 0.0))
        return {"input": base, "output": float(user.get("output", 0.0)),
                "cache_read": float(user.get("cache_read", base)),
                "cache_write": float(user.get("cache_write", base))}
    builtin = _by_prefix(model, BUILTIN_PRICES)
    if builtin is not None:
        return dict(builtin)
    return maintained_price(model)


@functools.lru_cache(maxsize=256)
def maintained_price(model: str) -> dict[str, float] | None:
    """The model's list prices from ``genai-prices``, or None when it does not know the model."""
    try:
        from datetime import UTC, datetime

        from genai_prices import data_snapshot
        from genai_prices.types import TieredPrices
    except ImportError:  # an install without the table prices only what the user configured
        logger.warning("genai-prices is not installed; only analytics.prices are used")
        return None
    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, None, None)
    except LookupError:
        return None
    price = info.get_prices(datetime.now(tz=UTC))

    def per_mtok(name: str) -> float | None:
        value = getattr(price, name, None)
        if isinstance(value, TieredPrices):
            value = value.base
        return None if value is None else float(value)

    found = {kind: per_mtok(f"{kind}_mtok") for kind in TOKEN_KINDS}
    if found["input"] is None and found["output"] is None:
        return None
    base = found["input"] or 0.0
    return {"input": base, "output": found["output"] or 0.0,
            "cache_read": base if found["cache_read"] is None else found["cache_read"],
            "cache_write": base if found["cache_write"] is None else found["cache_write"]}


def cost_usd(model: str, input_tokens: int, output_tokens: int,
             prices: PriceTable | None = None, cache_read_tokens: int = 0,
             cache_write_tokens: int = 0) -> float | None:
    price = price_for(model, prices)
    if price is None:
        return None
    return (input_tokens * price["input"] + output_tokens * price["output"]
            + cache_read_tokens * price["cache_read"]
            + cache_write_tokens * price["cache_write"]) / 1_000_000


def cost_summary(tokens_by_model: Mapping[str, Mapping[str, int]],
                 prices: PriceTable | None = None) -> CostEstimate:
    """The cost of per-model token counts (``input``, ``output``, ``cache_read``,
    ``cache_write``): in all, by model, and the models without a price."""
    by_model: dict[str, float] = {}
    unpriced: list[str] = []
    for model, counts in sorted(tokens_by_model.items()):
        usd = cost_usd(model, int(counts.get("input", 0)), int(counts.get("output", 0)), prices,
                       int(counts.get("cache_read", 0)), int(counts.get("cache_write", 0)))
        if usd is None:
            unpriced.append(model)
        else:
            by_model[model] = round(usd, 6)
    return CostEstimate(usd=round(sum(by_model.values()), 6), by_model=by_model,
                        unpriced=unpriced)

"""A model price table: USD per million tokens, input and output, matched by model-name prefix.

The summary's ``cost`` is an estimate from the provider's own token counts and this table (list
prices at the time of writing). Users override or add models with ``analytics.prices:
{model-prefix: {input: 3.0, output: 15.0}}``, consulted before the built-in table; within a
table the longest matching prefix wins, so ``claude-sonnet-4-5-20250929`` is priced as
``claude-sonnet-4-5``. A model the table does not
know costs nothing and is listed under ``cost.unpriced`` rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PriceTable = Mapping[str, Mapping[str, float]]

DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "claude-opus-4-5": {"input": 5.0, "output": 25.0},
    "claude-opus-4": {"input": 15.0, "output": 75.0},
    "claude-sonnet-4": {"input": 3.0, "output": 15.0},
    "claude-3-7-sonnet": {"input": 3.0, "output": 15.0},
    "claude-3-5-sonnet": {"input": 3.0, "output": 15.0},
    "claude-haiku-4-5": {"input": 1.0, "output": 5.0},
    "claude-3-5-haiku": {"input": 0.8, "output": 4.0},
    "claude-3-haiku": {"input": 0.25, "output": 1.25},
    "gpt-4o-mini": {"input": 0.15, "output": 0.6},
    "gpt-4o": {"input": 2.5, "output": 10.0},
    "gpt-4.1-mini": {"input": 0.4, "output": 1.6},
    "gpt-4.1": {"input": 2.0, "output": 8.0},
    "scripted": {"input": 0.0, "output": 0.0},
}


def priced_model(data: Mapping[str, Any]) -> str:
    """The model a ``token_usage`` event is priced as: the offline ``scripted`` provider costs
    nothing whatever model name the config carries."""
    if data.get("provider") == "scripted":
        return "scripted"
    return str(data.get("model") or "unknown")


def price_for(model: str, prices: PriceTable | None = None) -> Mapping[str, float] | None:
    for table in (prices or {}, DEFAULT_PRICES):  # the user's table first, then ours
        matches = [prefix for prefix in table if model.startswith(prefix)]
        if matches:
            return table[max(matches, key=len)]
    return None


def cost_usd(model: str, input_tokens: int, output_tokens: int,
             prices: PriceTable | None = None) -> float | None:
    price = price_for(model, prices)
    if price is None:
        return None
    return (input_tokens * float(price.get("input", 0.0))
            + output_tokens * float(price.get("output", 0.0))) / 1_000_000


def cost_summary(tokens_by_model: Mapping[str, Mapping[str, int]],
                 prices: PriceTable | None = None) -> dict[str, Any]:
    """``{usd, byModel: {model: usd}, unpriced: [model]}`` from per-model token counts."""
    by_model: dict[str, float] = {}
    unpriced: list[str] = []
    for model, counts in sorted(tokens_by_model.items()):
        usd = cost_usd(model, int(counts.get("input", 0)), int(counts.get("output", 0)), prices)
        if usd is None:
            unpriced.append(model)
        else:
            by_model[model] = round(usd, 6)
    return {"usd": round(sum(by_model.values()), 6), "byModel": by_model, "unpriced": unpriced}

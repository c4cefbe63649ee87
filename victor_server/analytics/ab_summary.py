"""The A/B part of the analytics summary: each variant next to the others, on what it changed.

Every event of a turn in an A/B test carries ``variant``; the ``ab_assignment`` event a session
gets when it is assigned also carries ``settings``, the config the variant sets (secrets
masked). From those events alone, each variant (arm) gets::

    settings={"max_tokens": 1024},           # what the variant sets
    sessions=188, turns=470, requests=470, responses=470,
    tokens=(input, output, total, cache_read, cache_write),
    cost=(usd, by_model, unpriced),
    tool_calls={"read": 12}, tool_call_count=12, errors=1,
    latency_ms=1422.9,                       # mean turn duration
    per_turn=(tokens=1919.4, cost_usd=0.0021, tool_calls=0.03)

(``api_models.VariantArm``, camelCase on the LSP and ACP wires). ``turns`` counts answered turns
(``chat_response`` events), ``requests`` turns asked for; ``per_turn`` divides by turns so arms
of different sizes compare. Every store backend folds its
events through this class, so the summary has one shape everywhere.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from victor_server.analytics.pricing import PriceTable, cost_summary, priced_model
from victor_server.api_models import PerTurn, TokenTotals, VariantArm

TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")


class Arm:
    def __init__(self) -> None:
        self.settings: dict[str, Any] | None = None
        self.sessions: set[str | None] = set()
        self.requests = 0
        self.turns = 0
        self.errors = 0
        self.latency_total_ms = 0.0
        self.tools: Counter[str] = Counter()
        self.models: dict[str, dict[str, int]] = {}

    def add(self, event_type: str, data: dict[str, Any], sid: str | None) -> None:
        self.sessions.add(sid)
        if event_type == "ab_assignment":
            settings = data.get("settings")
            if isinstance(settings, dict):
                self.settings = settings
        elif event_type == "token_usage":
            model = self.models.setdefault(priced_model(data), dict.fromkeys(TOKEN_KINDS, 0))
            model["input"] += int(data.get("input_tokens") or 0)
            model["output"] += int(data.get("output_tokens") or 0)
            model["cache_read"] += int(data.get("cache_read_tokens") or 0)
            model["cache_write"] += int(data.get("cache_write_tokens") or 0)
        elif event_type == "tool_call":
            self.tools[str(data.get("name"))] += 1
        elif event_type == "error":
            self.errors += 1
        elif event_type == "chat_request":
            self.requests += 1
        elif event_type == "chat_response":
            self.turns += 1
            self.latency_total_ms += float(data.get("duration_ms") or 0.0)

    def result(self, prices: PriceTable | None,
               settings: dict[str, Any] | None = None) -> VariantArm:
        counts = dict.fromkeys(TOKEN_KINDS, 0)
        for by_model in self.models.values():
            for kind in TOKEN_KINDS:
                counts[kind] += by_model[kind]
        tokens = TokenTotals(total=counts["input"] + counts["output"], **counts)
        cost = cost_summary(self.models, prices)
        calls = sum(self.tools.values())
        turns = self.turns

        def per_turn(value: float, digits: int) -> float | None:
            return round(value / turns, digits) if turns else None

        return VariantArm(
            settings=self.settings if self.settings is not None else (settings or {}),
            sessions=len(self.sessions), turns=turns, requests=self.requests,
            responses=turns, tokens=tokens, cost=cost,
            tool_calls=dict(self.tools), tool_call_count=calls, errors=self.errors,
            latency_ms=per_turn(self.latency_total_ms, 1),
            per_turn=PerTurn(tokens=per_turn(tokens.total, 1), cost_usd=per_turn(cost.usd, 6),
                             tool_calls=per_turn(calls, 3)))


class VariantTally:
    """The arms, folded from events one at a time."""

    def __init__(self) -> None:
        self.arms: dict[str, Arm] = {}

    def add(self, event_type: str, data: dict[str, Any], sid: str | None) -> None:
        variant = data.get("variant")
        if variant is not None:
            self.arms.setdefault(str(variant), Arm()).add(event_type, data, sid)

    def summary(self, prices: PriceTable | None,
                settings: dict[str, dict[str, Any]] | None = None) -> dict[str, VariantArm]:
        """``{variant: arm}``; ``settings`` fills in what a variant sets when its assignment
        events fall outside the summary's filter (the running experiment's config)."""
        return {name: arm.result(prices, (settings or {}).get(name))
                for name, arm in sorted(self.arms.items())}


def variant_lines(variants: dict[str, VariantArm]) -> list[str]:
    """The arms as text, one block per variant, for the ``analytics`` command."""
    lines = []
    for name, arm in variants.items():
        changed = ", ".join(f"{key}={value}" for key, value in _flat(arm.settings or {}))
        tokens, latency = arm.tokens, arm.latency_ms
        lines.append(
            f"variant {name}: {changed or 'no settings changed'}\n"
            f"  sessions {arm.sessions}, turns {arm.turns}, errors {arm.errors}, "
            f"tool calls {arm.tool_call_count}, "
            f"latency {'-' if latency is None else f'{latency:.1f} ms'}\n"
            f"  tokens {tokens.input} in / {tokens.output} out / "
            f"{tokens.cache_read or 0} cache read / {tokens.cache_write or 0} cache write, "
            f"cost ${arm.cost.usd:.4f}\n")
    return lines


def _flat(settings: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in settings.items():
        if isinstance(value, dict) and value:
            items += _flat(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items

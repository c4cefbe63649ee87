"""A/B tests: each session gets one variant of the config, for good.

Config::

    ab_test:
      name: thrifty-2025-06        # optional; recorded with each assignment
      variants: {control: {model: claude-sonnet-4-5}, thrifty: {max_tokens: 1024}}
      weights: {control: 0.5, thrifty: 0.5}   # default: equal

``ABTestConfigProvider`` (source name ``ab_test``: above the project file, below tenant rows
and per-request overrides) assigns a session the first time its config is resolved, by
weighted random choice, and stores the assignment in ``ab_assignments``. The store's insert is
first-writer-wins, so two processes racing on one new session agree on whichever landed first,
and the assignment survives restarts. The variant's config comes back with an ``ab_variant``
key, which is how the orchestrator learns the variant: it returns it in chat results and tags
analytics events with it, so ``victor/analytics/summary`` compares variants on what each sets
(``victor_server.analytics.ab_summary``). The assignment itself is recorded once, as an
``ab_assignment`` event carrying the variant's settings, by the process that made it.

A session belongs to at most one experiment ever (``ab_assignments`` is keyed by session): a
session assigned under an earlier experiment, or to a variant since removed, gets no variant.
The experiment is read from the config at start; changing it takes a restart.
"""

from __future__ import annotations

import copy
import logging
import random
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from victor_server.config.providers import PRIORITY
from victor_server.scope import tenant_of
from victor_server.store import Store

logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "ab_test"
_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: dict[str, dict[str, Any]]
    weights: dict[str, float]

    @classmethod
    def from_config(cls, raw: Any) -> Experiment | None:
        """The experiment ``ab_test:`` describes, or None (logged) when it is unusable."""
        if not raw:
            return None
        if not isinstance(raw, Mapping) or not isinstance(raw.get("variants"), Mapping):
            logger.error("ab_test needs variants: {name: config}; no experiment runs")
            return None
        variants = {str(k): dict(v or {}) for k, v in raw["variants"].items()
                    if isinstance(v, Mapping | None)}
        if len(variants) != len(raw["variants"]) or not variants:
            logger.error("ab_test.variants must map names to config mappings; no experiment runs")
            return None
        raw_weights = raw.get("weights") or {}
        weights: dict[str, float] = {}
        for name in variants:
            value = raw_weights.get(name, 1.0) if isinstance(raw_weights, Mapping) else 1.0
            try:
                weights[name] = max(0.0, float(value))
            except (TypeError, ValueError):
                logger.error("ab_test.weights.%s is not a number; using 1", name)
                weights[name] = 1.0
        for name in set(raw_weights) - set(variants) if isinstance(raw_weights, Mapping) else []:
            logger.warning("ab_test.weights.%s names no variant; ignored", name)
        if not any(weights.values()):
            weights = dict.fromkeys(variants, 1.0)
        return cls(str(raw.get("name") or DEFAULT_EXPERIMENT), variants, weights)

    def settings_of(self, variant: str) -> dict[str, Any]:
        """What ``variant`` sets, secrets masked: the analytics summary compares arms on it."""
        from victor_server.logging_redaction import redact

        return dict(redact(copy.deepcopy(self.variants.get(variant, {}))))

    def choose(self, rng: random.Random) -> str:
        names = list(self.variants)
        return rng.choices(names, weights=[self.weights[n] for n in names], k=1)[0]


class ABTestConfigProvider:
    name = "ab_test"

    def __init__(self, store: Store, experiment: Experiment, analytics: Any = None,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.experiment = experiment
        self.analytics = analytics
        self.rng = rng or random.Random()
        self._assigned: OrderedDict[str, str | None] = OrderedDict()

    def priority(self) -> int:
        return PRIORITY["ab_test"]

    async def get_config(self, session_id: str | None) -> dict[str, Any]:
        if not session_id:
            return {}
        variant = await self.variant_for(session_id)
        if variant is None:
            return {}
        return {**copy.deepcopy(self.experiment.variants[variant]), "ab_variant": variant}

    async def variant_for(self, session_id: str) -> str | None:
        if session_id in self._assigned:
            return self._assigned[session_id]
        stored = await self.store.get_ab_assignment(session_id)
        if stored is None:
            choice = self.experiment.choose(self.rng)
            if await self.store.set_ab_assignment(session_id, self.experiment.name, choice):
                self._record(session_id, choice)
                stored = (self.experiment.name, choice)
            else:  # another process assigned it between our read and our write
                stored = await self.store.get_ab_assignment(session_id)
        variant = None
        if stored is not None and stored[0] == self.experiment.name and \
                stored[1] in self.experiment.variants:
            variant = stored[1]
        self._remember(session_id, variant)
        return variant

    def _record(self, session_id: str, variant: str) -> None:
        if self.analytics is not None:
            self.analytics.record("ab_assignment", session_id, tenant_of(session_id),
                                  experiment=self.experiment.name, variant=variant,
                                  settings=self.experiment.settings_of(variant))

    def _remember(self, session_id: str, variant: str | None) -> None:
        self._assigned[session_id] = variant
        if len(self._assigned) > _CACHE_SIZE:
            self._assigned.popitem(last=False)

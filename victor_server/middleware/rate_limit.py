"""The ``rate_limit`` middleware: a token bucket per tenant.

Config: ``{rate_limit: {requests_per_minute: 60, burst: 10, tenants: {acme: {...}}}}``; the
optional ``tenants`` map gives one tenant its own limits. A bucket holds ``burst`` requests and
refills at ``requests_per_minute / 60`` per second; a call finding it empty is refused with
``RateLimited`` (-32003) and ``retryAfterMs``, the time until a request would pass.

The bucket key is the authenticated tenant (so it belongs after ``auth``, which
``create_middlewares`` enforces); without auth it is the session id's tenant prefix, and calls
with neither share one bucket. One tenant's bucket never drains another's.

Why not aiolimiter or limits: aiolimiter makes callers wait, and we must refuse at once and say
how long to wait; limits' moving windows do not give that figure for a token bucket. The
bucket is a dozen lines; a clock parameter makes it testable without sleeping.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from victor_server.errors import RateLimited
from victor_server.middleware.chain import CallNext, MethodCall
from victor_server.scope import tenant_of

logger = logging.getLogger(__name__)

_MAX_BUCKETS = 10_000  # unauthenticated prefixes are client-chosen: bound the memory


@dataclass
class TokenBucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take one token; 0.0 when granted, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        if self.per_second <= 0:
            return 60.0
        return (1.0 - self.tokens) / self.per_second

    def full_at(self, now: float) -> bool:
        return self.tokens + (now - self.updated) * self.per_second >= self.capacity


@dataclass(frozen=True)
class Limit:
    requests_per_minute: float
    burst: int

    @classmethod
    def parse(cls, requests_per_minute: Any = 60, burst: Any = 10, **unknown: Any) -> Limit:
        if unknown:
            logger.warning("rate_limit: unknown options ignored: %s", sorted(unknown))
        rpm, size = float(requests_per_minute), int(burst)
        if rpm < 0 or size < 1:
            raise ValueError("rate_limit needs requests_per_minute >= 0 and burst >= 1")
        return cls(rpm, size)


class RateLimitMiddleware:
    name = "rate_limit"

    def __init__(self, requests_per_minute: float = 60, burst: int = 10,
                 tenants: dict[str, dict[str, Any]] | None = None,
                 clock: Callable[[], float] = time.monotonic, **unknown: Any) -> None:
        self.default = Limit.parse(requests_per_minute, burst, **unknown)
        self.per_tenant = {str(name): Limit.parse(**{
            "requests_per_minute": self.default.requests_per_minute,
            "burst": self.default.burst, **(options or {})})
            for name, options in (tenants or {}).items()}
        self.clock = clock
        self._buckets: dict[str | None, TokenBucket] = {}

    def key_of(self, call: MethodCall) -> str | None:
        if call.scope.authenticated:
            return call.scope.tenant_id
        session_id = call.session_id
        return tenant_of(session_id) if session_id else None

    def bucket_for(self, key: str | None, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:  # a full bucket is the same as no bucket
                self._buckets = {k: b for k, b in self._buckets.items() if not b.full_at(now)}
            limit = self.per_tenant.get(key or "", self.default)
            bucket = TokenBucket(limit.burst, limit.requests_per_minute / 60.0, limit.burst, now)
            self._buckets[key] = bucket
        return bucket

    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any:
        now = self.clock()
        wait = self.bucket_for(self.key_of(call), now).take(now)
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait * 1000)))
        return await call_next(call)

"""Rate limits kept by the `limits` library: a moving window per rule and key, counted in
memory (one process) or in a shared store named by URI (``redis://...``, several processes)."""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

__all__ = ["RateLimits"]


@lru_cache(maxsize=64)
def _rule(text: str) -> RateLimitItem:
    return parse(text)


class RateLimits:
    """Counts requests against rules written in the `limits` notation ("10/minute").

    Both checks answer None while a request is allowed, else the whole seconds until one more
    will be (what ``Retry-After`` says)."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def hit(self, rule: str, *key: str) -> int | None:
        """Count one request (a refused one is not counted)."""
        item = _rule(rule)
        return None if self._limiter.hit(item, *key) else self._wait(item, key)

    def exhausted(self, rule: str, *key: str) -> int | None:
        """Whether the rule is used up for `key`, counting nothing."""
        item = _rule(rule)
        return None if self._limiter.test(item, *key) else self._wait(item, key)

    def _wait(self, item: RateLimitItem, key: tuple[str, ...]) -> int:
        reset = self._limiter.get_window_stats(item, *key).reset_time
        return max(1, math.ceil(reset - time.time()))

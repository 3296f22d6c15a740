"""Who is calling, and small helpers every use case shares (the ports are in `ports/`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Caller", "gc_paused"]


@dataclass(frozen=True)
class Caller:
    party_id: str
    client_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    is_operator: bool = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Bulk paths build millions of short-lived objects that are never cyclic; the cycle
    collector rescanning them made uploads and match runs 2-4x slower."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

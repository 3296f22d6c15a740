"""The repository port of what verification and replay read of the ledger projections."""

from __future__ import annotations

from typing import Protocol

__all__ = ["LedgerEntryRepository"]


class LedgerEntryRepository(Protocol):
    """What verification and replay read of the projections the ledger entries made."""

"""The repository port of inventory reports and their records."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ReportRepository"]


class ReportRepository(Protocol):
    """Inventory reports and their records, in the carriers' language."""

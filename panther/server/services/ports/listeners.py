"""The repository port of hub listeners (event subscriptions) of every API."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ListenerRepository"]


class ListenerRepository(Protocol):
    """Hub listeners (event subscriptions) of every API, in the carriers' language."""

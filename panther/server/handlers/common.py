"""Response shapes shared by the thin handlers."""

from __future__ import annotations

from typing import Any

__all__ = ["listing", "one"]

_JSON = {"Content-Type": "application/json"}


def one(body: Any, status: int = 200, **headers: str) -> tuple[Any, int, dict[str, str]]:
    return body, status, {**_JSON, **headers}


def listing(items: list[Any], total: int) -> tuple[Any, int, dict[str, str]]:
    return items, 200, {**_JSON, "X-Total-Count": str(total), "X-Result-Count": str(len(items))}

"""Response shapes shared by the thin handlers."""

from __future__ import annotations

from datetime import date
from typing import Any, overload

from .. import state as st
from ..services.errors import InvalidInput

__all__ = ["as_date", "listing", "one", "tmf_listing"]

_JSON = {"Content-Type": "application/json"}


def one(body: Any, status: int = 200, **headers: str) -> tuple[Any, int, dict[str, str]]:
    return body, status, {**_JSON, **headers}


def listing(items: list[Any], total: int) -> tuple[Any, int, dict[str, str]]:
    return items, 200, {**_JSON, "X-Total-Count": str(total), "X-Result-Count": str(len(items))}


@overload
def as_date(value: str, name: str = ...) -> str: ...
@overload
def as_date(value: None, name: str = ...) -> None: ...
def as_date(value: str | None, name: str = "asOf") -> str | None:
    """A calendar date (YYYY-MM-DD); connexion does not check ``format: date`` on queries."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidInput(
            f"{name} must be a calendar date YYYY-MM-DD",
            status_code=400,
            details=[{"pointer": name, "message": "not a date"}],
        ) from None


def tmf_listing(
    find: Any, names: tuple[str, ...], token_info: dict[str, Any], query: Any
) -> tuple[Any, int, dict[str, str]]:
    """A TMF list: the attribute filters ``names`` found in the query, `fields`, paging."""
    return listing(
        *find(
            st.ports(),
            st.caller(token_info),
            filters={name: query[name] for name in names if name in query},
            fields=query.get("fields"),
            offset=int(query.get("offset", 0)),
            limit=int(query.get("limit", 100)),
        )
    )

"""Hub listeners (TMF EventSubscription, MEF listener) and the events sent to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from panther.server.services.errors import InvalidInput

__all__ = ["NewListener", "hub_event", "listener_view", "parse_listener"]


@dataclass(frozen=True)
class NewListener:
    """A listener to register: where events go and, if given, which (``query``)."""

    callback: str
    query: str | None


def parse_listener(body: dict[str, Any], *, invalid_status: int | None = None) -> NewListener:
    """The `POST /hub` body; the callback must be an http(s) URL (``invalid_status``: the
    status a standard wants for a bad body, when it declares no 422)."""
    callback = str(body["callback"])
    if not callback.startswith(("http://", "https://")):
        raise InvalidInput(
            "callback must be an http(s) URL",
            details=[{"pointer": "/callback", "message": "not an http(s) URL"}],
            status_code=422 if invalid_status is None else invalid_status,
        )
    query = body.get("query")
    return NewListener(callback=callback, query=None if query is None else str(query))


def listener_view(row: dict[str, Any]) -> dict[str, Any]:
    """A stored listener as every hub API shows it (the TMF EventSubscription and the MEF
    listener alike): id, callback and query if any."""
    out = {"id": row["id"], "callback": row["callback"]}
    if row["query"] is not None:
        out["query"] = row["query"]
    return out


def hub_event(
    event_id: str, event_time: str, event_type: str, event: dict[str, Any], /, **extra: Any
) -> dict[str, Any]:
    """The body of a hub notification; ``extra`` adds top-level fields such as `fieldPath`."""
    return {
        "eventId": event_id,
        "eventTime": event_time,
        "eventType": event_type,
        "event": event,
        **extra,
    }

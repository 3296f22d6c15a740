"""Event subscriptions (`POST /hub`) of every API: one table, one way to add, find, remove a
listener and to find whom an event goes to. Each API keeps its own validation of `query`
and its own event bodies."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from panther.adapters.sql import repository as repo

from .context import Caller, now_iso
from .errors import InvalidInput, NotFound
from .ports import Ports

__all__ = ["add_listener", "find_listener", "listeners_of", "remove_listener"]


def add_listener(
    ports: Ports,
    caller: Caller,
    api: str,
    body: dict[str, Any],
    *,
    invalid_status: int | None = None,
) -> dict[str, Any]:
    """Store a listener for `api`; the callback must be an http(s) URL (`invalid_status`:
    the status a standard wants for a bad body, when it declares no 422)."""
    callback = str(body["callback"])
    if not callback.startswith(("http://", "https://")):
        extra = {} if invalid_status is None else {"status_code": invalid_status}
        raise InvalidInput(
            "callback must be an http(s) URL",
            details=[{"pointer": "/callback", "message": "not an http(s) URL"}],
            **extra,
        )
    query = body.get("query")
    row = {
        "id": f"hub-{secrets.token_hex(8)}",
        "party_id": caller.party_id,
        "api": api,
        "callback": callback,
        "query": None if query is None else str(query),
        "created_at": now_iso(),
    }
    with ports.uow.write() as uow:
        repo.insert_row(uow.conn, repo.T.subscription, row)
    return row


def _where(caller: Caller, api: str, listener_id: str) -> list[Any]:
    sub = repo.T.subscription
    return [sub.c.id == listener_id, sub.c.party_id == caller.party_id, sub.c.api == api]


def find_listener(ports: Ports, caller: Caller, api: str, listener_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        rows = repo.list_rows(uow.conn, repo.T.subscription, _where(caller, api, listener_id))
    if not rows:
        raise NotFound(f"no listener {listener_id}")
    return rows[0]


def remove_listener(ports: Ports, caller: Caller, api: str, listener_id: str) -> None:
    sub = repo.T.subscription
    with ports.uow.write() as uow:
        deleted = uow.conn.execute(sub.delete().where(*_where(caller, api, listener_id))).rowcount
    if not deleted:
        raise NotFound(f"no listener {listener_id}")


def listeners_of(ports: Ports, api: str, party_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The listeners of these parties for `api`."""
    sub = repo.T.subscription
    with ports.uow.read() as uow:
        return repo.list_rows(
            uow.conn, sub, [sub.c.api == api, sub.c.party_id.in_(list(party_ids))]
        )


def publish_to_relation(
    ports: Ports,
    api: str,
    relation: dict[str, Any],
    event_type: str,
    event: dict[str, Any],
    **extra: Any,
) -> None:
    """An event to the listeners of a relation's two carriers only (a listener registered with
    `query` `eventType=X` gets X alone); ``extra`` adds top-level fields such as `fieldPath`."""
    rows = listeners_of(ports, api, [relation["supplier_id"], relation["customer_id"]])
    for row in rows:
        query = row["query"] or ""
        if query.startswith("eventType=") and query.split("=", 1)[1] != event_type:
            continue
        ports.webhooks.publish(
            row["callback"],
            event_type,
            {
                "eventId": secrets.token_hex(8),
                "eventTime": now_iso(),
                "eventType": event_type,
                "event": event,
                **extra,
            },
        )


def tmf_listener(ports: Ports, caller: Caller, api: str, body: dict[str, Any]) -> dict[str, Any]:
    """Register a TMF hub listener; the TMF `EventSubscription` view of it."""
    return listener_view(add_listener(ports, caller, api, body))


def listener_view(row: dict[str, Any]) -> dict[str, Any]:
    """A stored listener as the hub APIs show it: id, callback and query if any."""
    out = {"id": row["id"], "callback": row["callback"]}
    if row["query"] is not None:
        out["query"] = row["query"]
    return out

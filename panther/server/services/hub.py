"""Event subscriptions (`POST /hub`) of every API: one table, one way to add, find, remove a
listener and to find whom an event goes to. Each API keeps its own validation of `query`
and its own event bodies."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from ..representations.hub import hub_event, listener_view, parse_listener
from .context import Caller
from .errors import Conflict, InvalidInput, NotFound, ServiceError
from .ports import Ports, Row

__all__ = [
    "add_listener",
    "find_listener",
    "listeners_of",
    "publish_to_relation",
    "remove_listener",
    "tmf_listener",
]


def add_listener(
    ports: Ports,
    caller: Caller,
    api: str,
    body: dict[str, Any],
    *,
    invalid_status: int | None = None,
    too_many: type[ServiceError] = Conflict,
) -> dict[str, Any]:
    """Store a listener for `api` if events may go to its callback (`invalid_status`: the
    status a standard wants for a bad body, when it declares no 422; `too_many`: the error
    when the party has all the listeners it may have)."""
    wanted = parse_listener(body, invalid_status=invalid_status)
    refusal = ports.webhooks.refusal(wanted.callback)
    if refusal is not None:
        raise InvalidInput(
            f"callback refused: {refusal}",
            details=[{"pointer": "/callback", "message": refusal}],
            status_code=422 if invalid_status is None else invalid_status,
        )
    cap = ports.settings.max_listeners_per_party
    row: Row = {
        "id": f"hub-{secrets.token_hex(8)}",
        "party_id": caller.party_id,
        "api": api,
        "callback": wanted.callback,
        "query": wanted.query,
        "created_at": ports.clock.now_iso(),
    }
    with ports.uow.write() as uow:
        # Two registrations at once would both count below the cap without the lock.
        uow.listeners.lock_party(caller.party_id)
        if uow.listeners.count_of(caller.party_id) >= cap:
            raise too_many(f"a party has at most {cap} listeners; remove one before adding another")
        uow.listeners.add(row)
    return row


def find_listener(ports: Ports, caller: Caller, api: str, listener_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row = uow.listeners.find(caller.party_id, api, listener_id)
    if row is None:
        raise NotFound(f"no listener {listener_id}")
    return row


def remove_listener(ports: Ports, caller: Caller, api: str, listener_id: str) -> None:
    with ports.uow.write() as uow:
        removed = uow.listeners.remove(caller.party_id, api, listener_id)
    if not removed:
        raise NotFound(f"no listener {listener_id}")


def listeners_of(ports: Ports, api: str, party_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The listeners of these parties for `api`."""
    with ports.uow.read() as uow:
        return uow.listeners.of_parties(api, party_ids)


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
            hub_event(secrets.token_hex(8), ports.clock.now_iso(), event_type, event, **extra),
        )


def tmf_listener(ports: Ports, caller: Caller, api: str, body: dict[str, Any]) -> dict[str, Any]:
    """Register a TMF hub listener; the TMF `EventSubscription` view of it."""
    return listener_view(add_listener(ports, caller, api, body))

"""Bill events of both billing APIs: the TMF678 hub (listeners and their customerBill events)
and the MEF 141 notifications of the same bills, to the listeners of a relation's carriers."""

from __future__ import annotations

import secrets
from typing import Any

from ..representations import mef141
from ..representations.hub import hub_event
from . import hub
from .context import Caller
from .errors import InvalidInput
from .ports import Ports, Row

__all__ = [
    "MEF141_API",
    "MEF_EVENT_TYPES",
    "TMF678_API",
    "publish_bill_event",
    "publish_mef_state_change",
    "register_listener",
    "unregister_listener",
    "wanted_types",
]

TMF678_API = "customerBillManagement"
MEF141_API = "mefCustomerBillManagement"
MEF_NOTIFICATION_BASE = "/mefApi/sonata/customerBillNotification/v2"
MEF_EVENT_TYPES = ("customerBillCreateEvent", "customerBillStateChangeEvent")


# ---- TMF678 ---------------------------------------------------------------------------------


def register_listener(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return hub.tmf_listener(ports, caller, TMF678_API, body)


def unregister_listener(ports: Ports, caller: Caller, listener_id: str) -> None:
    hub.remove_listener(ports, caller, TMF678_API, listener_id)


def publish_bill_event(
    ports: Ports, relation: Row, event_type: str, bill_view: dict[str, Any]
) -> None:
    """A TMF678 customerBill event (``bill_view``: the bill as it is now) to the relation's
    carriers."""
    hub.publish_to_relation(ports, TMF678_API, relation, event_type, {"customerBill": bill_view})


# ---- MEF 141 --------------------------------------------------------------------------------


def wanted_types(query: str | None) -> set[str]:
    """The MEF event types a listener's `query` asks for: `eventType=a,b` (spaces allowed);
    empty or absent: every event type."""
    text = (query or "").replace(" ", "")
    if not text:
        return set(MEF_EVENT_TYPES)
    if not text.startswith("eventType="):
        raise InvalidInput(  # 400: the MEF document declares no 422 for the hub
            "query must be eventType=<type>[,<type>...]",
            status_code=400,
            details=[{"pointer": "/query", "message": "not eventType=..."}],
        )
    types = set(text.removeprefix("eventType=").split(","))
    unknown = sorted(types - set(MEF_EVENT_TYPES))
    if unknown:
        raise InvalidInput(  # 400: the MEF document declares no 422 for the hub
            f"unknown event type {unknown[0]}",
            status_code=400,
            details=[{"pointer": "/query", "message": f"one of {', '.join(MEF_EVENT_TYPES)}"}],
        )
    return types


def publish_mef_state_change(ports: Ports, relation: Row, before: str, bill: Row) -> None:
    """After a TMF678 state change: the bill appears to MEF (`validated`: create event) or its
    MEF state changed (state change event); listeners of the relation's two carriers only."""
    after = bill["state"]
    if after not in mef141.STATES or mef141.STATES.get(before) == mef141.STATES[after]:
        return
    if before in mef141.STATES:
        event_type = "customerBillStateChangeEvent"
    else:
        event_type = "customerBillCreateEvent"
    event = mef141.bill_event(ports.settings.public_base_url, bill, relation)
    listeners = hub.listeners_of(
        ports, MEF141_API, [relation["supplier_id"], relation["customer_id"]]
    )
    for listener in listeners:
        try:
            if event_type not in wanted_types(listener["query"]):
                continue
        except InvalidInput:
            continue
        ports.webhooks.publish(
            f"{listener['callback'].rstrip('/')}{MEF_NOTIFICATION_BASE}",
            event_type,
            hub_event(secrets.token_hex(8), ports.clock.now_iso(), event_type, event),
        )

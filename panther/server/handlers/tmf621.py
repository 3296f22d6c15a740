"""Handlers of TMF621 Trouble Ticket Management v4: disputes between carriers."""

from __future__ import annotations

import asyncio
from typing import Any

from connexion import request

from .. import state as st
from ..services import dispute_changes, disputes
from .common import one, tmf_listing

_FILTERS = (
    "id",
    "status",
    "ticketType",
    "externalId",
    "relatedEntity.id",
    "relatedParty.id",
)


def listTroubleTicket(token_info: dict[str, Any], **_: Any) -> Any:
    return tmf_listing(disputes.list_tickets, _FILTERS, token_info, request.query_params)


async def createTroubleTicket(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    view, tag = await asyncio.to_thread(
        disputes.open_dispute, st.ports(), st.caller(token_info), body
    )
    return one(view, 201, ETag=tag)


def retrieveTroubleTicket(token_info: dict[str, Any], id_: str, fields: str | None = None) -> Any:
    view, tag = disputes.get_ticket(st.ports(), st.caller(token_info), id_, fields)
    return one(view, ETag=tag)


async def patchTroubleTicket(token_info: dict[str, Any], id_: str, body: dict[str, Any]) -> Any:
    view, tag = await asyncio.to_thread(
        dispute_changes.patch_ticket,
        st.ports(),
        st.caller(token_info),
        id_,
        body,
        request.headers.get("if-match"),
    )
    return one(view, ETag=tag)


def registerTroubleTicketListener(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    return one(disputes.register_listener(st.ports(), st.caller(token_info), body), 201)


def unregisterTroubleTicketListener(token_info: dict[str, Any], id_: str) -> Any:
    disputes.unregister_listener(st.ports(), st.caller(token_info), id_)
    return None, 204

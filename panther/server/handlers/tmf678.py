"""Handlers of TMF678 Customer Bill Management v4: billing statements as bills."""

from __future__ import annotations

import asyncio
from typing import Any

from connexion import request

from .. import state as st
from ..services import bill_rates, billing_events, bills, statements
from .common import one, tmf_listing

_BILL_FILTERS = (
    "id",
    "state",
    "billNo",
    "category",
    "runType",
    "billingAccount.id",
    "billingPeriod.startDateTime",
    "relatedParty.id",
)
_RATE_FILTERS = ("id", "bill.id", "isBilled", "type", "product.id", "billingAccount.id")
_REQUEST_FILTERS = ("id", "state", "billingAccount.id")


def _list(find: Any, names: tuple[str, ...], token_info: dict[str, Any]) -> Any:
    return tmf_listing(find, names, token_info, request.query_params)


def listCustomerBill(token_info: dict[str, Any], **_: Any) -> Any:
    return _list(bills.list_bills, _BILL_FILTERS, token_info)


def retrieveCustomerBill(token_info: dict[str, Any], id_: str, fields: str | None = None) -> Any:
    view, tag = bills.get_bill(st.ports(), st.caller(token_info), id_, fields)
    return one(view, ETag=tag)


async def patchCustomerBill(token_info: dict[str, Any], id_: str, body: dict[str, Any]) -> Any:
    view, tag = await asyncio.to_thread(
        bills.patch_bill,
        st.ports(),
        st.caller(token_info),
        id_,
        body,
        request.headers.get("if-match"),
    )
    return one(view, ETag=tag)


async def retrieveCustomerBillDocument(token_info: dict[str, Any], id_: str) -> Any:
    pdf, tag = await asyncio.to_thread(bills.bill_document, st.ports(), st.caller(token_info), id_)
    return pdf, 200, {"Content-Type": "application/pdf", "ETag": tag}


def listAppliedCustomerBillingRate(token_info: dict[str, Any], **_: Any) -> Any:
    return _list(bill_rates.list_rates, _RATE_FILTERS, token_info)


def retrieveAppliedCustomerBillingRate(
    token_info: dict[str, Any], id_: str, fields: str | None = None
) -> Any:
    return one(bill_rates.get_rate(st.ports(), st.caller(token_info), id_, fields))


def listCustomerBillOnDemand(token_info: dict[str, Any], **_: Any) -> Any:
    return _list(statements.list_bill_requests, _REQUEST_FILTERS, token_info)


async def createCustomerBillOnDemand(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    view = await asyncio.to_thread(
        statements.request_statement, st.ports(), st.caller(token_info), body
    )
    return one(view, 201)


def retrieveCustomerBillOnDemand(
    token_info: dict[str, Any], id_: str, fields: str | None = None
) -> Any:
    return one(statements.get_bill_request(st.ports(), st.caller(token_info), id_, fields))


def registerCustomerBillListener(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    return one(billing_events.register_listener(st.ports(), st.caller(token_info), body), 201)


def unregisterCustomerBillListener(token_info: dict[str, Any], id_: str) -> Any:
    billing_events.unregister_listener(st.ports(), st.caller(token_info), id_)
    return None, 204

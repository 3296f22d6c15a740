"""TMF678 Customer Bill Management v4: stored statements, their lines and statement requests
as customerBill, appliedCustomerBillingRate and customerBillOnDemand JSON."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from panther.settlement import BillingPeriod
from panther.settlement.money import CURRENCY_EXPONENTS, minor_text

__all__ = [
    "TMF_BASE",
    "at",
    "bill_ids_numbered",
    "bill_view",
    "etag",
    "money",
    "rate_view",
    "ref",
    "request_view",
    "statement_header",
]

TMF_BASE = "/tmf-api/customerBillManagement/v4"


def at(day: date) -> str:
    """A day as the date-time of its start, UTC."""
    return f"{day.isoformat()}T00:00:00Z"


def money(units: int, currency: str) -> dict[str, Any]:
    """An amount in minor units as a JSON Money."""
    return {"unit": currency, "value": float(minor_text(units, CURRENCY_EXPONENTS[currency]))}


def ref(base_url: str, kind: str, id_: str) -> dict[str, str]:
    return {"id": id_, "href": f"{base_url}{TMF_BASE}/{kind}/{id_}"}


def etag(row: dict[str, Any]) -> str:
    """A statement's ETag: its revision, bumped on every change."""
    return f'"{row["revision"]}"'


def bill_ids_numbered(bill_no: str) -> set[str]:
    """The bill ids whose billNo (`bill_view`) is ``bill_no``."""
    ids = {f"CB-{bill_no}"}
    if not bill_no.startswith("CB-"):
        ids.add(bill_no)
    return ids


def _relation_ref(base_url: str, relation_id: str) -> dict[str, str]:
    return {"id": relation_id, "href": f"{base_url}/panther/v1/relation/{relation_id}"}


def bill_view(base_url: str, row: dict[str, Any], relation: dict[str, Any]) -> dict[str, Any]:
    """The TMF678 customerBill. It reads the stored statement's header (period, date, terms,
    totals) and never rebuilds its lines: a bill of 20,000 lines is viewed in milliseconds
    (`panther ledger verify` is what checks that the stored statement still hashes right)."""
    doc = json.loads(row["statement"])
    cur = doc["currency"]
    totals = {k: Decimal(v) for k, v in doc["totals"].items()}

    def amount(value: Decimal) -> dict[str, Any]:
        return {"unit": cur, "value": float(value)}

    bill_no = row["id"].removeprefix("CB-")
    due = Decimal(0) if row["state"] == "settled" else totals["total"]
    view: dict[str, Any] = {
        **ref(base_url, "customerBill", row["id"]),
        "@type": "BillingStatement",
        "@baseType": "CustomerBill",
        "billNo": bill_no,
        "billDate": f"{doc['statementDate']}T00:00:00Z",
        "lastUpdate": row["updated_at"],
        "category": "normal",
        "runType": "offCycle",
        "state": row["state"],
        "billingAccount": _relation_ref(base_url, row["relation_id"]),
        "billingPeriod": {
            "startDateTime": f"{doc['period']['start']}T00:00:00Z",
            "endDateTime": f"{doc['period']['end']}T00:00:00Z",
        },
        "relatedParty": [
            {"id": relation["supplier_id"], "role": "supplier", "@referredType": "Organization"},
            {"id": relation["customer_id"], "role": "customer", "@referredType": "Organization"},
        ],
        "taxExcludedAmount": amount(totals["amount"]),
        "taxIncludedAmount": amount(totals["total"]),
        "amountDue": amount(totals["total"]),
        "remainingAmount": amount(due),
        "taxItem": [
            {
                "taxCategory": "VAT",
                "taxRate": float(Decimal(doc["terms"]["taxRate"])),
                "taxAmount": amount(totals["tax"]),
            }
        ],
        "billDocument": [
            {
                "id": f"{row['id']}.pdf",
                "name": f"{bill_no}.pdf",
                "attachmentType": "invoice",
                "mimeType": "application/pdf",
                "url": f"{base_url}{TMF_BASE}/customerBill/{row['id']}/billDocument",
                "@referredType": "Attachment",
            }
        ],
        "statementVersion": row["version"],
        "statementHash": row["statement_hash"],
        "linesRoot": row["lines_root"],
        "heldOutAmount": amount(totals["heldOut"]),
    }
    if base_url:
        view["@schemaLocation"] = (
            f"{base_url}{TMF_BASE}/openapi.json#/components/schemas/BillingStatement"
        )
    if row["supersedes"]:
        view["supersedes"] = ref(base_url, "customerBill", row["supersedes"])
    if row["superseded_by"]:
        view["supersededBy"] = ref(base_url, "customerBill", row["superseded_by"])
    return view


def statement_header(statement_text: str) -> dict[str, Any]:
    """What a line's view needs of its statement: the period and the terms (decoded once per
    statement, not per line)."""
    doc = json.loads(statement_text)
    return {"period": doc["period"], "terms": doc["terms"]}


def rate_view(base_url: str, line: dict[str, Any], bill: dict[str, Any]) -> dict[str, Any]:
    """One line as an appliedCustomerBillingRate; ``bill`` has the bill's ``id``,
    ``relation_id`` and ``doc``: its statement_header."""
    body = json.loads(line["body"])
    doc = bill["doc"]
    period = doc["period"]
    cur = body["currency"]
    rate = Decimal(str(doc["terms"]["taxRate"]))
    view: dict[str, Any] = {
        **ref(base_url, "appliedCustomerBillingRate", line["id"]),
        "type": line["kind"],
        "isBilled": bool(line["is_billed"]),
        "date": f"{period['end']}T00:00:00Z",
        "bill": ref(base_url, "customerBill", bill["id"]),
        "billingAccount": _relation_ref(base_url, bill["relation_id"]),
    }
    chars: list[dict[str, Any]] = [
        {"name": "lineNumber", "valueType": "integer", "value": line["line_no"]}
    ]
    if line["is_billed"]:
        view["name"] = f"{body['product'] or 'relation'} {body['kind']}"
        view["periodCoverage"] = {
            "startDateTime": f"{body['start']}T00:00:00Z",
            "endDateTime": f"{body['end']}T00:00:00Z",
        }
        view["taxExcludedAmount"] = {"unit": cur, "value": float(body["amount"])}
        view["taxIncludedAmount"] = {"unit": cur, "value": float(body["total"])}
        view["appliedTax"] = [
            {
                "taxCategory": "VAT",
                "taxRate": float(rate),
                "taxAmount": {"unit": cur, "value": float(body["tax"])},
            }
        ]
        if body["days"] is not None:
            chars.append({"name": "activeDays", "valueType": "integer", "value": body["days"]})
        if body["months"] is not None:
            chars.append({"name": "monthsDue", "valueType": "string", "value": body["months"]})
        chars.append({"name": "rate", "valueType": "string", "value": body["rate"]})
        if body["kind"] == "recurring":
            chars.append(
                {"name": "prorationRule", "valueType": "string", "value": doc["terms"]["proration"]}
            )
        chars.append(
            {"name": "roundingRule", "valueType": "string", "value": doc["terms"]["rounding"]}
        )
        if body["kind"] == "credit" and body["reference"]:
            chars.append(
                {"name": "troubleTicketId", "valueType": "string", "value": body["reference"]}
            )
    else:
        view["name"] = f"{body['product']} (held out: {body['reason']})"
        view["periodCoverage"] = {
            "startDateTime": f"{period['start']}T00:00:00Z",
            "endDateTime": f"{period['end']}T00:00:00Z",
        }
        view["taxExcludedAmount"] = {"unit": cur, "value": float(body["amountAtStake"])}
        chars.append({"name": "heldOutReason", "valueType": "string", "value": body["reason"]})
    if line["product_id"]:
        view["product"] = {
            "id": line["product_id"],
            "href": f"{base_url}/tmf-api/productInventory/v4/product/{line['product_id']}",
        }
    view["characteristic"] = chars
    return view


def request_view(base_url: str, row: dict[str, Any]) -> dict[str, Any]:
    """A statement request as a customerBillOnDemand (the BillingStatementOnDemand subtype)."""
    period = BillingPeriod.from_label(row["period"])
    view: dict[str, Any] = {
        **ref(base_url, "customerBillOnDemand", row["id"]),
        "@type": "BillingStatementOnDemand",
        "@baseType": "CustomerBillOnDemand",
        "state": row["state"],
        "lastUpdate": row["created_at"],
        "billingAccount": _relation_ref(base_url, row["relation_id"]),
        "billingPeriod": {"startDateTime": at(period.start), "endDateTime": at(period.end)},
        "relatedParty": {
            "id": row["party_id"],
            "role": "requester",
            "@referredType": "Organization",
        },
    }
    if base_url:
        view["@schemaLocation"] = (
            f"{base_url}{TMF_BASE}/openapi.json#/components/schemas/BillingStatementOnDemand"
        )
    for key in ("name", "description"):
        if row.get(key) is not None:
            view[key] = row[key]
    if row["bill_id"]:
        view["customerBill"] = ref(base_url, "customerBill", row["bill_id"])
    return view

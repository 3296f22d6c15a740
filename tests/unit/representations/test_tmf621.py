"""The TMF621 view of a stored dispute, without a database: what it copies, what it adds."""

from __future__ import annotations

import json
from typing import Any

from panther.server.representations.tmf621 import (
    creation_properties,
    entity_href,
    ledger_entity,
    public_resolution,
    ticket_view,
)

BASE = "https://panther.example"
CBM = f"{BASE}/tmf-api/customerBillManagement/v4"


def stored_ticket(**body: Any) -> dict[str, Any]:
    """A trouble_ticket row as the use cases store it."""
    stored = {
        "name": "CID-3 never delivered",
        "severity": "Major",
        "relatedEntity": [
            {
                "id": "ACBR-1",
                "role": "disputedCharge",
                "@referredType": "AppliedCustomerBillingRate",
            },
            {"id": "CB-1", "role": "disputedBill", "@referredType": "CustomerBill"},
            ledger_entity(7, "DisputeOpened"),
            ledger_entity(9, "DisputeResolved"),
        ],
        "relatedParty": [{"id": "P-cus", "role": "customer", "@referredType": "Organization"}],
        "note": [{"id": "1", "text": "see the delivery note", "author": "P-cus", "date": "t0"}],
        "statusChange": [{"status": "acknowledged", "changeDate": "t0"}],
        "statusChangeDate": "t1",
        **body,
    }
    return {
        "id": "TT-1",
        "ticket_type": "billingDispute",
        "status": "closed",
        "created_at": "t0",
        "updated_at": "t1",
        "body": json.dumps(stored, sort_keys=True),
    }


def test_the_view_shows_the_stored_properties_with_hrefs() -> None:
    view = ticket_view(BASE, stored_ticket(unknown="kept out"))
    assert view["href"] == f"{BASE}/tmf-api/troubleTicket/v4/troubleTicket/TT-1"
    assert view["@schemaLocation"].endswith("/openapi.json#/components/schemas/Dispute")
    assert (view["@type"], view["@baseType"], view["ticketType"]) == (
        "Dispute",
        "TroubleTicket",
        "billingDispute",
    )
    assert (view["name"], view["severity"], view["status"]) == (
        "CID-3 never delivered",
        "Major",
        "closed",
    )
    assert (view["creationDate"], view["lastUpdate"], view["statusChangeDate"]) == (
        "t0",
        "t1",
        "t1",
    )
    assert "unknown" not in view and "resolution" not in view and "resolutionDate" not in view
    assert [e["href"] for e in view["relatedEntity"]] == [
        f"{CBM}/appliedCustomerBillingRate/ACBR-1",
        f"{CBM}/customerBill/CB-1",
        f"{BASE}/panther/v1/ledger/entry/7",
        f"{BASE}/panther/v1/ledger/entry/9",
    ]
    assert view["note"][0]["text"] == "see the delivery note"


def test_the_bill_carrying_the_credit_comes_before_the_ledger_entries() -> None:
    view = ticket_view(BASE, stored_ticket(), credited_on="CB-2")
    assert [(e["role"], e["id"]) for e in view["relatedEntity"]] == [
        ("disputedCharge", "ACBR-1"),
        ("disputedBill", "CB-1"),
        ("creditedOn", "CB-2"),
        ("ledgerEntry", "7"),
        ("ledgerEntry", "9"),
    ]
    assert view["relatedEntity"][2]["href"] == f"{CBM}/customerBill/CB-2"


def test_without_a_base_url_hrefs_are_relative_and_there_is_no_schema_location() -> None:
    view = ticket_view("", stored_ticket())
    assert view["href"] == "/tmf-api/troubleTicket/v4/troubleTicket/TT-1"
    assert "@schemaLocation" not in view


def test_the_public_resolution_hides_what_is_kept_for_the_ledger() -> None:
    stored: dict[str, Any] = {
        "outcome": "credit",
        "creditAmount": {"unit": "EUR", "value": 12.5, "decimal": "12.50"},
        "reason": "goodwill",
        "proposedBy": "P-sup",
    }
    shown = public_resolution(stored)
    assert shown == {
        "@type": "DisputeResolution",
        "outcome": "credit",
        "creditAmount": {"unit": "EUR", "value": 12.5},
        "proposedBy": "P-sup",
    }
    assert stored["creditAmount"]["decimal"] == "12.50"  # the stored one is left as it was
    view = ticket_view(BASE, stored_ticket(resolution=stored, resolutionDate="t1"))
    assert view["resolution"] == shown and view["resolutionDate"] == "t1"


def test_a_match_item_href_and_what_creation_keeps() -> None:
    item = {"id": "run-1:42", "role": "disputedItem"}
    assert entity_href(BASE, item) == f"{BASE}/panther/v1/matchRun/run-1/item/42"
    assert creation_properties({"name": "n", "status": "closed", "externalId": "X-1"}) == {
        "name": "n",
        "externalId": "X-1",
    }

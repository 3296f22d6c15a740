"""TMF621 disputes: every transition by each side, resolution and agreement, notes, ETags,
concurrent changes, visibility, filters and hub events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from conformance.official import (
    TMF621_V4,
    validate_against,
    validate_against_document,
    validate_response_against_document,
    validate_tmf621_trouble_ticket,
)
from panther.adapters.sql import repository as repo
from panther.server.services import disputes
from panther.server.services.ports import Ports

from .test_tmf621 import (
    DOC,
    STATUSES,
    TT,
    bill_entity,
    charge_entity,
    error_ok,
    item_entity,
    ledger_entry,
    list_ok,
    open_ticket,
    patch,
    scene,
    ticket_ok,
    ticket_row,
)
from .world import Actor, World

pytestmark = pytest.mark.usefixtures("official_schemas")

# The contract's lifecycle table, written out again here: (from, to) -> who may.
TABLE = {
    ("acknowledged", "inProgress"): "other",
    ("acknowledged", "rejected"): "other",
    ("acknowledged", "cancelled"): "originator",
    ("inProgress", "cancelled"): "originator",
    ("pending", "cancelled"): "originator",
    ("inProgress", "pending"): "either",
    ("pending", "inProgress"): "either",
    ("inProgress", "resolved"): "either",
    ("pending", "resolved"): "either",
    ("resolved", "closed"): "notProposer",
    ("resolved", "inProgress"): "notProposer",
}
PROPOSAL = {"outcome": "supplierValueStands", "description": "The supplier's price stands."}


def ledger_names(ticket: dict[str, Any]) -> list[str]:
    return [e["name"] for e in ticket["relatedEntity"] if e["role"] == "ledgerEntry"]


def change_body(status: str, resolution: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status}
    if status == "rejected":
        body["statusChangeReason"] = "not a dispute we can act on"
    if status == "resolved":
        body["resolution"] = resolution or PROPOSAL
    return body


class Dispute:
    """One ticket driven through the API: the customer opened it, the supplier is the other."""

    def __init__(self, world: World, ticket: dict[str, Any], tag: str) -> None:
        self.world, self.ticket, self.tag = world, ticket, tag

    def actor(self, who: str) -> Actor:
        return self.world.customer if who == "originator" else self.world.supplier

    async def change(self, who: str, status: str, **body: Any) -> dict[str, Any]:
        r = await patch(
            self.actor(who), self.ticket["id"], {**change_body(status), **body}, self.tag
        )
        self.ticket = ticket_ok(r, "patchTroubleTicket")
        self.tag = r.headers["ETag"]
        assert self.ticket["status"] == status
        return self.ticket

    async def walk(self, path: list[tuple[str, str]]) -> None:
        for who, status in path:
            await self.change(who, status)

    async def finish(self) -> None:
        """Bring it to a final status, so its entities may be disputed again."""
        status = self.ticket["status"]
        if status == "resolved":
            proposer = self.ticket["resolution"]["proposedBy"]
            who = "other" if proposer == self.world.customer.party_id else "originator"
            await self.change(who, "closed")
        elif status not in ("closed", "rejected", "cancelled"):
            await self.change("originator", "cancelled")


async def open_dispute(world: World, entity: dict[str, Any], **extra: Any) -> Dispute:
    r = await open_ticket(world.customer, [entity], **extra)
    return Dispute(world, ticket_ok(r, "createTroubleTicket", 201), r.headers["ETag"])


# How to reach each status from acknowledged; in `resolved` the supplier proposed.
PATHS: dict[str, list[tuple[str, str]]] = {
    "acknowledged": [],
    "inProgress": [("other", "inProgress")],
    "pending": [("other", "inProgress"), ("originator", "pending")],
    "resolved": [("other", "inProgress"), ("other", "resolved")],
    "closed": [("other", "inProgress"), ("other", "resolved"), ("originator", "closed")],
    "rejected": [("other", "rejected")],
    "cancelled": [("originator", "cancelled")],
}


# ---- the lifecycle table ------------------------------------------------------------------


async def test_every_transition_by_each_side(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    entity = item_entity(s.items["CID-000002"])
    sides = {"originator": world.customer, "other": world.supplier}
    refused = 0
    for before in STATUSES:
        d = await open_dispute(world, entity)
        await d.walk(PATHS[before])
        proposer = "other"  # in `resolved`, the supplier proposed
        for after in STATUSES:
            if after == before:
                continue
            for who, actor in sides.items():
                allowed = TABLE.get((before, after))
                if allowed is None:
                    expected = 409
                elif allowed == "originator":
                    expected = 0 if who == "originator" else 403
                elif allowed == "other":
                    expected = 0 if who == "other" else 403
                elif allowed == "notProposer":
                    expected = 0 if who != proposer else 403
                else:
                    expected = 0
                if not expected:
                    continue
                r = await patch(actor, d.ticket["id"], change_body(after), d.tag)
                body = error_ok(r, "patchTroubleTicket", expected)
                assert before in body["message"] and after in body["message"], body
                refused += 1
        # Refusals change nothing.
        r = await world.customer.get(f"{TT}/troubleTicket/{d.ticket['id']}")
        assert ticket_ok(r, "retrieveTroubleTicket") == d.ticket and r.headers["ETag"] == d.tag
        await d.finish()
    assert refused == 84 - 15  # 42 ordered pairs x 2 sides, less the 15 allowed (pair, side)

    # Every allowed transition by every side that may make it, on a fresh ticket each time.
    made = 0
    for (before, after), allowed in TABLE.items():
        whos = ["originator", "other"] if allowed in ("either", "notProposer") else [allowed]
        for who in whos:
            d = await open_dispute(world, entity)
            if before == "resolved":
                # The carrier that did not make this change proposed the resolution.
                proposer = "other" if who == "originator" else "originator"
                await d.walk([("other", "inProgress"), (proposer, "resolved")])
            else:
                await d.walk(PATHS[before])
            actor = d.actor(who)
            signed_before = ledger_names(d.ticket)
            t = await d.change(who, after)
            assert t["statusChange"][-1]["status"] == after
            assert t["statusChangeDate"] == t["lastUpdate"] == t["statusChange"][-1]["changeDate"]
            name = "DisputeResolved" if after == "closed" else "DisputeStatusChanged"
            assert ledger_names(t) == [*signed_before, name]
            entry = await ledger_entry(actor, t)
            if after == "closed":
                assert entry["signers"] == [world.supplier.address, world.customer.address]
            else:
                assert entry["signers"] == [actor.address]
                assert (entry["payload"]["from"], entry["payload"]["status"]) == (before, after)
                assert entry["payload"]["party"] == actor.party_id
            if after == "rejected":
                assert t["statusChangeReason"] == "not a dispute we can act on"
            if (before, after) == ("resolved", "inProgress"):
                assert "resolution" not in t
            made += 1
            await d.finish()
    assert made == 17


async def test_resolution_decline_and_agreement_with_credit(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    item = s.items["CID-000002"]
    d = await open_dispute(world, item_entity(item), note=[{"text": "We ordered at 1250.00."}])
    await d.walk([("other", "inProgress")])
    await d.change("originator", "pending", statusChangeReason="looking for the order")
    assert d.ticket["statusChangeReason"] == "looking for the order"
    await d.walk([("other", "inProgress")])
    assert "statusChangeReason" not in d.ticket

    # The supplier proposes a credit.
    proposal = {
        "outcome": "customerValueStands",
        "fieldValue": [{"field": "price", "valueFrom": "customer"}],
        "creditAmount": {"unit": "EUR", "value": 50.5},
        "description": "Price corrected from December; November credited.",
        "proposedBy": "someone else",  # the server's to set
        "agreementDate": "2020-01-01T00:00:00Z",
    }
    t = await d.change("other", "resolved", statusChangeReason="price fixed", resolution=proposal)
    assert t["resolution"] == {
        "@type": "DisputeResolution",
        "outcome": "customerValueStands",
        "fieldValue": [{"field": "price", "valueFrom": "customer"}],
        "creditAmount": {"unit": "EUR", "value": 50.5},
        "description": "Price corrected from December; November credited.",
        "proposedBy": world.supplier.party_id,
        "proposalDate": t["lastUpdate"],
    }
    entry = await ledger_entry(world.customer, t)
    assert entry["type"] == "DisputeStatusChanged" and entry["signers"] == [world.supplier.address]
    assert entry["payload"]["proposalNo"] == 1
    assert entry["payload"]["resolution"] == {
        "outcome": "customerValueStands",
        "fieldValue": [{"field": "price", "valueFrom": "customer"}],
        "creditAmount": {"unit": "EUR", "value": "50.50"},
        "description": "Price corrected from December; November credited.",
        "proposedBy": world.supplier.party_id,
    }
    with ports.db.read() as conn:
        signatures = repo.list_rows(
            conn, repo.T.dispute_signature, [repo.T.dispute_signature.c.ticket_id == t["id"]]
        )
    with ports.uow.read() as uow:
        seen = disputes.disputes_of_entities(uow, [item])
    assert [(r["proposal_no"], r["party_id"]) for r in signatures] == [(1, world.supplier.party_id)]
    assert seen[item]["status"] == "resolved"
    assert seen[item]["resolution"]["creditAmount"] == {"unit": "EUR", "value": 50.5}

    # The proposer cannot accept its own proposal; the customer declines it.
    r = await patch(world.supplier, t["id"], {"status": "closed"}, d.tag)
    error_ok(r, "patchTroubleTicket", 403)
    t = await d.change("originator", "inProgress", statusChangeReason="50.50 is not enough")
    assert "resolution" not in t and ticket_row(ports, t["id"])["credit"] is None

    # The customer proposes 25 EUR, the supplier agrees: DisputeResolved with both signatures.
    ask = {"outcome": "agreedValue", "fieldValue": [{"field": "price", "valueFrom": "agreed",
                                                     "value": 1275}],
           "creditAmount": {"unit": "EUR", "value": 25}}  # fmt: skip
    await d.change("originator", "resolved", statusChangeReason="meet halfway", resolution=ask)
    t = await d.change("other", "closed", statusChangeReason="agreed")
    assert t["resolution"]["proposedBy"] == world.customer.party_id
    assert t["resolution"]["creditAmount"] == {"unit": "EUR", "value": 25.0}
    assert t["resolution"]["agreementDate"] == t["resolutionDate"] == t["lastUpdate"]
    assert [c["status"] for c in t["statusChange"]] == [
        "acknowledged", "inProgress", "pending", "inProgress", "resolved", "inProgress",
        "resolved", "closed",
    ]  # fmt: skip
    assert ledger_names(t) == ["DisputeOpened", *["DisputeStatusChanged"] * 6, "DisputeResolved"]
    entry = await ledger_entry(world.supplier, t)
    assert entry["signers"] == [world.supplier.address, world.customer.address]
    assert entry["payload"] == {
        "ticketId": t["id"],
        "relationId": world.relation_id,
        "proposalNo": 2,
        "status": "closed",
        "reason": "meet halfway",
        "resolution": {
            "outcome": "agreedValue",
            "fieldValue": [{"field": "price", "valueFrom": "agreed", "value": 1275}],
            "creditAmount": {"unit": "EUR", "value": "25.00"},
            "proposedBy": world.customer.party_id,
        },
        "relatedEntity": [item],
    }
    row = ticket_row(ports, t["id"])
    assert json.loads(row["credit"]) == {"value": "25.00", "unit": "EUR", "productId": "CID-000002"}
    assert row["resolved_seq"] == entry["seq"] and row["credited_period"] is None

    # Closed is final: no status change, no note.
    r = await patch(world.customer, t["id"], {"status": "inProgress"})
    error_ok(r, "patchTroubleTicket", 409)
    r = await patch(world.customer, t["id"], {"note": [*t["note"], {"text": "one more"}]})
    assert "closed" in error_ok(r, "patchTroubleTicket", 409)["message"]
    assert (
        ticket_ok(
            await world.customer.get(f"{TT}/troubleTicket/{t['id']}"), "retrieveTroubleTicket"
        )
        == t
    )

    # The item may be disputed again; the lookup names the newest dispute.
    again = await open_dispute(world, item_entity(item))
    with ports.uow.read() as uow:
        seen = disputes.disputes_of_entities(uow, [item])
    assert seen == {item: {"ticketId": again.ticket["id"], "status": "acknowledged",
                           "resolution": None}}  # fmt: skip

    r = await world.operator.post("/panther/v1/ledger/verification")
    assert r.json()["ok"] is True, r.json()


async def test_billing_dispute_credit_for_the_line(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    line = s.lines["CID-000003"]
    r = await open_ticket(
        world.customer, [charge_entity(line), bill_entity(s.bill_id)], "billingDispute"
    )
    d = Dispute(world, ticket_ok(r, "createTroubleTicket", 201), r.headers["ETag"])
    await d.walk([("other", "inProgress")])
    credit = {"outcome": "customerValueStands", "creditAmount": {"unit": "EUR", "value": 1250}}
    await d.change("other", "resolved", resolution=credit)
    t = await d.change("originator", "closed")
    assert t["resolution"]["creditAmount"] == {"unit": "EUR", "value": 1250.0}
    assert json.loads(ticket_row(ports, t["id"])["credit"]) == {
        "value": "1250.00",
        "unit": "EUR",
        "productId": "CID-000003",
    }


async def test_resolution_and_reason_are_checked(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    d = await open_dispute(world, item_entity(s.items["CID-000002"]))
    tid = d.ticket["id"]
    r = await patch(world.supplier, tid, {"status": "rejected"}, d.tag)
    assert error_ok(r, "patchTroubleTicket", 422)["details"][0]["pointer"] == "/statusChangeReason"
    await d.walk([("other", "inProgress")])
    cases = [
        ({"status": "resolved"}, "/resolution"),
        ({"resolution": PROPOSAL}, "/resolution"),
        ({"status": "pending", "resolution": PROPOSAL}, "/resolution"),
        ({"statusChangeReason": "why not"}, "/statusChangeReason"),
        (
            change_body("resolved", {**PROPOSAL, "creditAmount": {"unit": "USD", "value": 5}}),
            "/resolution/creditAmount/unit",
        ),
        (
            change_body("resolved", {**PROPOSAL, "creditAmount": {"unit": "EUR", "value": 1.234}}),
            "/resolution/creditAmount/value",
        ),
        (
            change_body(
                "resolved",
                {"outcome": "agreedValue", "fieldValue": [{"field": "x", "valueFrom": "agreed"}]},
            ),
            "/resolution/fieldValue/0/value",
        ),
        (change_body("resolved", {"outcome": "agreedValue"}), "/resolution/fieldValue"),
        (
            change_body("resolved", {**PROPOSAL, "creditAmount": {"unit": "EUR", "value": 1e30}}),
            "/resolution/creditAmount/value",
        ),
        (  # beyond what RFC 8785 JSON (and so a signed payload) can carry
            change_body(
                "resolved",
                {
                    "outcome": "agreedValue",
                    "fieldValue": [{"field": "x", "valueFrom": "agreed", "value": 2**60}],
                },
            ),
            "/resolution/fieldValue/0/value",  # refused with the body, at the number itself
        ),
    ]
    for body, pointer in cases:
        r = await patch(world.supplier, tid, body, d.tag)
        assert error_ok(r, "patchTroubleTicket", 422)["details"][0]["pointer"] == pointer, body
    # A credit of zero or less is not a credit (the schema says so: 400).
    r = await patch(
        world.supplier,
        tid,
        change_body("resolved", {**PROPOSAL, "creditAmount": {"unit": "EUR", "value": 0}}),
        d.tag,
    )
    error_ok(r, "patchTroubleTicket", 400)
    r = await world.supplier.get(f"{TT}/troubleTicket/{tid}")
    assert ticket_ok(r, "retrieveTroubleTicket") == d.ticket and r.headers["ETag"] == d.tag


# ---- notes and other fields ---------------------------------------------------------------


async def test_notes_are_append_only(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    d = await open_dispute(world, item_entity(s.items["CID-000002"]), note=[{"text": "first"}])
    tid, (first,) = d.ticket["id"], d.ticket["note"]

    r = await patch(world.supplier, tid, {"note": [first, {"text": "second", "id": "99"}]}, d.tag)
    t = ticket_ok(r, "patchTroubleTicket")
    assert r.headers["ETag"] != d.tag
    assert t["note"] == [
        first,
        {"id": "2", "author": world.supplier.party_id, "date": t["lastUpdate"], "text": "second"},
    ]
    assert t["status"] == "acknowledged" and t["statusChange"] == d.ticket["statusChange"]
    assert ledger_names(t) == ["DisputeOpened"]  # a note is no ledger transaction
    d.ticket, d.tag = t, r.headers["ETag"]

    # Omitting or changing an existing note is 409; other properties are 400; nothing changes.
    second = t["note"][1]
    for notes in (
        [{"text": "third"}],
        [first, {"text": "third"}],
        [second, first, {"text": "third"}],
        [first, {**second, "text": "edited"}, {"text": "third"}],
        [first, {**second, "@type": "Note"}],
    ):
        r = await patch(world.customer, tid, {"note": notes})
        assert "append-only" in error_ok(r, "patchTroubleTicket", 409)["message"]
    for body in (
        {"description": "changed"},
        {"status": "cancelled", "severity": "Minor"},
        {"relatedEntity": [item_entity(s.items["VF-9"])]},
        {"note": [*t["note"], {"text": "x"}], "name": "renamed"},
        {"id": "TT-other"},
    ):
        r = await patch(world.customer, tid, body)
        error_ok(r, "patchTroubleTicket", 400)
    r = await patch(world.customer, tid, {"note": [*t["note"], {"author": "me"}]})
    assert error_ok(r, "patchTroubleTicket", 422)["details"][0]["pointer"] == "/note/2/text"
    # Sending the notes unchanged, or nothing, changes nothing.
    for body in ({"note": t["note"]}, {}, {"status": "acknowledged"}):
        r = await patch(world.customer, tid, body)
        assert ticket_ok(r, "patchTroubleTicket") == t and r.headers["ETag"] == d.tag
    r = await world.customer.get(f"{TT}/troubleTicket/{tid}")
    assert ticket_ok(r, "retrieveTroubleTicket") == t and r.headers["ETag"] == d.tag

    # A note and a status change together (as application/json this time).
    r = await world.supplier.http.patch(
        f"{TT}/troubleTicket/{tid}",
        json={"status": "inProgress", "note": [*t["note"], {"text": "on it"}]},
        headers={**world.supplier.auth, "If-Match": d.tag},
    )
    t = ticket_ok(r, "patchTroubleTicket")
    assert t["status"] == "inProgress" and [n["text"] for n in t["note"]] == [
        "first",
        "second",
        "on it",
    ]
    assert ledger_names(t) == ["DisputeOpened", "DisputeStatusChanged"]


# ---- ETags and concurrent changes ---------------------------------------------------------


async def test_stale_if_match_changes_nothing(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    d = await open_dispute(world, item_entity(s.items["CID-000002"]))
    tid = d.ticket["id"]
    r = await patch(world.supplier, tid, {"status": "inProgress"}, '"999"')
    assert "ETag" in error_ok(r, "patchTroubleTicket", 412)["message"]
    r = await patch(world.customer, tid, {"note": [{"text": "x"}]}, '"999"')
    error_ok(r, "patchTroubleTicket", 412)
    r = await world.supplier.get(f"{TT}/troubleTicket/{tid}")
    assert ticket_ok(r, "retrieveTroubleTicket") == d.ticket and r.headers["ETag"] == d.tag
    r = await patch(world.supplier, tid, {"status": "inProgress"}, "*")
    assert ticket_ok(r, "patchTroubleTicket")["status"] == "inProgress"
    # The tag that was current is stale now.
    r = await patch(world.customer, tid, {"status": "cancelled"}, d.tag)
    error_ok(r, "patchTroubleTicket", 412)
    assert ticket_row(ports, tid)["status"] == "inProgress"


async def test_concurrent_changes_one_wins(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    # With If-Match: the loser gets 412.
    d = await open_dispute(world, item_entity(s.items["CID-000002"]))
    tid = d.ticket["id"]
    take_up, withdraw = await asyncio.gather(
        patch(world.supplier, tid, {"status": "inProgress"}, d.tag),
        patch(world.customer, tid, {"status": "cancelled"}, d.tag),
    )
    assert sorted([take_up.status_code, withdraw.status_code]) == [200, 412]
    winner = take_up if take_up.status_code == 200 else withdraw
    loser = withdraw if winner is take_up else take_up
    error_ok(loser, "patchTroubleTicket", 412)
    t = ticket_ok(await world.customer.get(f"{TT}/troubleTicket/{tid}"), "retrieveTroubleTicket")
    assert t == ticket_ok(winner, "patchTroubleTicket")
    assert ledger_names(t) == ["DisputeOpened", "DisputeStatusChanged"]
    assert len(t["statusChange"]) == 2

    # Without If-Match: the loser's change is no longer allowed (409).
    d = await open_dispute(world, item_entity(s.items["VF-9"]))
    tid = d.ticket["id"]
    reject, withdraw = await asyncio.gather(
        patch(world.supplier, tid, change_body("rejected")),
        patch(world.customer, tid, {"status": "cancelled"}),
    )
    assert sorted([reject.status_code, withdraw.status_code]) == [200, 409]
    winner = reject if reject.status_code == 200 else withdraw
    loser = withdraw if winner is reject else reject
    assert "cannot become" in error_ok(loser, "patchTroubleTicket", 409)["message"]
    t = ticket_ok(await world.supplier.get(f"{TT}/troubleTicket/{tid}"), "retrieveTroubleTicket")
    assert t["status"] == ticket_ok(winner, "patchTroubleTicket")["status"]
    assert ledger_names(t) == ["DisputeOpened", "DisputeStatusChanged"]

    # Both carriers opening a dispute about the same item at once: one dispute, one 409.
    item = item_entity(s.items["CID-000003"])
    a, b = await asyncio.gather(
        open_ticket(world.customer, [item]), open_ticket(world.supplier, [item])
    )
    assert sorted([a.status_code, b.status_code]) == [201, 409]
    first, second = (a, b) if a.status_code == 201 else (b, a)
    opened = ticket_ok(first, "createTroubleTicket", 201)
    assert opened["id"] in error_ok(second, "createTroubleTicket", 409)["message"]
    r = await world.customer.get(f"{TT}/troubleTicket", **{"relatedEntity.id": item["id"]})
    assert [t["id"] for t in list_ok(r)] == [opened["id"]]

    # Two carriers adding a note at once: one note is kept, the other refused, none lost.
    r = await open_ticket(world.customer, [charge_entity(s.lines["CID-000001"])], "billingDispute")
    tid = ticket_ok(r, "createTroubleTicket", 201)["id"]
    a, b = await asyncio.gather(
        patch(world.supplier, tid, {"note": [{"text": "from the supplier"}]}),
        patch(world.customer, tid, {"note": [{"text": "from the customer"}]}),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 409]
    first, second = (a, b) if a.status_code == 200 else (b, a)
    error_ok(second, "patchTroubleTicket", 409)
    t = ticket_ok(await world.supplier.get(f"{TT}/troubleTicket/{tid}"), "retrieveTroubleTicket")
    assert t == ticket_ok(first, "patchTroubleTicket")
    assert len(t["note"]) == 1 and t["note"][0]["text"] in (
        "from the supplier",
        "from the customer",
    )


# ---- who sees what; filters -----------------------------------------------------------------


async def test_visibility_filters_and_fields(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    inv = await open_dispute(world, item_entity(s.items["CID-000002"]), externalId="VF-DSP-7")
    r = await open_ticket(
        world.supplier,
        [charge_entity(s.lines["CID-000001"]), bill_entity(s.bill_id)],
        "billingDispute",
    )
    bill = ticket_ok(r, "createTroubleTicket", 201)
    await inv.walk([("other", "inProgress")])
    mine = {"relatedParty.id": world.customer.party_id}

    # The outsider: 404 for both, nothing listed.
    for tid in (inv.ticket["id"], bill["id"]):
        error_ok(
            await world.outsider.get(f"{TT}/troubleTicket/{tid}"), "retrieveTroubleTicket", 404
        )
        r = await patch(world.outsider, tid, {"status": "cancelled"})
        error_ok(r, "patchTroubleTicket", 404)
    r = await world.outsider.get(f"{TT}/troubleTicket", **mine)
    assert list_ok(r) == [] and r.headers["X-Total-Count"] == "0"
    listed = list_ok(await world.outsider.get(f"{TT}/troubleTicket", limit=1000))
    assert not {inv.ticket["id"], bill["id"]} & {t["id"] for t in listed}
    # Unknown ids.
    error_ok(await world.customer.get(f"{TT}/troubleTicket/TT-none"), "retrieveTroubleTicket", 404)
    error_ok(
        await patch(world.customer, "TT-none", {"status": "cancelled"}), "patchTroubleTicket", 404
    )

    # The operator sees them, but changes nothing.
    r = await world.operator.get(f"{TT}/troubleTicket/{bill['id']}")
    assert ticket_ok(r, "retrieveTroubleTicket") == bill
    r = await world.operator.get(f"{TT}/troubleTicket", **mine)
    assert [t["id"] for t in list_ok(r)] == [inv.ticket["id"], bill["id"]]
    r = await patch(world.operator, bill["id"], {"status": "cancelled"})
    error_ok(r, "patchTroubleTicket", 403)

    # Both carriers list both; filters.
    for actor in (world.customer, world.supplier):
        r = await actor.get(f"{TT}/troubleTicket", **mine)
        assert list_ok(r) == [inv.ticket, bill] and r.headers["X-Total-Count"] == "2"

    async def ids(**query: Any) -> list[str]:
        r = await world.customer.get(f"{TT}/troubleTicket", **mine, **query)
        return [t["id"] for t in list_ok(r)]

    assert await ids(status="inProgress") == [inv.ticket["id"]]
    assert await ids(status="acknowledged") == [bill["id"]]
    assert await ids(status="closed") == []
    assert await ids(ticketType="billingDispute") == [bill["id"]]
    assert await ids(externalId="VF-DSP-7") == [inv.ticket["id"]]
    assert await ids(**{"relatedEntity.id": s.items["CID-000002"]}) == [inv.ticket["id"]]
    assert await ids(**{"relatedEntity.id": s.bill_id}) == [bill["id"]]
    assert await ids(id=bill["id"]) == [bill["id"]]
    assert await ids(offset=1, limit=1) == [bill["id"]]
    r = await world.customer.get(f"{TT}/troubleTicket", **mine, limit=1)
    assert r.headers["X-Total-Count"] == "2" and r.headers["X-Result-Count"] == "1"
    # past the end of a filtered list (paged in the database, or after the body filters)
    for query in ({"status": "acknowledged"}, {"externalId": "VF-DSP-7"}):
        r = await world.customer.get(f"{TT}/troubleTicket", **mine, **query, offset=1)
        assert list_ok(r) == [] and r.headers["X-Total-Count"] == "1"
    r = await world.customer.get(
        f"{TT}/troubleTicket", **{"relatedParty.id": world.outsider.party_id}
    )
    assert list_ok(r) == []

    # fields: id, href and @type always; the rest as asked.
    r = await world.customer.get(f"{TT}/troubleTicket", **mine, fields="status,ticketType")
    assert list_ok(r) == [
        {"id": t["id"], "href": t["href"], "@type": "Dispute", "status": t["status"],
         "ticketType": t["ticketType"]}
        for t in (inv.ticket, bill)
    ]  # fmt: skip
    r = await world.supplier.get(f"{TT}/troubleTicket/{inv.ticket['id']}", fields="note")
    assert ticket_ok(r, "retrieveTroubleTicket") == {
        "id": inv.ticket["id"],
        "href": inv.ticket["href"],
        "@type": "Dispute",
        "note": [],
    }
    assert r.headers["ETag"] == inv.tag


# ---- events ---------------------------------------------------------------------------------


OFFICIAL_EVENT = {
    "troubleTicketCreateEvent": "TroubleTicketCreateEvent",
    "troubleTicketStatusChangeEvent": "TroubleTicketStatusChangeEvent",
    "troubleTicketAttributeValueChangeEvent": "TroubleTicketAttributeValueChangeEvent",
    "troubleTicketResolvedEvent": "TroubleTicketResolvedEvent",
}


async def test_partners_get_events(world: World, ports: Ports, listener: Any) -> None:
    url, received = listener
    s = await scene(world, ports)
    hubs = {}
    for name, actor, query in (
        ("sup", world.supplier, None),
        ("cus", world.customer, "eventType=troubleTicketStatusChangeEvent"),
        ("out", world.outsider, None),
    ):
        body = {"callback": f"{url}/{name}"} | ({"query": query} if query else {})
        r = await actor.post(f"{TT}/hub", body)
        assert r.status_code == 201, r.text
        validate_response_against_document(DOC, "registerTroubleTicketListener", 201, r.json())
        assert r.json() == {"id": r.json()["id"], **body}
        hubs[name] = r.json()["id"]

    d = await open_dispute(world, item_entity(s.items["CID-000002"]), note=[{"text": "a"}])
    r = await patch(world.supplier, d.ticket["id"], {"note": [*d.ticket["note"], {"text": "b"}]})
    d.ticket, d.tag = ticket_ok(r, "patchTroubleTicket"), r.headers["ETag"]
    await d.walk([("other", "inProgress"), ("originator", "resolved"), ("other", "closed")])
    ports.webhooks.drain()

    def got(name: str) -> list[tuple[str, dict[str, Any]]]:
        prefix = f"/hooks/{name}/listener/"
        return [(p.removeprefix(prefix), e) for p, e in received if p.startswith(prefix)]

    assert got("out") == []
    sup = got("sup")
    assert [(kind, e["event"]["troubleTicket"]["status"]) for kind, e in sup] == [
        ("troubleTicketCreateEvent", "acknowledged"),
        ("troubleTicketAttributeValueChangeEvent", "acknowledged"),
        ("troubleTicketStatusChangeEvent", "inProgress"),
        ("troubleTicketStatusChangeEvent", "resolved"),
        ("troubleTicketResolvedEvent", "resolved"),
        ("troubleTicketStatusChangeEvent", "closed"),
    ]
    assert [k for k, _ in got("cus")] == ["troubleTicketStatusChangeEvent"] * 3
    for kind, event in sup + got("cus"):
        assert event["eventType"] == kind and event["eventId"] and event["eventTime"]
        validate_against(TMF621_V4, OFFICIAL_EVENT[kind], event)
        ticket = event["event"]["troubleTicket"]
        validate_tmf621_trouble_ticket(ticket)
        validate_against_document(DOC, "Dispute", ticket)
        assert ticket["id"] == d.ticket["id"]
    assert sup[1][1]["fieldPath"] == "note"
    assert [n["text"] for n in sup[1][1]["event"]["troubleTicket"]["note"]] == ["a", "b"]
    assert sup[4][1]["event"]["troubleTicket"]["resolution"]["proposedBy"] == (
        world.customer.party_id
    )
    assert sup[-1][1]["event"]["troubleTicket"] == d.ticket

    r = await world.customer.http.delete(f"{TT}/hub/{hubs['sup']}", headers=world.customer.auth)
    error_ok(r, "unregisterTroubleTicketListener", 404)
    r = await world.supplier.http.delete(f"{TT}/hub/{hubs['sup']}", headers=world.supplier.auth)
    assert r.status_code == 204 and r.content == b""
    r = await world.supplier.post(f"{TT}/hub", {"callback": "ftp://nowhere"})
    assert error_ok(r, "registerTroubleTicketListener", 422)["details"][0]["pointer"] == "/callback"

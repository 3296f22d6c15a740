"""Changing a dispute (PATCH /troubleTicket/{id}): a status change by the carrier the TMF621
lifecycle allows, a resolution proposed with `resolved` and agreed with `closed`, notes."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from panther.ledger.canonical import canonical_json
from panther.ledger.transactions import LedgerEntry
from panther.settlement import InvalidTerms, Terms
from panther.settlement.money import CURRENCY_EXPONENTS

from ..representations.tmf621 import ledger_entity
from .context import Caller
from .dispute_ledger import append_signed, resolved_tx, status_changed_tx
from .disputes import FINAL_STATUSES, etag, invalid, new_notes, publish, ticket_for, views
from .errors import Conflict, Forbidden, PreconditionFailed
from .ports import Ports, Row, UnitOfWork
from .signing import co_sign

__all__ = ["TRANSITIONS", "patch_ticket"]

# (from, to) -> who may make the change (TMF621 document, "Lifecycle"): the `originator`,
# the `other` carrier, `either`, or the carrier that did `notProposer` the resolution.
TRANSITIONS: dict[tuple[str, str], str] = {
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
_WHO = {
    "other": "the carrier that did not open the dispute",
    "originator": "the carrier that opened the dispute",
    "notProposer": "the carrier that did not propose the resolution",
}
# What a proposal may say; proposedBy, proposalDate and agreementDate are the server's.
_RESOLUTION_GIVEN = ("outcome", "fieldValue", "creditAmount", "description")


def _credit(raw: Any, currency: str) -> dict[str, Any]:
    """A proposed credit: in the relation's currency, positive, at most its minor digits."""
    unit = raw.get("unit")
    if unit != currency:
        raise invalid(
            "/resolution/creditAmount/unit", f"the relation's currency is {currency}, not {unit}"
        )
    value = raw.get("value")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise invalid("/resolution/creditAmount/value", "not a number") from None
    if isinstance(value, bool) or not amount.is_finite() or amount <= 0:
        raise invalid("/resolution/creditAmount/value", "must be a positive amount")
    exp = CURRENCY_EXPONENTS[currency]
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # a finite amount (checked above)
    if -exponent > exp:
        raise invalid(
            "/resolution/creditAmount/value", f"{currency} has at most {exp} decimal digits"
        )
    try:
        text = str(amount.quantize(Decimal(1).scaleb(-exp)))
    except InvalidOperation:
        raise invalid("/resolution/creditAmount/value", "too large") from None
    return {"unit": currency, "value": float(text), "decimal": text}


def _resolution(
    raw: dict[str, Any], relation: Row, proposer: str, reason: str | None, now: str
) -> dict[str, Any]:
    out: dict[str, Any] = {k: raw[k] for k in _RESOLUTION_GIVEN if k in raw}
    for n, fv in enumerate(out.get("fieldValue") or []):
        if fv.get("valueFrom") == "agreed" and "value" not in fv:
            raise invalid(f"/resolution/fieldValue/{n}/value", "an agreed value is given here")
    if out["outcome"] == "agreedValue" and not any(
        fv.get("valueFrom") == "agreed" for fv in out.get("fieldValue") or []
    ):
        raise invalid("/resolution/fieldValue", "agreedValue names the agreed value(s) here")
    if "creditAmount" in out:
        try:
            terms = Terms.from_json(json.loads(relation["terms"]))
        except InvalidTerms:
            raise invalid(
                "/resolution/creditAmount", "the relation's terms name no currency"
            ) from None
        out["creditAmount"] = _credit(out["creditAmount"], terms.currency)
    _signable(out, "/resolution")
    out["proposedBy"] = proposer
    out["proposalDate"] = now
    out["reason"] = reason  # the proposal's reason, part of what both carriers sign
    return out


def _signable(value: Any, pointer: str) -> None:
    """What goes into a ledger payload must have a canonical JSON form (RFC 8785)."""
    try:
        canonical_json(value)
    except ValueError:
        raise invalid(pointer, "not representable in a signed ledger payload") from None


def _check_notes(
    stored: list[dict[str, Any]], given: list[dict[str, Any]], status: str
) -> list[dict[str, Any]]:
    """The notes to append; the given array must start with the stored notes unchanged."""
    if len(given) < len(stored) or any(a != b for a, b in zip(stored, given, strict=False)):
        raise Conflict(
            "notes are append-only: send the current notes unchanged followed by the new ones "
            "(someone may have added a note meanwhile: read the ticket again)"
        )
    fresh = given[len(stored) :]
    if fresh and status in FINAL_STATUSES:
        raise Conflict(f"the ticket is {status}; it takes no more notes")
    return fresh


def patch_ticket(
    ports: Ports, caller: Caller, ticket_id: str, body: dict[str, Any], if_match: str | None
) -> tuple[dict[str, Any], str]:
    """Change the status (with a resolution when it becomes `resolved`) or add notes."""
    now = ports.clock.now_iso()
    events: list[str] = []
    with ports.uow.write() as uow:
        row, relation = ticket_for(uow, caller, ticket_id, lock=True)
        if if_match is not None and if_match.strip() not in ("*", etag(row)):
            raise PreconditionFailed(
                f"troubleTicket {ticket_id} changed: its ETag is {etag(row)}, not {if_match}"
            )
        if caller.party_id not in (relation["supplier_id"], relation["customer_id"]):
            raise Forbidden("only the relation's carriers change its disputes")
        stored = json.loads(row["body"])
        before = row["status"]
        wanted = body.get("status")
        reason = body.get("statusChangeReason")
        if "resolution" in body and wanted != "resolved":
            raise invalid("/resolution", "a resolution is given with status resolved only")
        if reason is not None and wanted is None:
            raise invalid("/statusChangeReason", "a reason is given with a new status only")
        changing = wanted is not None and (wanted != before or "resolution" in body)
        if changing:
            assert isinstance(wanted, str)  # the OpenAPI document says so
            allowed = TRANSITIONS.get((before, wanted))
            if allowed is None:
                raise Conflict(f"a trouble ticket in status {before} cannot become {wanted}")
            originator = row["originator_id"]
            proposer = (stored.get("resolution") or {}).get("proposedBy")
            may = {
                "either": True,
                "originator": caller.party_id == originator,
                "other": caller.party_id != originator,
                "notProposer": caller.party_id != proposer,
            }[allowed]
            if not may:
                raise Forbidden(f"only {_WHO[allowed]} moves it from {before} to {wanted}")
            if wanted == "rejected" and not reason:
                raise invalid("/statusChangeReason", "a rejection says why")
            _signable(reason, "/statusChangeReason")
            if wanted == "resolved" and "resolution" not in body:
                raise invalid("/resolution", "status resolved proposes a resolution")
        fresh: list[dict[str, Any]] = []
        if "note" in body:
            fresh = _check_notes(stored["note"], list(body["note"] or []), before)
        if not changing and not fresh:
            (unchanged,) = views(ports, uow, [row])
            return unchanged, etag(row)
        values: Row = {"revision": row["revision"] + 1, "updated_at": now}
        if fresh:
            stored["note"] = stored["note"] + new_notes(
                ports, fresh, len(stored["note"]), caller.party_id, now, "/note"
            )
            events.append("troubleTicketAttributeValueChangeEvent")
        if changing:
            assert isinstance(wanted, str)
            values["status"] = wanted
            entry = _change_status(
                ports, uow, row, relation, stored, values, caller, wanted, reason, now, body
            )
            stored["relatedEntity"].append(ledger_entity(entry.seq, entry.tx.type.value))
            change: dict[str, Any] = {"status": wanted, "changeDate": now}
            if reason is not None:
                change["changeReason"] = reason
            stored["statusChange"].append(change)
            stored["statusChangeDate"] = now
            stored["statusChangeReason"] = reason
            events.insert(0, "troubleTicketStatusChangeEvent")
            if wanted == "resolved":
                events.append("troubleTicketResolvedEvent")
        values["body"] = json.dumps(stored, sort_keys=True)
        if not uow.disputes.update_ticket(ticket_id, row["revision"], values):
            # Someone else changed it between our read and this write.
            raise PreconditionFailed(f"troubleTicket {ticket_id} changed meanwhile; read it again")
        if changing:
            uow.disputes.add_ledger_entry(ticket_id, entry.seq)
        row = {**row, **values}
        (view,) = views(ports, uow, [row])
    for event_type in events:
        publish(ports, relation, event_type, view)
    return view, etag(row)


def _change_status(
    ports: Ports,
    uow: UnitOfWork,
    row: Row,
    relation: Row,
    stored: dict[str, Any],
    values: Row,
    caller: Caller,
    wanted: str,
    reason: str | None,
    now: str,
    body: dict[str, Any],
) -> LedgerEntry:
    """The ledger side of a status change; updates ``stored`` and ``values`` in place."""
    before = row["status"]
    if wanted == "closed":
        signed = co_sign(
            ports,
            uow,
            signatures=uow.disputes.signatures(row["id"], row["proposal_no"]),
            relation=relation,
            party_id=caller.party_id,
            tx=resolved_tx(row, stored),
            signature=None,
        )
        if signed.entry is None:
            raise Conflict(f"the resolution of {row['id']} lacks the proposer's signature")
        resolution = stored["resolution"]
        resolution["agreementDate"] = now
        stored["resolutionDate"] = now
        values["resolved_seq"] = signed.entry.seq
        if resolution.get("creditAmount"):
            values["credit"] = json.dumps(
                {
                    "value": resolution["creditAmount"]["decimal"],
                    "unit": resolution["creditAmount"]["unit"],
                    "productId": _credited_product(uow, row["id"]),
                },
                sort_keys=True,
            )
        return signed.entry
    if wanted == "resolved":
        values["proposal_no"] = row["proposal_no"] + 1
        stored["resolution"] = _resolution(
            body["resolution"], relation, caller.party_id, reason, now
        )
        proposal = {**row, "proposal_no": values["proposal_no"]}
        entry = append_signed(
            ports,
            uow,
            caller.party_id,
            status_changed_tx(proposal, stored, caller.party_id, before, wanted, reason),
        )
        # The proposer's half of the agreement; the other carrier's `closed` completes it.
        co_sign(
            ports,
            uow,
            signatures=uow.disputes.signatures(row["id"], values["proposal_no"]),
            relation=relation,
            party_id=caller.party_id,
            tx=resolved_tx(proposal, stored),
            signature=None,
        )
        return entry
    if before == "resolved":  # declined: the proposal goes
        stored.pop("resolution", None)
    return append_signed(
        ports,
        uow,
        caller.party_id,
        status_changed_tx(row, stored, caller.party_id, before, wanted, reason),
    )


def _credited_product(uow: UnitOfWork, ticket_id: str) -> str | None:
    """The product a credit is for: the one product the dispute names, if it names one."""
    products = set(uow.disputes.disputed_products(ticket_id))
    return products.pop() if len(products) == 1 else None

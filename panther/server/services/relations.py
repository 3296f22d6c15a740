"""Bilateral relations: proposed with a match profile and terms, in force once both agree."""

from __future__ import annotations

import json
import secrets
from typing import Any

from panther.inventory.records import UNREADABLE_RECORDS
from panther.ledger import eip712
from panther.ledger.transactions import Transaction, TxType
from panther.matching.profile import MatchProfile
from panther.settlement import InvalidTerms, Terms

from ..representations.panther.relations import match_profile, relation_view
from .context import Caller
from .errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyPending
from .ports import Ports, Row, UnitOfWork
from .signing import co_sign

__all__ = [
    "DEFAULT_TERMS",
    "agree_relation",
    "agreement_tx",
    "get_relation",
    "holds_out_unreadable",
    "list_relations",
    "load_profile",
    "propose_or_find",
    "propose_relation",
    "relation_for",
]

DEFAULT_TERMS: dict[str, Any] = {
    "currency": "EUR",
    "billingPeriod": "month",
    "proration": "actualDays",
    "settlementRail": "manual",
}


def _view(ports: Ports, row: Row, agreements: list[Row]) -> dict[str, Any]:
    digest = eip712.digest(ports.domain, agreement_tx(row))
    return relation_view(
        row, agreements, base_url=ports.settings.public_base_url, endorsement_digest=digest
    )


def load_profile(row: dict[str, Any]) -> MatchProfile:
    return MatchProfile.from_dict(json.loads(row["profile"]))


def relation_for(uow: UnitOfWork, caller: Caller, relation_id: str) -> dict[str, Any]:
    """The relation if the caller may see it; anyone else gets 404, never 403."""
    row = uow.relations.get(relation_id)
    if row is None or not (
        caller.is_operator or caller.party_id in (row["supplier_id"], row["customer_id"])
    ):
        raise NotFound(f"no relation {relation_id}")
    return row


def _terms(raw: Any) -> dict[str, Any]:
    """The relation's terms: the defaults, overridden by what was given; the commercial ones
    checked by the settlement domain (currency, billing period, proration, tax rate,
    rounding, settlement rail), ``unreadableRecords`` here; every problem reported at once.
    ``unreadableRecords`` has no default written in: absent, it is ``refuseReport``."""
    terms = {**DEFAULT_TERMS, **(raw or {})}
    details: list[dict[str, Any]] = []
    try:
        Terms.from_json(terms)
    except InvalidTerms as exc:
        details = [{"pointer": f"/terms{p.pointer}", "message": p.message} for p in exc.problems]
    policy = terms.get("unreadableRecords", UNREADABLE_RECORDS[0])
    if policy not in UNREADABLE_RECORDS:
        details.append(
            {
                "pointer": "/terms/unreadableRecords",
                "message": f"{str(policy)[:40]!r} is not one of {', '.join(UNREADABLE_RECORDS)}",
            }
        )
    if details:
        raise InvalidInput("invalid relation terms", details=details)
    return terms


def holds_out_unreadable(relation: Row) -> bool:
    """Whether the relation's agreed terms keep an upload with unreadable records, without
    them (``unreadableRecords: holdOut``), instead of refusing it whole (the default)."""
    terms = json.loads(relation["terms"])
    return isinstance(terms, dict) and terms.get("unreadableRecords") == "holdOut"


def _check_parties(uow: UnitOfWork, caller: Caller, supplier: str, customer: str) -> None:
    """Both sides must be carriers. A carrier proposing to an id that is nobody's gets what it
    would get for an existing carrier (ids are not to be enumerated): the proposal is stored
    and can never be agreed. The operator, who sees every party, is told."""
    for side, party_id in (("supplier", supplier), ("customer", customer)):
        party = uow.parties.get(party_id)
        if party is None and not caller.is_operator:
            continue
        if party is None or party["role"] != "carrier":
            raise InvalidInput(
                f"no carrier {party_id}",
                details=[{"pointer": f"/{side}", "message": "unknown carrier"}],
            )


def _same_proposal(a: Row, b: Row) -> bool:
    keys = ("supplier_id", "customer_id", "profile_hash", "terms", "proposed_by")
    return all(a[k] == b[k] for k in keys)


def propose_or_find(
    ports: Ports, caller: Caller, body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Propose a relation; the same proposal again by the same party (while it is pending or
    agreed) is the relation it made then: (the relation, whether it is new)."""
    supplier, customer = body["supplier"], body["customer"]
    if supplier == customer:
        raise InvalidInput(
            "supplier and customer must differ",
            details=[{"pointer": "/customer", "message": "same as supplier"}],
        )
    if not caller.is_operator and caller.party_id not in (supplier, customer):
        raise Forbidden("a carrier proposes only relations it is party to")
    profile = match_profile(body.get("profile"))
    terms = _terms(body.get("terms"))
    with ports.uow.write() as uow:
        # One proposer's proposals one at a time: the same proposal sent at once is made once,
        # and the cap below cannot be overrun by proposals sent together.
        uow.relations.hold_proposals_of(caller.party_id)
        _check_parties(uow, caller, supplier, customer)
        row: Row = {
            "id": body.get("id") or f"rel-{secrets.token_hex(8)}",
            "supplier_id": supplier,
            "customer_id": customer,
            "profile": json.dumps(profile.to_dict(), sort_keys=True),
            "profile_hash": profile.profile_hash(),
            "terms": json.dumps(terms, sort_keys=True),
            "state": "proposed",
            "proposed_by": caller.party_id,
            "ledger_seq": None,
            "created_at": ports.clock.now_iso(),
        }
        if body.get("id"):
            existing = uow.relations.get(row["id"])
            if existing is not None and not _same_proposal(existing, row):
                raise Conflict(f"relation {row['id']} exists")
        else:
            existing = uow.relations.find_proposal(
                caller.party_id, supplier, customer, row["profile_hash"], row["terms"]
            )
        if existing is not None:
            return _view(ports, existing, uow.relations.agreements(existing["id"]).rows()), False
        limit = ports.settings.max_pending_proposals
        if not caller.is_operator and uow.relations.pending_proposals(caller.party_id) >= limit:
            raise TooManyPending(
                f"{caller.party_id} has {limit} relation proposals awaiting agreement, the most "
                "a carrier may have (PANTHER_MAX_PENDING_PROPOSALS); more can be proposed once "
                "some are agreed"
            )
        uow.relations.add(row)
    return _view(ports, row, []), True


def propose_relation(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return propose_or_find(ports, caller, body)[0]


def agreement_tx(row: dict[str, Any]) -> Transaction:
    """The transaction both parties sign to put the relation in force."""
    return Transaction(
        type=TxType.RelationAgreed,
        version=1,
        relation=row["id"],
        payload={
            "relationId": row["id"],
            "supplier": row["supplier_id"],
            "customer": row["customer_id"],
            "profileHash": row["profile_hash"],
            "terms": json.loads(row["terms"]),
        },
        merkle_root=None,
        signers=(),
        signatures=(),
    )


def agree_relation(
    ports: Ports, caller: Caller, relation_id: str, signature: str | None
) -> dict[str, Any]:
    with ports.uow.write() as uow:
        row = relation_for(uow, caller, relation_id)
        signed = co_sign(
            ports,
            uow,
            signatures=uow.relations.agreements(relation_id),
            relation=row,
            party_id=caller.party_id,
            tx=agreement_tx(row),
            signature=signature,
        )
        if signed.entry is not None:
            uow.relations.mark_agreed(relation_id, signed.entry.seq)
            row = {**row, "state": "agreed", "ledger_seq": signed.entry.seq}
        elif signed.already:  # as it stands now: the other may have completed meanwhile
            row = relation_for(uow, caller, relation_id)
    return _view(ports, row, signed.rows)


def get_relation(ports: Ports, caller: Caller, relation_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row = relation_for(uow, caller, relation_id)
        agreements = uow.relations.agreements(relation_id).rows()
    return _view(ports, row, agreements)


def list_relations(
    ports: Ports, caller: Caller, *, offset: int, limit: int, state: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    party_id = None if caller.is_operator else caller.party_id
    with ports.uow.read() as uow:
        rows, total = uow.relations.list_visible(party_id, state, offset, limit)
        agreements = uow.relations.agreements_of([r["id"] for r in rows])
    return [_view(ports, r, agreements[r["id"]]) for r in rows], total

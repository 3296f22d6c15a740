"""Bilateral relations: proposed with a match profile and terms, in force once both agree."""

from __future__ import annotations

import json
import secrets
from typing import Any

import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.ledger import eip712
from panther.ledger.transactions import Transaction, TxType
from panther.matching.profile import DEFAULT_PROFILE, InvalidProfile, MatchProfile
from panther.settlement import InvalidTerms, Terms

from .context import Caller, now_iso
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .ports import Ports, UnitOfWork
from .signing import co_sign

__all__ = [
    "DEFAULT_TERMS",
    "agree_relation",
    "get_relation",
    "list_relations",
    "load_profile",
    "propose_relation",
    "relation_for",
    "relation_view",
]

DEFAULT_TERMS: dict[str, Any] = {
    "currency": "EUR",
    "billingPeriod": "month",
    "proration": "actualDays",
    "settlementRail": "manual",
}


def relation_view(
    ports: Ports, row: dict[str, Any], agreements: list[dict[str, Any]]
) -> dict[str, Any]:
    """The relation; ``endorsementDigest`` is what a party that keeps its own key signs."""
    base = ports.settings.public_base_url
    return {
        "id": row["id"],
        "href": f"{base}/panther/v1/relation/{row['id']}",
        "@type": "Relation",
        "supplier": row["supplier_id"],
        "customer": row["customer_id"],
        "state": row["state"],
        "profile": json.loads(row["profile"]),
        "profileHash": row["profile_hash"],
        "terms": json.loads(row["terms"]),
        "proposedBy": row["proposed_by"],
        "agreedBy": sorted(a["party_id"] for a in agreements),
        "ledgerSeq": row["ledger_seq"],
        "createdAt": row["created_at"],
        "endorsementDigest": "0x" + eip712.digest(ports.domain, agreement_tx(row)).hex(),
    }


def load_profile(row: dict[str, Any]) -> MatchProfile:
    return MatchProfile.from_dict(json.loads(row["profile"]))


def relation_for(uow: UnitOfWork, caller: Caller, relation_id: str) -> dict[str, Any]:
    """The relation if the caller may see it; anyone else gets 404, never 403."""
    row = repo.get_row(uow.conn, repo.T.relation, id=relation_id)
    if row is None or not (
        caller.is_operator or caller.party_id in (row["supplier_id"], row["customer_id"])
    ):
        raise NotFound(f"no relation {relation_id}")
    return row


def _terms(raw: Any) -> dict[str, Any]:
    """The relation's commercial terms: the defaults, overridden by what was given, checked
    by the settlement domain (currency, billing period, proration, tax rate, rounding,
    settlement rail); every problem is reported at once."""
    terms = {**DEFAULT_TERMS, **(raw or {})}
    try:
        Terms.from_json(terms)
    except InvalidTerms as exc:
        raise InvalidInput(
            "invalid relation terms",
            details=[{"pointer": f"/terms{p.pointer}", "message": p.message} for p in exc.problems],
        ) from exc
    return terms


def propose_relation(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    supplier, customer = body["supplier"], body["customer"]
    if supplier == customer:
        raise InvalidInput(
            "supplier and customer must differ",
            details=[{"pointer": "/customer", "message": "same as supplier"}],
        )
    if not caller.is_operator and caller.party_id not in (supplier, customer):
        raise Forbidden("a carrier proposes only relations it is party to")
    try:
        profile = (
            MatchProfile.from_dict(body["profile"]) if body.get("profile") else DEFAULT_PROFILE
        )
    except InvalidProfile as exc:
        raise InvalidInput(
            "invalid match profile",
            details=[
                {"pointer": "/profile" + p.pointer, "message": p.message} for p in exc.problems
            ],
        ) from exc
    terms = _terms(body.get("terms"))
    with ports.uow.write() as uow:
        for party_id in (supplier, customer):
            row = repo.get_row(uow.conn, repo.T.party, id=party_id)
            if row is None or row["role"] != "carrier":
                raise InvalidInput(
                    f"no carrier {party_id}",
                    details=[
                        {
                            "pointer": "/supplier" if party_id == supplier else "/customer",
                            "message": "unknown carrier",
                        }
                    ],
                )
        row = {
            "id": body.get("id") or f"rel-{secrets.token_hex(8)}",
            "supplier_id": supplier,
            "customer_id": customer,
            "profile": json.dumps(profile.to_dict(), sort_keys=True),
            "profile_hash": profile.profile_hash(),
            "terms": json.dumps(terms, sort_keys=True),
            "state": "proposed",
            "proposed_by": caller.party_id,
            "ledger_seq": None,
            "created_at": now_iso(),
        }
        if repo.get_row(uow.conn, repo.T.relation, id=row["id"]):
            raise Conflict(f"relation {row['id']} exists")
        repo.insert_row(uow.conn, repo.T.relation, row)
    return relation_view(ports, row, [])


def agreement_tx(row: dict[str, Any]) -> Transaction:
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
            repo.update_row(
                uow.conn,
                repo.T.relation,
                {"id": relation_id},
                {"state": "agreed", "ledger_seq": signed.entry.seq},
            )
            row = {**row, "state": "agreed", "ledger_seq": signed.entry.seq}
    return relation_view(ports, row, signed.rows)


def get_relation(ports: Ports, caller: Caller, relation_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row = relation_for(uow, caller, relation_id)
        agreements = repo.agreement_rows(uow.conn, relation_id)
    return relation_view(ports, row, agreements)


def list_relations(
    ports: Ports, caller: Caller, *, offset: int, limit: int, state: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    rel = repo.T.relation
    where: list[Any] = []
    if not caller.is_operator:
        where.append(
            sa.or_(rel.c.supplier_id == caller.party_id, rel.c.customer_id == caller.party_id)
        )
    if state:
        where.append(rel.c.state == state)
    with ports.uow.read() as uow:
        total = repo.count_where(uow.conn, rel, where)
        rows = repo.list_rows(
            uow.conn, rel, where, order_by=[rel.c.created_at, rel.c.id], offset=offset, limit=limit
        )
        views = [relation_view(ports, r, repo.agreement_rows(uow.conn, r["id"])) for r in rows]
    return views, total

"""Confirming a fuzzy candidate pair: each carrier signs its confirmation (a ReviewActionTaken);
with both, the pair is linked in a new run for the relation and date."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import orjson

from panther.ledger.transactions import Transaction, TxType

from ..representations.panther.runs import candidate_view
from .context import Caller
from .errors import Conflict, Forbidden, NotFound
from .matchruns import run_match
from .ports import Ports
from .runs_read import run_for
from .signing import endorse

__all__ = ["confirm_suggestion"]


def confirm_suggestion(
    ports: Ports, caller: Caller, run_id: str, item_no: int, other_no: int
) -> dict[str, Any]:
    """One carrier confirms a fuzzy candidate pair (a ReviewActionTaken it signs); with both
    carriers' confirmations the pair is linked in a new run for the relation and date."""
    with ports.uow.write() as uow:
        run = run_for(uow, caller, run_id)
        relation = uow.relations.get(run["relation_id"])
        assert relation is not None
        if caller.party_id not in (relation["supplier_id"], relation["customer_id"]):
            raise Forbidden("only the two carriers of the relation confirm candidates")
        row = uow.runs.suggestion_between(run_id, item_no, other_no)
        if row is None:
            raise NotFound(f"items {item_no} and {other_no} of run {run_id} are not a suggestion")
        newest = uow.runs.newest(run["relation_id"], run["as_of"])
        assert newest is not None  # the run itself, at least
        confirmed = json.loads(row["confirmed_by"])
        pair = (row["supplier_item"], row["customer_item"])
        if caller.party_id in confirmed:
            return candidate_view(row, item_no)
        if newest["id"] != run_id:
            raise Conflict(f"run {newest['id']} is newer for this relation and date: confirm there")
        refs = {}
        for side, no in zip(("supplier", "customer"), pair, strict=True):
            item = uow.runs.item(run_id, no)
            assert item is not None
            refs[side] = orjson.loads(item["body"])[f"{side}Refs"][0]
        party = uow.parties.get(caller.party_id)
        assert party is not None
        tx = Transaction(
            type=TxType.ReviewActionTaken,
            version=1,
            relation=run["relation_id"],
            payload={
                "action": "confirmCandidate",
                "runId": run_id,
                "relationId": run["relation_id"],
                "party": caller.party_id,
                "supplierItemNo": pair[0],
                "customerItemNo": pair[1],
                "supplierRef": refs["supplier"],
                "customerRef": refs["customer"],
            },
        )
        signature = endorse(ports, uow, party, tx, None)
        uow.append(replace(tx, signers=(party["address"],), signatures=(signature,)))
        confirmed = sorted({*confirmed, caller.party_id})
        uow.runs.set_suggestion_confirmed(run_id, *pair, json.dumps(confirmed))
        both = {relation["supplier_id"], relation["customer_id"]} <= set(confirmed)
    if both:
        view, _ = run_match(
            ports, None, run["relation_id"], run["as_of"], [(refs["supplier"], refs["customer"])]
        )
        with ports.uow.write() as uow:
            uow.runs.set_suggestion_linked(run_id, *pair, view["id"])
    with ports.uow.read() as uow:
        final = uow.runs.suggestion(run_id, *pair)
    assert final is not None
    return candidate_view(final, item_no)

"""What the item and the bulk review actions share: the caller's run and side, the writes of
review rows and actions, and proposals and their agreement over a Merkle root of the items."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import replace
from typing import Any

from panther.ledger.canonical import canonical_json
from panther.ledger.merkle import merkle_root
from panther.ledger.transactions import Transaction, TxType

from .context import Caller
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .ports import Ports, UnitOfWork
from .relations import relation_for
from .review_state import item_keys, leaves, new_review_row
from .signing import co_sign, endorse

__all__ = [
    "PROPOSALS",
    "ProposedItem",
    "agree",
    "agreed_tx",
    "invalid",
    "load_run",
    "propose",
    "record_action",
    "resolution_of",
    "take_action",
    "write_item",
]

PROPOSALS = ("acceptValue", "markExpected")
_OTHER = {"supplier": "customer", "customer": "supplier"}

# An item on the way to review: (item number, the resolution proposed, its review row or None).
ProposedItem = tuple[int, dict[str, Any], dict[str, Any] | None]


def load_run(
    uow: UnitOfWork, caller: Caller, run_id: str
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The run, its relation and the caller's side of it (404 to anyone outside it)."""
    run = uow.runs.get(run_id)
    if run is None:
        raise NotFound(f"no match run {run_id}")
    try:
        relation = relation_for(uow, caller, run["relation_id"])
    except NotFound:
        raise NotFound(f"no match run {run_id}") from None
    if caller.party_id == relation["supplier_id"]:
        side = "supplier"
    elif caller.party_id == relation["customer_id"]:
        side = "customer"
    else:
        raise Forbidden("only the two carriers of the relation review its items")
    return run, relation, side


def invalid(pointer: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"pointer": pointer, "message": message}])


def resolution_of(
    action: str, side: str, item: dict[str, Any], fields: list[str] | None, note: str | None
) -> dict[str, Any]:
    """What a proposal resolves the item to."""
    if action == "markExpected":
        out: dict[str, Any] = {"outcome": "expectedDifference"}
        if note:
            out["description"] = note
        return out
    if item["class"] != "partial":
        raise invalid("/action", "acceptValue applies to partial items (their fields differ)")
    differences = {d["field"]: d for d in item.get("differences") or []}
    chosen = list(differences) if not fields else fields
    for i, name in enumerate(chosen):
        if name not in differences:
            raise invalid(f"/fields/{i}", f"field {name!r} does not differ on this item")
    other = _OTHER[side]
    out = {
        "outcome": f"{other}ValueStands",
        "fieldValue": [
            {"field": name, "valueFrom": other, "value": differences[name].get(f"{other}Value")}
            for name in chosen
        ],
    }
    if note:
        out["description"] = note
    return out


def _proposal_payload(
    run: dict[str, Any], proposal_id: str, party: str, action: str, count: int, root: bytes
) -> dict[str, Any]:
    return {
        "proposalId": proposal_id,
        "runId": run["id"],
        "relationId": run["relation_id"],
        "proposedBy": party,
        "action": action,
        "itemCount": count,
        "itemsRoot": root.hex(),
    }


def agreed_tx(payload: dict[str, Any]) -> Transaction:
    return Transaction(
        type=TxType.ReviewAgreed,
        version=1,
        relation=payload["relationId"],
        payload=payload,
        merkle_root=bytes.fromhex(payload["itemsRoot"]),
    )


def take_action(
    ports: Ports,
    uow: UnitOfWork,
    caller: Caller,
    run: dict[str, Any],
    payload: dict[str, Any],
    root: bytes | None,
    signature: str | None,
) -> int:
    """Append the caller's ReviewActionTaken; returns its ledger seq."""
    party = uow.parties.get(caller.party_id)
    assert party is not None
    tx = Transaction(
        type=TxType.ReviewActionTaken,
        version=1,
        relation=run["relation_id"],
        payload=payload,
        merkle_root=root,
    )
    sig = endorse(ports, uow, party, tx, signature)
    entry = uow.append(replace(tx, signers=(party["address"],), signatures=(sig,)))
    return entry.seq


def record_action(
    uow: UnitOfWork,
    run_id: str,
    item_no: int | None,
    caller: Caller,
    action: str,
    body: dict[str, Any],
    seq: int | None,
    action_id: str | None = None,
    *,
    at: str,
) -> str:
    """Add an action to the history the partner reads; returns its id."""
    action_id = action_id or f"RA-{secrets.token_hex(8)}"
    uow.review.add_action(
        {
            "id": action_id,
            "run_id": run_id,
            "item_no": item_no,
            "party_id": caller.party_id,
            "action": action,
            "body": json.dumps(body, sort_keys=True),
            "ledger_seq": seq,
            "created_at": at,
        }
    )
    return action_id


def write_item(
    uow: UnitOfWork,
    run: dict[str, Any],
    item_no: int,
    current: dict[str, Any] | None,
    values: dict[str, Any],
    *,
    at: str,
) -> None:
    """Change an item's review row only if nobody changed it since it was read (409)."""
    if current is None:
        written = uow.review.add_item(new_review_row(run, item_no, at=at, **values))
    else:
        revision = current["revision"]
        written = uow.review.update_item(
            run["id"],
            item_no,
            revision,
            {"revision": revision + 1, "updated_at": at, **values},
        )
    if not written:
        raise Conflict(f"item {item_no} was changed meanwhile: read it again")


def propose(
    ports: Ports,
    uow: UnitOfWork,
    caller: Caller,
    run: dict[str, Any],
    relation: dict[str, Any],
    side: str,
    action: str,
    items: list[ProposedItem],
    body: dict[str, Any],
    note: str | None,
    filter_: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One proposal over ``items``: the proposer's ReviewActionTaken and its half of the
    ReviewAgreed transaction, both over the Merkle root of the items and resolutions."""
    root = merkle_root(leaves([(n, r) for n, r, _ in items]))
    # Derived, not random, so a carrier that keeps its own key can compute the digests it
    # signs: the same proposal on the same item versions has the same id.
    basis = {
        "run": run["id"],
        "by": caller.party_id,
        "root": root.hex(),
        "revisions": [[n, row["revision"] if row else 0] for n, _, row in items],
    }
    proposal_id = "RP-" + hashlib.sha256(canonical_json(basis)).hexdigest()[:20]
    payload = _proposal_payload(run, proposal_id, caller.party_id, action, len(items), root)
    extra = {"filter": filter_} if filter_ is not None else {}
    # Both of the proposer's signatures are had (made, or checked) before anything is
    # appended, so a missing one leaves no ledger entry behind (a chain cannot roll back).
    party = uow.parties.get(caller.party_id)
    assert party is not None
    agreement = endorse(ports, uow, party, agreed_tx(payload), body.get("agreementSignature"))
    seq = take_action(ports, uow, caller, run, {**payload, **extra}, root, body.get("signature"))
    co_sign(
        ports,
        uow,
        signatures=uow.review.signatures(proposal_id),
        relation=relation,
        party_id=caller.party_id,
        tx=agreed_tx(payload),
        signature="0x" + agreement.hex(),
    )
    for item_no, resolution, row in items:
        proposal = {
            "id": proposal_id,
            "action": action,
            "by": caller.party_id,
            "side": side,
            "resolution": resolution,
            "itemCount": len(items),
        }
        write_item(
            uow,
            run,
            item_no,
            row,
            {"state": "proposed", "proposal_id": proposal_id, "proposal": json.dumps(proposal)},
            at=ports.clock.now_iso(),
        )
    record = {"proposalId": proposal_id, "itemCount": len(items), "itemsRoot": root.hex(), **extra}
    if note:
        record["note"] = note
    if len(items) == 1:
        record["resolution"] = items[0][1]
    record_action(
        uow,
        run["id"],
        items[0][0] if len(items) == 1 else None,
        caller,
        action,
        {**record, "items": [n for n, _, _ in items]},
        seq,
        action_id=proposal_id,
        at=ports.clock.now_iso(),
    )
    return {**payload, "ledgerSeq": seq}


def _proposal_items(uow: UnitOfWork, run: dict[str, Any], proposal_id: str) -> list[dict[str, Any]]:
    """The items a proposal covers, all still open to it (409 if any is not)."""
    rows = uow.review.proposal_items(run["id"], proposal_id)
    action = uow.review.action(proposal_id)
    if action is None:
        raise NotFound(f"no proposal {proposal_id} in match run {run['id']}")
    expected = json.loads(action["body"])["itemCount"]
    live = [r for r in rows if r["state"] == "proposed"]
    if len(live) != expected:
        raise Conflict(
            f"proposal {proposal_id} no longer stands as proposed ({len(live)} of {expected} "
            "items are still open to it)"
        )
    return live


def agree(
    ports: Ports,
    uow: UnitOfWork,
    caller: Caller,
    run: dict[str, Any],
    relation: dict[str, Any],
    proposal_id: str,
    body: dict[str, Any],
) -> dict[str, Any]:
    """The partner's half of a proposal's ReviewAgreed: with both signatures on the ledger,
    every item of the proposal is agreed as proposed."""
    rows = _proposal_items(uow, run, proposal_id)
    proposal = json.loads(rows[0]["proposal"])
    resolved = [(r["item_no"], json.loads(r["proposal"])["resolution"]) for r in rows]
    root = merkle_root(leaves(resolved))
    payload = _proposal_payload(
        run, proposal_id, proposal["by"], proposal["action"], len(rows), root
    )
    signed = co_sign(
        ports,
        uow,
        signatures=uow.review.signatures(proposal_id),
        relation=relation,
        party_id=caller.party_id,
        tx=agreed_tx(payload),
        signature=body.get("signature"),
    )
    if signed.entry is None and signed.already:  # the caller agreed at the same instant
        raise Conflict(f"proposal {proposal_id} was agreed meanwhile: read it again")
    if signed.entry is None:  # pragma: no cover - the proposer signed when proposing
        raise Conflict(f"proposal {proposal_id} lacks the proposer's signature")
    seq = signed.entry.seq
    items = {r["item_no"]: r for r in rows}
    keys = item_keys(uow, run, list(items))
    for item_no, resolution in resolved:
        write_item(
            uow,
            run,
            item_no,
            items[item_no],
            {
                "state": "agreed",
                "resolution": json.dumps(resolution),
                "agreed_seq": seq,
                "item_key": keys.get(item_no),
            },
            at=ports.clock.now_iso(),
        )
    record_action(
        uow,
        run["id"],
        rows[0]["item_no"] if len(rows) == 1 else None,
        caller,
        "agree",
        {
            "proposalId": proposal_id,
            "itemCount": len(rows),
            "itemsRoot": root.hex(),
            "items": sorted(items),
        },
        seq,
        at=ports.clock.now_iso(),
    )
    return {**payload, "ledgerSeq": seq}

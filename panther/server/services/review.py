"""Review of a run's `partial` and `mismatch` items by both carriers.

Every action is a ledger transaction signed by the carrier that takes it
(`ReviewActionTaken`), recorded at once in the item's history that the partner reads:

- ``acceptValue`` (partial items): the caller accepts the partner's value of some or all
  differing fields; ``markExpected``: the difference is expected (a service being terminated).
  Both are *proposals*: the proposer also signs its half of the proposal's `ReviewAgreed`
  transaction, and the partner's ``agree`` completes it (both signatures): the item is agreed,
  with its resolution (which value stands). ``decline`` drops the partner's proposal.
- ``comment``: a note, nothing else changes.
- ``correct``: the caller corrects its own record (a TMF637 change: a new report version),
  and the relation is re-matched incrementally; the item of the new run is the one to review.
- ``dispute``: opens a TMF621 dispute on the item (`DisputeOpened`); the item is disputed
  while the dispute is open, and resolved by the dispute's agreed resolution.

A proposal covers one item or, for a bulk action, every item a filter selects; either way
its transactions carry the Merkle root over the items and their resolutions, and it is agreed
as a whole. Items have an ETag (their revision): a stale ``If-Match`` is 412; an action the
item's state no longer allows (someone acted meanwhile) is 409. Nothing is half written: the
review rows, the history and the embedded ledger entry commit in one database transaction.

An agreement carries over to later runs of the relation in which the item is unchanged (same
class, the same products on both sides, the same differences), so a re-match after a
correction elsewhere keeps what both carriers agreed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.ledger.canonical import canonical_json
from panther.ledger.merkle import merkle_root
from panther.ledger.transactions import Transaction, TxType

from . import disputes
from .context import Caller, now_iso
from .errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from .ports import Ports, UnitOfWork
from .relations import relation_for
from .review_state import (
    REVIEWED,
    disputes_by_item,
    etag,
    item_keys,
    item_review,
    item_state,
    leaves,
    new_review_row,
    number_of,
    run_summary,
)
from .signing import co_sign, endorse

__all__ = ["ACTIONS", "act", "bulk_act"]

PROPOSALS = ("acceptValue", "markExpected")
ACTIONS = (*PROPOSALS, "agree", "decline", "comment", "correct", "dispute")
BULK_ACTIONS = (*PROPOSALS, "agree")
_OTHER = {"supplier": "customer", "customer": "supplier"}


# ---- reading ----------------------------------------------------------------------------


# ---- acting -------------------------------------------------------------------------------


def _context(
    uow: UnitOfWork, caller: Caller, run_id: str
) -> tuple[dict[str, Any], dict[str, Any], str]:
    run = repo.get_row(uow.conn, repo.T.run, id=run_id)
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


def _item_body(uow: UnitOfWork, run_id: str, item_no: int) -> dict[str, Any]:
    row = repo.get_row(uow.conn, repo.T.item, run_id=run_id, item_no=item_no)
    if row is None:
        raise NotFound(f"no item {item_no} in match run {run_id}")
    body = orjson.loads(row["body"])
    if body["class"] not in REVIEWED:
        raise Conflict(f"item {item_no} is matched: there is nothing to review")
    return body


def _bad(pointer: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"pointer": pointer, "message": message}])


def _resolution(
    action: str, side: str, item: dict[str, Any], fields: list[str] | None, note: str | None
) -> dict[str, Any]:
    """What a proposal resolves the item to."""
    if action == "markExpected":
        out: dict[str, Any] = {"outcome": "expectedDifference"}
        if note:
            out["description"] = note
        return out
    if item["class"] != "partial":
        raise _bad("/action", "acceptValue applies to partial items (their fields differ)")
    differences = {d["field"]: d for d in item.get("differences") or []}
    chosen = list(differences) if not fields else fields
    for i, name in enumerate(chosen):
        if name not in differences:
            raise _bad(f"/fields/{i}", f"field {name!r} does not differ on this item")
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


def _take(
    ports: Ports,
    uow: UnitOfWork,
    caller: Caller,
    run: dict[str, Any],
    payload: dict[str, Any],
    root: bytes | None,
    signature: str | None,
) -> int:
    """Append the caller's ReviewActionTaken; returns its ledger seq."""
    party = repo.get_row(uow.conn, repo.T.party, id=caller.party_id)
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


def _record(
    uow: UnitOfWork,
    run_id: str,
    item_no: int | None,
    caller: Caller,
    action: str,
    body: dict[str, Any],
    seq: int | None,
    action_id: str | None = None,
) -> str:
    action_id = action_id or f"RA-{secrets.token_hex(8)}"
    repo.insert_row(
        uow.conn,
        repo.T.review_action,
        {
            "id": action_id,
            "run_id": run_id,
            "item_no": item_no,
            "party_id": caller.party_id,
            "action": action,
            "body": json.dumps(body, sort_keys=True),
            "ledger_seq": seq,
            "created_at": now_iso(),
        },
    )
    return action_id


def _write_item(
    uow: UnitOfWork,
    run: dict[str, Any],
    item_no: int,
    current: dict[str, Any] | None,
    values: dict[str, Any],
) -> None:
    """Change an item's review row only if nobody changed it since it was read (409)."""
    ri = repo.T.review_item
    now = now_iso()
    if current is None:
        try:
            with uow.conn.begin_nested():
                repo.insert_row(uow.conn, ri, new_review_row(run, item_no, **values))
        except sa.exc.IntegrityError:
            raise Conflict(f"item {item_no} was changed meanwhile: read it again") from None
        return
    done = uow.conn.execute(
        ri.update()
        .where(
            ri.c.run_id == run["id"],
            ri.c.item_no == item_no,
            ri.c.revision == current["revision"],
        )
        .values(revision=current["revision"] + 1, updated_at=now, **values)
    ).rowcount
    if done != 1:
        raise Conflict(f"item {item_no} was changed meanwhile: read it again")


def _check_if_match(row: dict[str, Any] | None, if_match: str | None) -> None:
    if if_match is not None and if_match.strip() not in ("*", etag(row)):
        raise PreconditionFailed(
            f"the item changed: its ETag is {etag(row)}, not {if_match.strip()}"
        )


def _open_for_proposal(row: dict[str, Any] | None, state: str, side: str, item_no: int) -> None:
    if state == "agreed":
        raise Conflict(f"item {item_no} is already agreed")
    if state == "disputed":
        raise Conflict(f"item {item_no} is under dispute: resolve the dispute")
    if state == "proposed" and row is not None:
        proposal = json.loads(row["proposal"])
        if proposal["side"] != side:
            raise Conflict(
                f"item {item_no} has the partner's proposal {row['proposal_id']}: "
                "agree to it or decline it first"
            )
        if proposal["itemCount"] > 1:
            raise Conflict(
                f"item {item_no} is part of the bulk proposal {row['proposal_id']}, which is "
                "agreed or declined as a whole"
            )


def act(
    ports: Ports,
    caller: Caller,
    run_id: str,
    item_no: int,
    body: dict[str, Any],
    if_match: str | None,
) -> tuple[dict[str, Any], str]:
    """Take one review action on one item; returns the item's review and its new ETag."""
    action = body.get("action")
    if action not in ACTIONS:
        raise _bad("/action", f"action must be one of {', '.join(ACTIONS)}")
    if action == "dispute":
        return _dispute(ports, caller, run_id, item_no, body, if_match)
    if action == "correct":
        return _correct(ports, caller, run_id, item_no, body, if_match)
    note = body.get("note")
    with ports.uow.write() as uow:
        run, relation, side = _context(uow, caller, run_id)
        item = _item_body(uow, run_id, item_no)
        row = repo.get_row(uow.conn, repo.T.review_item, run_id=run_id, item_no=item_no)
        _check_if_match(row, if_match)
        state = item_state(row, disputes_by_item(uow, run_id).get(item_no))
        base = {"action": action, "runId": run_id, "relationId": run["relation_id"],
                "party": caller.party_id, "itemNo": item_no}  # fmt: skip
        if action == "comment":
            if not isinstance(note, str) or not note.strip():
                raise _bad("/note", "a comment needs a non-empty note")
            seq = _take(
                ports, uow, caller, run, {**base, "note": note}, None, body.get("signature")
            )
            _write_item(uow, run, item_no, row, {} if row else {"state": state})
            _record(uow, run_id, item_no, caller, action, {"note": note}, seq)
        elif action in PROPOSALS:
            _open_for_proposal(row, state, side, item_no)
            resolution = _resolution(action, side, item, body.get("fields"), note)
            _propose(
                ports, uow, caller, run, relation, side, action, [(item_no, resolution, row)],
                body, note,
            )  # fmt: skip
        else:  # agree | decline
            if state != "proposed" or row is None:
                raise Conflict(f"item {item_no} has no open proposal to {action} to")
            proposal = json.loads(row["proposal"])
            if proposal["side"] == side:
                raise Conflict("a carrier cannot agree to or decline its own proposal")
            wanted = body.get("proposalId")
            if wanted is not None and wanted != row["proposal_id"]:
                raise Conflict(
                    f"the item's open proposal is {row['proposal_id']}, not {wanted}: read again"
                )
            if action == "agree":
                _agree(ports, uow, caller, run, relation, row["proposal_id"], body)
            else:
                _decline(ports, uow, caller, run, row["proposal_id"], base, body, note)
        view, tag = item_review(uow, run_id, item_no)
    return view, tag


def _propose(
    ports: Ports,
    uow: UnitOfWork,
    caller: Caller,
    run: dict[str, Any],
    relation: dict[str, Any],
    side: str,
    action: str,
    items: list[tuple[int, dict[str, Any], dict[str, Any] | None]],
    body: dict[str, Any],
    note: str | None,
    filter_: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One proposal over ``items``: the proposer's ReviewActionTaken and its half of the
    ReviewAgreed transaction, both over the Merkle root of the items and resolutions."""
    root = merkle_root(leaves([(n, r) for n, r, _ in items]))
    # Derived, not random, so a carrier that keeps its own key can compute the digests it
    # signs: the same proposal on the same item versions has the same id.
    basis = {"run": run["id"], "by": caller.party_id, "root": root.hex(),
             "revisions": [[n, row["revision"] if row else 0] for n, _, row in items]}  # fmt: skip
    proposal_id = "RP-" + hashlib.sha256(canonical_json(basis)).hexdigest()[:20]
    payload = _proposal_payload(run, proposal_id, caller.party_id, action, len(items), root)
    extra = {"filter": filter_} if filter_ is not None else {}
    # Both of the proposer's signatures are had (made, or checked) before anything is
    # appended, so a missing one leaves no ledger entry behind (a chain cannot roll back).
    party = repo.get_row(uow.conn, repo.T.party, id=caller.party_id)
    assert party is not None
    agreement = endorse(ports, uow, party, agreed_tx(payload), body.get("agreementSignature"))
    seq = _take(ports, uow, caller, run, {**payload, **extra}, root, body.get("signature"))
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
        proposal = {"id": proposal_id, "action": action, "by": caller.party_id, "side": side,
                    "resolution": resolution, "itemCount": len(items)}  # fmt: skip
        _write_item(
            uow,
            run,
            item_no,
            row,
            {"state": "proposed", "proposal_id": proposal_id, "proposal": json.dumps(proposal)},
        )
    record = {"proposalId": proposal_id, "itemCount": len(items), "itemsRoot": root.hex(), **extra}
    if note:
        record["note"] = note
    if len(items) == 1:
        record["resolution"] = items[0][1]
    _record(
        uow,
        run["id"],
        items[0][0] if len(items) == 1 else None,
        caller,
        action,
        {**record, "items": [n for n, _, _ in items]},
        seq,
        action_id=proposal_id,
    )
    return {**payload, "ledgerSeq": seq}


def _proposal_items(uow: UnitOfWork, run: dict[str, Any], proposal_id: str) -> list[dict[str, Any]]:
    ri = repo.T.review_item
    rows = [
        dict(r)
        for r in uow.conn.execute(
            sa.select(ri).where(ri.c.run_id == run["id"], ri.c.proposal_id == proposal_id)
        ).mappings()
    ]
    action = repo.get_row(uow.conn, repo.T.review_action, id=proposal_id)
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


def _agree(
    ports: Ports,
    uow: UnitOfWork,
    caller: Caller,
    run: dict[str, Any],
    relation: dict[str, Any],
    proposal_id: str,
    body: dict[str, Any],
) -> dict[str, Any]:
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
    if signed.entry is None:  # pragma: no cover - the proposer signed when proposing
        raise Conflict(f"proposal {proposal_id} lacks the proposer's signature")
    seq = signed.entry.seq
    items = {r["item_no"]: r for r in rows}
    keys = item_keys(uow, run, list(items))
    for item_no, resolution in resolved:
        _write_item(
            uow,
            run,
            item_no,
            items[item_no],
            {
                "state": "agreed",
                "resolution": json.dumps(resolution),
                "agreed_seq": seq,
                "item_key": keys.get(item_no),
            },  # fmt: skip
        )
    _record(
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
        },  # fmt: skip
        seq,
    )
    return {**payload, "ledgerSeq": seq}


def _decline(
    ports: Ports,
    uow: UnitOfWork,
    caller: Caller,
    run: dict[str, Any],
    proposal_id: str,
    base: dict[str, Any],
    body: dict[str, Any],
    note: str | None,
) -> None:
    ri = repo.T.review_item
    rows = [
        dict(r)
        for r in uow.conn.execute(
            sa.select(ri).where(
                ri.c.run_id == run["id"], ri.c.proposal_id == proposal_id, ri.c.state == "proposed"
            )
        ).mappings()
    ]
    payload = {**base, "action": "decline", "proposalId": proposal_id}
    payload.pop("itemNo", None)
    if note:
        payload["note"] = note
    seq = _take(ports, uow, caller, run, payload, None, body.get("signature"))
    for row in rows:
        _write_item(
            uow, run, row["item_no"], row, {"state": "open", "proposal_id": None, "proposal": None}
        )
    record: dict[str, Any] = {"proposalId": proposal_id, "items": [r["item_no"] for r in rows]}
    if note:
        record["note"] = note
    _record(uow, run["id"], rows[0]["item_no"] if len(rows) == 1 else None, caller,
            "decline", record, seq)  # fmt: skip


def _dispute(
    ports: Ports,
    caller: Caller,
    run_id: str,
    item_no: int,
    body: dict[str, Any],
    if_match: str | None,
) -> tuple[dict[str, Any], str]:
    """Open a TMF621 dispute on the item (its DisputeOpened is the action's transaction)."""
    with ports.uow.read() as uow:
        _context(uow, caller, run_id)  # the caller's run, and the caller one of its carriers
        item_body = _item_body(uow, run_id, item_no)
        row = repo.get_row(uow.conn, repo.T.review_item, run_id=run_id, item_no=item_no)
        _check_if_match(row, if_match)
        state = item_state(row, disputes_by_item(uow, run_id).get(item_no))
        if state in ("agreed", "disputed"):
            raise Conflict(f"item {item_no} is already {state}")
    note = body.get("note")
    ticket = {
        "ticketType": "inventoryDispute",
        "name": body.get("name") or f"Match item {item_no} of run {run_id}",
        "description": note or f"{item_body['class']} item disputed in review",
        "severity": body.get("severity") or "Major",
        "relatedEntity": [
            {
                "id": f"{run_id}:{item_no}",
                "role": "disputedItem",
                "@referredType": "MatchItem",
            }
        ],
    }
    if note:
        ticket["note"] = [{"text": note}]
    view, _ = disputes.open_dispute(ports, caller, ticket)
    opened = next(
        (e for e in view.get("relatedEntity", []) if e.get("name") == "DisputeOpened"), None
    )
    seq = int(opened["id"]) if opened and str(opened.get("id", "")).isdigit() else None
    with ports.uow.write() as uow:
        run = repo.get_row(uow.conn, repo.T.run, id=run_id)
        assert run is not None
        current = repo.get_row(uow.conn, repo.T.review_item, run_id=run_id, item_no=item_no)
        state_values = {} if current else {"state": "open"}
        if current is not None and current["state"] == "proposed":
            # A dispute supersedes an open proposal on the item.
            state_values = {"state": "open", "proposal_id": None, "proposal": None}
        _write_item(uow, run, item_no, current, state_values)
        _record(uow, run_id, item_no, caller, "dispute",
                {"troubleTicket": view["id"], **({"note": note} if note else {})}, seq)  # fmt: skip
        return item_review(uow, run_id, item_no)


def _correct(
    ports: Ports,
    caller: Caller,
    run_id: str,
    item_no: int,
    body: dict[str, Any],
    if_match: str | None,
) -> tuple[dict[str, Any], str]:
    """Correct the caller's own record of the item (a TMF637 change of that product: a new
    report version), then re-match; the review continues on the new run's item."""
    from . import matchruns, products  # noqa: PLC0415  (products -> reports -> matchruns)

    patch = body.get("record")
    if not isinstance(patch, dict) or not patch:
        raise _bad("/record", "give the corrected fields of your record (a JSON merge patch)")
    with ports.uow.read() as uow:
        run, _, side = _context(uow, caller, run_id)
        item = _item_body(uow, run_id, item_no)
        row = repo.get_row(uow.conn, repo.T.review_item, run_id=run_id, item_no=item_no)
        _check_if_match(row, if_match)
        refs = item[f"{side}Refs"]
        if len(refs) != 1:
            raise Conflict(
                f"item {item_no} has {len(refs)} records of yours: correct them through the "
                "product API (TMF637) one by one"
            )
        report_id = run[f"{side}_report_id"]
        rec = repo.T.record
        product_id = uow.conn.execute(
            sa.select(rec.c.product_id).where(rec.c.report_id == report_id, rec.c.seq == refs[0])
        ).scalar_one()
    if "id" in patch and patch["id"] != product_id:
        raise _bad("/record/id", "the product id cannot change")
    products.patch_product(ports, caller, product_id, patch)
    if not ports.settings.auto_match:
        matchruns.maybe_auto_match(ports, run["relation_id"], run["as_of"])
    with ports.uow.write() as uow:
        runs = repo.T.run
        newest = uow.conn.execute(
            sa.select(runs.c.id)
            .where(runs.c.relation_id == run["relation_id"], runs.c.as_of == run["as_of"])
            .order_by(runs.c.created_at.desc(), runs.c.ledger_seq.desc())
            .limit(1)
        ).scalar_one()
        record = {"productId": product_id, "record": patch, "newRun": newest}
        base = {"action": "correct", "runId": run_id, "relationId": run["relation_id"],
                "party": caller.party_id, "itemNo": item_no, **record}  # fmt: skip
        seq = _take(ports, uow, caller, run, base, None, body.get("signature"))
        _write_item(uow, run, item_no, row, {} if row else {"state": "open"})
        _record(uow, run_id, item_no, caller, "correct", record, seq)
        view, tag = item_review(uow, run_id, item_no)
    view["correctedIn"] = newest
    return view, tag


# ---- bulk ---------------------------------------------------------------------------------


def _relative(diff: dict[str, Any]) -> Decimal | None:
    a, b = number_of(diff.get("supplierValue")), number_of(diff.get("customerValue"))
    if a is None or b is None:
        return None
    scale = max(abs(a), abs(b))
    return Decimal(0) if scale == 0 else abs(a - b) / scale


def _select(uow: UnitOfWork, run_id: str, flt: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    it = repo.T.item
    where: list[Any] = [it.c.run_id == run_id, it.c["class"].in_(REVIEWED)]
    if flt.get("class"):
        where.append(it.c["class"] == flt["class"])
    if flt.get("reason"):
        where.append(it.c.reason == flt["reason"])
    if flt.get("rule"):
        where.append(it.c.rule == flt["rule"])
    if flt.get("field"):
        where.append(it.c.diff_fields.like(f"%,{flt['field']},%"))
    if flt.get("onlyField"):
        where.append(it.c.diff_fields == f",{flt['onlyField']},")
    rows = uow.conn.execute(sa.select(it.c.item_no, it.c.body).where(*where).order_by(it.c.item_no))
    limit = flt.get("maxRelativeDifference")
    out = []
    for item_no, body in rows:
        item = orjson.loads(body)
        if limit is not None:
            diffs = item.get("differences") or []
            rel = [_relative(d) for d in diffs]
            if not diffs or any(r is None or r >= Decimal(str(limit)) for r in rel):
                continue
        out.append((item_no, item))
    return out


def bulk_act(ports: Ports, caller: Caller, run_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """One action on every open item a filter selects, as one transaction over the Merkle
    root of the items (and, for ``agree``, one ReviewAgreed per proposal agreed to)."""
    action = body.get("action")
    if action not in BULK_ACTIONS:
        raise _bad("/action", f"a bulk action is one of {', '.join(BULK_ACTIONS)}")
    flt = body.get("filter") or {}
    if flt.get("maxRelativeDifference") is not None and not flt.get("onlyField"):
        raise _bad(
            "/filter/maxRelativeDifference",
            "give onlyField too: the relative difference is of that one field",
        )
    note = body.get("note")
    with ports.uow.write() as uow:
        run, relation, side = _context(uow, caller, run_id)
        tickets = disputes_by_item(uow, run_id)
        ri = repo.T.review_item
        rows = {
            r["item_no"]: dict(r)
            for r in uow.conn.execute(sa.select(ri).where(ri.c.run_id == run_id)).mappings()
        }
        selected = _select(uow, run_id, flt)
        if action == "agree":
            proposals: dict[str, list[int]] = {}
            for item_no, _ in selected:
                row = rows.get(item_no)
                if (
                    row is not None
                    and item_state(row, tickets.get(item_no)) == "proposed"
                    and json.loads(row["proposal"])["side"] != side
                ):
                    proposals.setdefault(row["proposal_id"], []).append(item_no)
            if not proposals:
                raise Conflict("no proposal of the partner's matches the filter")
            agreed = [
                _agree(ports, uow, caller, run, relation, pid, {}) for pid in sorted(proposals)
            ]
            return {
                "action": "agree",
                "runId": run_id,
                "itemCount": sum(a["itemCount"] for a in agreed),
                "proposals": [
                    {
                        "proposalId": a["proposalId"],
                        "itemCount": a["itemCount"],
                        "itemsRoot": a["itemsRoot"],
                        "ledgerSeq": a["ledgerSeq"],
                    }  # fmt: skip
                    for a in agreed
                ],
                "review": run_summary(uow, run),
            }
        items = []
        problems = []
        for item_no, item in selected:
            row = rows.get(item_no)
            state = item_state(row, tickets.get(item_no))
            if state != "open":
                continue  # agreed, disputed, or under a proposal already
            if action == "acceptValue" and item["class"] != "partial":
                continue
            try:
                items.append(
                    (item_no, _resolution(action, side, item, body.get("fields"), note), row)
                )
            except InvalidInput as exc:
                problems.append((item_no, exc))
        if not items:
            raise Conflict("no open item matches the filter")
        done = _propose(
            ports, uow, caller, run, relation, side, action, items, body, note, filter_=flt
        )
        return {
            "action": action,
            "runId": run_id,
            "proposalId": done["proposalId"],
            "itemCount": done["itemCount"],
            "itemsRoot": done["itemsRoot"],
            "ledgerSeq": done["ledgerSeq"],
            "skipped": len(problems),
            "review": run_summary(uow, run),
        }


# ---- carrying agreements over to a later run -----------------------------------------------

"""The review state of a run's items as both carriers see it: what is open, proposed, agreed
or disputed, each item's history, and the agreements that carry over to later runs in which
an item is unchanged. Read by match runs, bills and verification; `review` acts on it."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.ledger.canonical import canonical_json

from .context import now_iso
from .disputes import OPEN_STATUSES
from .ports import UnitOfWork

__all__ = [
    "REVIEWED",
    "carry_over",
    "disputes_by_item",
    "etag",
    "item_keys",
    "item_review",
    "item_state",
    "leaves",
    "new_review_row",
    "number_of",
    "resolutions_for_run",
    "run_summary",
]

REVIEWED = ("partial", "mismatch")


def etag(row: dict[str, Any] | None) -> str:
    return f'"{row["revision"] if row else 0}"'


def disputes_by_item(uow: UnitOfWork, run_id: str) -> dict[int, dict[str, Any]]:
    """The newest dispute on each item of a run: item number -> ticket row."""
    de, tt = repo.T.dispute_entity, repo.T.ticket
    rows = uow.conn.execute(
        sa.select(de.c.entity_id, tt.c.id, tt.c.status, tt.c.body, tt.c.created_at)
        .join(tt, tt.c.id == de.c.ticket_id)
        .where(de.c.kind == "MatchItem", de.c.entity_id.like(f"{run_id}:%"))
        .order_by(tt.c.created_at)
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for entity_id, ticket_id, status, body, _ in rows:
        try:
            item_no = int(entity_id.rsplit(":", 1)[1])
        except ValueError:
            continue
        out[item_no] = {
            "id": ticket_id,
            "status": status,
            "resolution": (json.loads(body) or {}).get("resolution"),
        }
    return out


def item_state(row: dict[str, Any] | None, dispute: dict[str, Any] | None) -> str:
    if row is not None and row["state"] == "agreed":
        return "agreed"
    if dispute is not None:
        if dispute["status"] in OPEN_STATUSES:
            return "disputed"
        if dispute["status"] == "closed":
            return "agreed"
    return row["state"] if row is not None else "open"


def resolutions_for_run(uow: UnitOfWork, run_id: str) -> dict[int, dict[str, Any]]:
    """Item number -> {"state", "resolution"} for every reviewed item of a run that is not
    plainly open: agreed by review or by a closed dispute, disputed, or proposed."""
    ri = repo.T.review_item
    rows = {
        r["item_no"]: dict(r)
        for r in uow.conn.execute(sa.select(ri).where(ri.c.run_id == run_id)).mappings()
    }
    tickets = disputes_by_item(uow, run_id)
    out: dict[int, dict[str, Any]] = {}
    for item_no in rows.keys() | tickets.keys():
        row, dispute = rows.get(item_no), tickets.get(item_no)
        state = item_state(row, dispute)
        if row is not None and row["state"] == "agreed":
            resolution = json.loads(row["resolution"] or "null")
        elif state == "agreed" and dispute is not None:
            resolution = dispute["resolution"]
        else:
            resolution = None
        out[item_no] = {"state": state, "resolution": resolution}
    return out


def run_summary(uow: UnitOfWork, run: dict[str, Any]) -> dict[str, int]:
    """How many of the run's review items are open, proposed, agreed and disputed."""
    counts = json.loads(run["counts"])
    total = int(counts.get("total", 0)) - int(counts.get("matched", 0))
    states = [v["state"] for v in resolutions_for_run(uow, run["id"]).values()]
    agreed, disputed, proposed = (states.count(s) for s in ("agreed", "disputed", "proposed"))
    return {
        "items": total,
        "open": total - agreed - disputed - proposed,
        "proposed": proposed,
        "agreed": agreed,
        "disputed": disputed,
    }


def _actions(uow: UnitOfWork, run_id: str, item_no: int, proposal_ids: set[str]) -> list:
    ra = repo.T.review_action
    cond = ra.c.item_no == item_no
    if proposal_ids:
        cond = sa.or_(cond, ra.c.id.in_(proposal_ids))
    rows = uow.conn.execute(
        sa.select(ra).where(ra.c.run_id == run_id, cond).order_by(ra.c.created_at, ra.c.id)
    ).mappings()
    out = []
    for r in rows:
        body = json.loads(r["body"])
        out.append(
            {
                "id": r["id"],
                "action": r["action"],
                "party": r["party_id"],
                "date": r["created_at"],
                "ledgerSeq": r["ledger_seq"],
                **{k: v for k, v in body.items() if k not in ("items",)},
            }
        )
    return out


def item_review(uow: UnitOfWork, run_id: str, item_no: int) -> tuple[dict[str, Any], str]:
    """The review of one item as both carriers see it, and its ETag."""
    row = repo.get_row(uow.conn, repo.T.review_item, run_id=run_id, item_no=item_no)
    dispute = disputes_by_item(uow, run_id).get(item_no)
    proposal = json.loads(row["proposal"]) if row and row["proposal"] else None
    ids = {row["proposal_id"]} if row and row["proposal_id"] else set()
    view = {
        "state": item_state(row, dispute),
        "revision": row["revision"] if row else 0,
        "proposal": proposal,
        "resolution": json.loads(row["resolution"]) if row and row["resolution"] else None,
        "agreedSeq": row["agreed_seq"] if row else None,
        "carriedFrom": row["carried_from"] if row else None,
        "dispute": dispute,
        "actions": _actions(uow, run_id, item_no, ids),
    }
    if view["resolution"] is None and view["state"] == "agreed" and dispute is not None:
        view["resolution"] = dispute["resolution"]
    return view, etag(row)


def leaves(items: list[tuple[int, dict[str, Any]]]) -> list[bytes]:
    return [canonical_json({"itemNo": n, "resolution": r}) for n, r in sorted(items)]


def new_review_row(run: dict[str, Any], item_no: int, **values: Any) -> dict[str, Any]:
    """A review_item row: an open item at revision 1, with ``values`` over it."""
    return {
        "run_id": run["id"],
        "item_no": item_no,
        "relation_id": run["relation_id"],
        "state": "open",
        "revision": 1,
        "proposal_id": None,
        "proposal": None,
        "resolution": None,
        "agreed_seq": None,
        "item_key": None,
        "carried_from": None,
        "updated_at": now_iso(),
        **values,
    }


def number_of(value: Any) -> Decimal | None:
    """A number, or the `value` of a Money object, as a Decimal (None if it is neither)."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _product_ids(uow: UnitOfWork, report_id: str, refs: set[int]) -> dict[int, str]:
    """Record position -> product id for many records of a report (a query per 5,000)."""
    rec, ordered, out = repo.T.record, sorted(refs), {}
    for at in range(0, len(ordered), 5000):
        out.update(
            uow.conn.execute(
                sa.select(rec.c.seq, rec.c.product_id).where(
                    rec.c.report_id == report_id, rec.c.seq.in_(ordered[at : at + 5000])
                )
            ).all()
        )
    return out


def _key(item: dict[str, Any], supplier_ids: list[str], customer_ids: list[str]) -> str:
    shape = {
        "class": item["class"],
        "reason": item.get("reason"),
        "supplier": supplier_ids,
        "customer": customer_ids,
        "differences": [
            {
                "field": d["field"],
                "supplier": d.get("supplierValue"),
                "customer": d.get("customerValue"),
            }  # fmt: skip
            for d in item.get("differences") or []
        ],
    }
    return hashlib.sha256(canonical_json(shape)).hexdigest()


def _items(uow: UnitOfWork, run_id: str, item_nos: set[int]) -> list[tuple[int, Any]]:
    it = repo.T.item
    rows = uow.conn.execute(
        sa.select(it.c.item_no, it.c.body).where(
            it.c.run_id == run_id, it.c.item_no.in_(sorted(item_nos))
        )
    )
    return [(n, orjson.loads(body)) for n, body in rows]


def _keys(uow: UnitOfWork, run: dict[str, Any], items: list[tuple[int, Any]]) -> dict[int, str]:
    """The item key of each of ``items`` (number, body) of ``run``, with one product-id
    lookup per side for all of them."""
    ids = {
        side: _product_ids(
            uow, run[f"{side}_report_id"], {r for _, item in items for r in item[f"{side}Refs"]}
        )
        for side in ("supplier", "customer")
    }
    return {
        n: _key(
            item,
            sorted(ids["supplier"][r] for r in item["supplierRefs"]),
            sorted(ids["customer"][r] for r in item["customerRefs"]),
        )
        for n, item in items
    }


def item_keys(uow: UnitOfWork, run: dict[str, Any], item_nos: list[int]) -> dict[int, str]:
    return _keys(uow, run, _items(uow, run["id"], set(item_nos)))


def carry_over(uow: UnitOfWork, run: dict[str, Any]) -> int:
    """Copy the agreements of earlier runs of the relation to the items of ``run`` that are
    unchanged (same item key); returns how many were carried. Only items holding a product
    that an agreement was about are looked at, so a large run without agreements costs two
    queries."""
    ri, rec, it = repo.T.review_item, repo.T.record, repo.T.item
    agreed = {
        r["item_key"]: dict(r)
        for r in uow.conn.execute(
            sa.select(ri)
            .where(
                ri.c.relation_id == run["relation_id"],
                ri.c.state == "agreed",
                ri.c.item_key.is_not(None),
                ri.c.run_id != run["id"],
            )
            .order_by(ri.c.updated_at)
        ).mappings()
    }
    if not agreed:
        return 0
    # The products those agreements were about, from their runs, a run at a time.
    products: dict[str, set[str]] = {"supplier": set(), "customer": set()}
    by_run: dict[str, set[int]] = {}
    for old in agreed.values():
        by_run.setdefault(old["run_id"], set()).add(old["item_no"])
    for old_run_id, item_nos in by_run.items():
        old_run = repo.get_row(uow.conn, repo.T.run, id=old_run_id)
        if old_run is None:
            continue
        items = _items(uow, old_run_id, item_nos)
        for side in ("supplier", "customer"):
            refs = {r for _, item in items for r in item[f"{side}Refs"]}
            products[side].update(_product_ids(uow, old_run[f"{side}_report_id"], refs).values())
    seqs = {
        side: set(
            uow.conn.execute(
                sa.select(rec.c.seq).where(
                    rec.c.report_id == run[f"{side}_report_id"],
                    rec.c.product_id.in_(sorted(ids)),
                )
            ).scalars()
        )
        for side, ids in products.items()
    }
    existing = set(
        uow.conn.execute(sa.select(ri.c.item_no).where(ri.c.run_id == run["id"])).scalars()
    )
    candidates = []
    for item_no, body in uow.conn.execute(
        sa.select(it.c.item_no, it.c.body).where(
            it.c.run_id == run["id"], it.c["class"].in_(REVIEWED)
        )
    ):
        item = orjson.loads(body)
        if item_no not in existing and (
            seqs["supplier"].intersection(item["supplierRefs"])
            or seqs["customer"].intersection(item["customerRefs"])
        ):
            candidates.append((item_no, item))
    carried = 0
    for item_no, key in _keys(uow, run, candidates).items():
        old = agreed.get(key)
        if old is None:
            continue
        repo.insert_row(
            uow.conn,
            ri,
            new_review_row(
                run,
                item_no,
                state="agreed",
                proposal_id=old["proposal_id"],
                proposal=old["proposal"],
                resolution=old["resolution"],
                agreed_seq=old["agreed_seq"],
                item_key=key,
                carried_from=old["run_id"],
            ),
        )
        carried += 1
    return carried

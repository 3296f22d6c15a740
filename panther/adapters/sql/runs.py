"""SQL of the runs aggregate (see panther.server.services.ports.runs): match_run,
match_endorsement, match_item, match_item_refs and match_suggestion, and what a run reads of
its relation and reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from . import repository as repo
from .cosign import SqlCoSignatures, unfinished_cosignatures

__all__ = ["SqlRunRepository"]

_run, _endorsement = repo.T.run, repo.T.endorsement
_item, _suggestion = repo.T.item, repo.T.suggestion
_item_refs, _record = repo.T.item_refs, repo.T.record
_ITEM_COLUMNS = ("run_id", "item_no", "class", "reason", "rule", "diff_fields", "body")
# Record positions per match_item_refs row: 16 KiB of item numbers.
REFS_CHUNK = 4096


class SqlRunRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    # Runs.

    def get(self, run_id: str) -> dict[str, Any] | None:
        return repo.get_row(self._conn, _run, id=run_id)

    def newest(
        self, relation_id: str, as_of: str, profile_hash: str | None = None
    ) -> dict[str, Any] | None:
        q = sa.select(_run).where(_run.c.relation_id == relation_id, _run.c.as_of == as_of)
        if profile_hash is not None:
            q = q.where(_run.c.profile_hash == profile_hash)
        q = q.order_by(_run.c.created_at.desc(), _run.c.ledger_seq.desc()).limit(1)
        row = self._conn.execute(q).mappings().first()
        return dict(row) if row else None

    def list_visible(
        self,
        party_id: str | None,
        *,
        relation_id: str | None,
        as_of: str | None,
        state: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[dict[str, Any]], int]:
        rel = repo.T.relation
        where: list[Any] = []
        if party_id is not None:
            carriers = sa.select(rel.c.id).where(
                sa.or_(rel.c.supplier_id == party_id, rel.c.customer_id == party_id)
            )
            where.append(_run.c.relation_id.in_(carriers))
        if relation_id:
            where.append(_run.c.relation_id == relation_id)
        if as_of:
            where.append(_run.c.as_of == as_of)
        if state:
            where.append(_run.c.state == state)
        total = repo.count_where(self._conn, _run, where)
        rows = repo.list_rows(
            self._conn,
            _run,
            where,
            order_by=[_run.c.created_at, _run.c.id],
            offset=offset,
            limit=limit,
        )
        return rows, total

    def add(self, row: dict[str, Any]) -> None:
        repo.insert_row(self._conn, _run, row)

    def set_recorded(
        self, run_id: str, *, ledger_seq: int, items_root: str, item_count: int
    ) -> None:
        values = {"ledger_seq": ledger_seq, "items_root": items_root, "item_count": item_count}
        repo.update_row(self._conn, _run, {"id": run_id}, values)

    def set_final(self, run_id: str, endorsed_seq: int) -> None:
        values = {"state": "final", "endorsed_seq": endorsed_seq}
        repo.update_row(self._conn, _run, {"id": run_id}, values)

    def endorsements(self, run_id: str) -> SqlCoSignatures:
        return SqlCoSignatures(self._conn, _endorsement, {"run_id": run_id})

    def unfinished_endorsements(self) -> list[dict[str, Any]]:
        run, en = _run, _endorsement
        return unfinished_cosignatures(
            self._conn,
            en,
            source=en.join(run, run.c.id == en.c.run_id),
            key=en.c.run_id,
            relation_id=run.c.relation_id,
            unfinished=sa.or_(run.c.state != "final", run.c.endorsed_seq.is_(None)),
        )

    def endorsements_of(self, run_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in run_ids}
        if not out:
            return out
        rows = self._conn.execute(
            sa.select(_endorsement).where(_endorsement.c.run_id.in_(list(out)))
        ).mappings()
        for r in rows:
            out[r["run_id"]].append(dict(r))
        return out

    # Items.

    def add_items(self, rows: Iterable[Sequence[Any]]) -> int:
        # COPY on PostgreSQL, executemany elsewhere: a run stores up to millions of items.
        return repo.bulk_insert(self._conn, _item, _ITEM_COLUMNS, rows)

    def add_item_refs(self, run_id: str, side: str, item_nos: npt.NDArray[np.int32]) -> None:
        items = np.ascontiguousarray(item_nos, dtype="<i4")
        rows = [
            {
                "run_id": run_id,
                "side": side,
                "chunk": start // REFS_CHUNK,
                "item_nos": items[start : start + REFS_CHUNK].tobytes(),
            }
            for start in range(0, len(items), REFS_CHUNK)
        ]
        if rows:
            self._conn.execute(_item_refs.insert(), rows)

    def _items_holding(self, run_id: str, sides: Sequence[str], product_id: str) -> set[int]:
        """The items of a run holding a record with this product id on these sides: the
        records found by (report, product id), their items by (run, side, chunk)."""
        run, rec, refs = repo.T.run, _record, _item_refs
        found: set[int] = set()
        for side in sides:
            report = sa.select(run.c[f"{side}_report_id"]).where(run.c.id == run_id)
            seqs = (
                self._conn.execute(
                    sa.select(rec.c.seq).where(
                        rec.c.report_id == report.scalar_subquery(), rec.c.product_id == product_id
                    )
                )
                .scalars()
                .all()
            )
            if not seqs:
                continue
            chunks = self._conn.execute(
                sa.select(refs.c.chunk, refs.c.item_nos).where(
                    refs.c.run_id == run_id,
                    refs.c.side == side,
                    refs.c.chunk.in_(sorted({seq // REFS_CHUNK for seq in seqs})),
                )
            ).all()
            by_chunk = {chunk: np.frombuffer(blob, dtype="<i4") for chunk, blob in chunks}
            for seq in seqs:
                items = by_chunk.get(seq // REFS_CHUNK)
                offset = seq % REFS_CHUNK
                if items is not None and offset < len(items) and items[offset] >= 0:
                    found.add(int(items[offset]))
        return found

    def item(self, run_id: str, item_no: int) -> dict[str, Any] | None:
        return repo.get_row(self._conn, _item, run_id=run_id, item_no=item_no)

    def items(
        self,
        run_id: str,
        *,
        class_: str | None,
        reason: str | None,
        rule: str | None,
        field: str | None,
        offset: int,
        limit: int,
        products: Sequence[tuple[str | None, str]] = (),
    ) -> tuple[list[dict[str, Any]], int]:
        where: list[Any] = [_item.c.run_id == run_id]
        if class_:
            where.append(_item.c["class"] == class_)
        if reason:
            where.append(_item.c.reason == reason)
        if rule:
            where.append(_item.c.rule == rule)
        if field:
            # diff_fields is ",a,b,": the commas keep one field from matching inside another.
            where.append(_item.c.diff_fields.like(f"%,{field},%"))
        for side, product_id in products:
            sides = (side,) if side else ("supplier", "customer")
            holding = self._items_holding(run_id, sides, product_id)
            if not holding:
                return [], 0
            where.append(_item.c.item_no.in_(sorted(holding)))
        total = repo.count_where(self._conn, _item, where)
        rows = repo.list_rows(
            self._conn, _item, where, order_by=[_item.c.item_no], offset=offset, limit=limit
        )
        return rows, total

    # Fuzzy suggestions.

    def add_suggestions(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._conn.execute(_suggestion.insert(), list(rows))

    def suggestions_on(self, run_id: str, item_nos: Sequence[int]) -> list[dict[str, Any]]:
        if not item_nos:
            return []
        sg = _suggestion
        q = sa.select(sg).where(
            sg.c.run_id == run_id,
            sa.or_(sg.c.supplier_item.in_(item_nos), sg.c.customer_item.in_(item_nos)),
        )
        return [dict(r) for r in self._conn.execute(q).mappings()]

    def suggestion(
        self, run_id: str, supplier_item: int, customer_item: int
    ) -> dict[str, Any] | None:
        return repo.get_row(
            self._conn,
            _suggestion,
            run_id=run_id,
            supplier_item=supplier_item,
            customer_item=customer_item,
        )

    def suggestion_between(self, run_id: str, item_no: int, other_no: int) -> dict[str, Any] | None:
        sg = _suggestion
        q = sa.select(sg).where(
            sg.c.run_id == run_id,
            sa.or_(
                sa.and_(sg.c.supplier_item == item_no, sg.c.customer_item == other_no),
                sa.and_(sg.c.supplier_item == other_no, sg.c.customer_item == item_no),
            ),
        )
        row = self._conn.execute(q).mappings().first()
        return dict(row) if row else None

    def set_suggestion_confirmed(
        self, run_id: str, supplier_item: int, customer_item: int, confirmed_by: str
    ) -> None:
        key = {"run_id": run_id, "supplier_item": supplier_item, "customer_item": customer_item}
        repo.update_row(self._conn, _suggestion, key, {"confirmed_by": confirmed_by})

    def set_suggestion_linked(
        self, run_id: str, supplier_item: int, customer_item: int, linked_run_id: str
    ) -> None:
        key = {"run_id": run_id, "supplier_item": supplier_item, "customer_item": customer_item}
        repo.update_row(self._conn, _suggestion, key, {"linked_run_id": linked_run_id})

    # What a run reads of the relation and its reports (tables of other aggregates).

"""SQL of the review aggregate (see panther.server.services.ports.review): review items, actions
and signatures, and what review reads of match runs, their items, records and disputes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from . import repository as repo
from .cosign import SqlCoSignatures, unfinished_cosignatures

__all__ = ["SqlReviewRepository"]

_review_item = repo.T.review_item
_review_action = repo.T.review_action
_review_signature = repo.T.review_signature
_run = repo.T.run
_item = repo.T.item
_ticket = repo.T.ticket
_dispute_entity = repo.T.dispute_entity


class SqlReviewRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def _rows(self, query: sa.Select[Any]) -> list[dict[str, Any]]:
        return [dict(r) for r in self._conn.execute(query).mappings()]

    # ---- review items ------------------------------------------------------------------------

    def item(self, run_id: str, item_no: int) -> dict[str, Any] | None:
        ri = _review_item
        rows = self._rows(sa.select(ri).where(ri.c.run_id == run_id, ri.c.item_no == item_no))
        return rows[0] if rows else None

    def items(self, run_id: str) -> dict[int, dict[str, Any]]:
        ri = _review_item
        return {r["item_no"]: r for r in self._rows(sa.select(ri).where(ri.c.run_id == run_id))}

    def item_nos(self, run_id: str) -> set[int]:
        ri = _review_item
        return set(
            self._conn.execute(sa.select(ri.c.item_no).where(ri.c.run_id == run_id)).scalars()
        )

    def proposal_items(self, run_id: str, proposal_id: str) -> list[dict[str, Any]]:
        ri = _review_item
        return self._rows(
            sa.select(ri).where(ri.c.run_id == run_id, ri.c.proposal_id == proposal_id)
        )

    def agreed_in_other_runs(self, relation_id: str, run_id: str) -> list[dict[str, Any]]:
        ri = _review_item
        return self._rows(
            sa.select(ri)
            .where(
                ri.c.relation_id == relation_id,
                ri.c.state == "agreed",
                ri.c.item_key.is_not(None),
                ri.c.run_id != run_id,
            )
            .order_by(ri.c.updated_at)
        )

    def add_item(self, row: dict[str, Any]) -> bool:
        # A savepoint, so that losing the race to another carrier's first action on the item
        # leaves the unit of work usable for the caller to report the conflict.
        try:
            with self._conn.begin_nested():
                self._conn.execute(_review_item.insert().values(**row))
        except sa.exc.IntegrityError:
            return False
        return True

    def add_items(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._conn.execute(_review_item.insert(), list(rows))

    def update_item(self, run_id: str, item_no: int, revision: int, values: dict[str, Any]) -> bool:
        ri = _review_item
        done = self._conn.execute(
            ri.update()
            .where(ri.c.run_id == run_id, ri.c.item_no == item_no, ri.c.revision == revision)
            .values(**values)
        ).rowcount
        return bool(done == 1)

    # ---- review actions and signatures -------------------------------------------------------

    def action(self, action_id: str) -> dict[str, Any] | None:
        ra = _review_action
        rows = self._rows(sa.select(ra).where(ra.c.id == action_id))
        return rows[0] if rows else None

    def item_actions(
        self, run_id: str, item_no: int, proposal_ids: set[str]
    ) -> list[dict[str, Any]]:
        ra = _review_action
        cond = ra.c.item_no == item_no
        if proposal_ids:
            cond = sa.or_(cond, ra.c.id.in_(proposal_ids))
        return self._rows(
            sa.select(ra).where(ra.c.run_id == run_id, cond).order_by(ra.c.created_at, ra.c.id)
        )

    def add_action(self, row: dict[str, Any]) -> None:
        self._conn.execute(_review_action.insert().values(**row))

    def signatures(self, proposal_id: str) -> SqlCoSignatures:
        return SqlCoSignatures(self._conn, _review_signature, {"proposal_id": proposal_id})

    def unfinished_agreements(self) -> list[dict[str, Any]]:
        # A proposal is found by its proposal action (the action's id is the proposal's);
        # agreed, every item of it is agreed at its ReviewAgreed entry, and stays agreed.
        sig, ra, ri, run = _review_signature, _review_action, _review_item, _run
        agreed = sa.exists().where(
            ri.c.run_id == ra.c.run_id,
            ri.c.proposal_id == sig.c.proposal_id,
            ri.c.state == "agreed",
            ri.c.agreed_seq.is_not(None),
        )
        return unfinished_cosignatures(
            self._conn,
            sig,
            source=sig.join(ra, ra.c.id == sig.c.proposal_id).join(run, run.c.id == ra.c.run_id),
            key=sig.c.proposal_id,
            relation_id=run.c.relation_id,
            unfinished=~agreed,
            extra=[ra.c.run_id],
        )

    # ---- match runs, items, records and disputes, as review reads them ------------------------

    def item_bodies(self, run_id: str, item_nos: Iterable[int]) -> list[tuple[int, Any]]:
        it = _item
        out: list[tuple[int, Any]] = []
        for chunk in repo.in_chunks(item_nos):
            rows = self._conn.execute(
                sa.select(it.c.item_no, it.c.body).where(
                    it.c.run_id == run_id, it.c.item_no.in_(chunk)
                )
            )
            out.extend((n, orjson.loads(body)) for n, body in rows)
        return out

    def items_to_review(
        self,
        run_id: str,
        classes: Sequence[str],
        *,
        class_: str | None = None,
        reason: str | None = None,
        rule: str | None = None,
        field: str | None = None,
        only_field: str | None = None,
    ) -> list[tuple[int, Any]]:
        it = _item
        where: list[sa.ColumnElement[bool]] = [
            it.c.run_id == run_id,
            it.c["class"].in_(classes),
        ]
        if class_:
            where.append(it.c["class"] == class_)
        if reason:
            where.append(it.c.reason == reason)
        if rule:
            where.append(it.c.rule == rule)
        if field:
            where.append(it.c.diff_fields.like(f"%,{field},%"))
        if only_field:
            where.append(it.c.diff_fields == f",{only_field},")
        rows = self._conn.execute(
            sa.select(it.c.item_no, it.c.body).where(*where).order_by(it.c.item_no)
        )
        return [(n, orjson.loads(body)) for n, body in rows]

    def newest_disputes(self, run_id: str) -> dict[int, dict[str, Any]]:
        de, tt = _dispute_entity, _ticket
        rows = self._conn.execute(
            sa.select(de.c.entity_id, tt.c.id, tt.c.status, tt.c.body)
            .join(tt, tt.c.id == de.c.ticket_id)
            .where(de.c.kind == "MatchItem", de.c.entity_id.like(f"{run_id}:%"))
            .order_by(tt.c.created_at)
        )
        out: dict[int, dict[str, Any]] = {}
        for entity_id, ticket_id, status, body in rows:
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

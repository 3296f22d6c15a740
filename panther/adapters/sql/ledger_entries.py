"""SQL of the ledger entries aggregate (see panther.server.services.ports.ledger_entries).

Verification and replay compare the ledger with the projection rows its entries speak for;
the queries they need live here. Projections are named by their table (``party``,
``relation``, ``relation_agreement``, ``inventory_report``, ``match_run``,
``match_endorsement``); their JSON text columns are handed out decoded and taken in decoded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from panther.ledger.transactions import LedgerEntry, entry_party

from .locks import lock_ledger
from .repository import T

_party: sa.Table = T.party
_relation: sa.Table = T.relation
_agreement: sa.Table = T.relation_agreement
_report: sa.Table = T.report
_record: sa.Table = T.record
_run: sa.Table = T.run
_endorsement: sa.Table = T.endorsement
_item: sa.Table = T.item
_statement: sa.Table = T.statement
_review_item: sa.Table = T.review_item
_visibility: sa.Table = T.ledger_visibility

_PROJECTIONS: dict[str, sa.Table] = {
    t.name: t for t in (_party, _relation, _agreement, _report, _run, _endorsement)
}

# Projection columns that hold JSON text.
JSON_COLUMNS = frozenset({"terms", "counts", "profile"})


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """A projection row with its JSON text columns decoded (text that is not JSON stays)."""
    out = dict(row)
    for name in JSON_COLUMNS.intersection(out):
        try:
            out[name] = json.loads(out[name])
        except (TypeError, ValueError):
            pass
    return out


def _encode_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in JSON_COLUMNS.intersection(out):
        out[name] = json.dumps(out[name], sort_keys=True)
    return out


class _Scope(NamedTuple):
    """Entries numbered together: the position column and the values that pick them."""

    column: str
    values: tuple[tuple[str, str], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.values)

    def where(self) -> list[sa.ColumnElement[bool]]:
        return [_visibility.c[name] == value for name, value in self.values]


# Built once: an append runs them each time.
_NOTED = sa.select(_visibility.c.seq).where(
    _visibility.c.seq.in_(sa.bindparam("seqs", expanding=True))
)
_NOTE = {
    True: postgresql.insert(_visibility).on_conflict_do_nothing(),
    False: sqlite.insert(_visibility).on_conflict_do_nothing(),
}


@functools.lru_cache(maxsize=64)
def _last_query(shapes: tuple[tuple[str, tuple[str, ...]], ...]) -> sa.Select[Any]:
    """The last seq and position of each scope of these shapes (position column, the
    columns that pick it); scope n's values are bound as ``s{n}_{column}``. Built once a
    shape: an append always asks the same three."""
    v = _visibility
    probes: list[sa.ScalarSelect[Any]] = []
    for n, (name, names) in enumerate(shapes):
        column = v.c[name]
        order = (column if name == "type_pos" else v.c.seq).desc()
        where = [v.c[c] == sa.bindparam(f"s{n}_{c}") for c in names]
        last = sa.select(v.c.seq).where(*where).order_by(order).limit(1)
        probes += [last.scalar_subquery(), last.with_only_columns(column).scalar_subquery()]
    return sa.select(*probes)


def _scopes_of(row: dict[str, Any]) -> list[_Scope]:
    typed = ("tx_type", row["tx_type"])
    scopes = [_Scope("type_pos", (typed,))]
    owner = ("relation_id", row["relation_id"]) if row["relation_id"] else None
    if owner is None and row["party_id"]:
        owner = ("party_id", row["party_id"])
    if owner is not None:
        scopes += [_Scope("owner_pos", (owner,)), _Scope("owner_type_pos", (owner, typed))]
    return scopes


def _search(
    seen: Callable[[int], int],
    low: tuple[int, int],
    high: tuple[int, int],
    wanted: tuple[int, int],
    *,
    prefer_low: bool,
) -> tuple[int, int]:
    """A seq whose count ``seen(seq)`` (entries at or below it, growing by at most one a
    seq) lies in ``wanted`` (least, most), between ``low`` and ``high`` (each a seq and its
    count); returns it with its count. Interpolates, and halves every other round so that
    uneven entries cost no more than about twice a plain halving."""
    (lo, at_lo), (hi, at_hi) = low, high
    least, most = wanted
    if least <= at_lo <= most:
        return lo, at_lo
    if least <= at_hi <= most:
        return hi, at_hi
    halve = False
    while hi - lo > 1:  # at_lo < least and at_hi > most: a seq between has a count between
        if halve:
            middle = (lo + hi) // 2
        else:
            aim = (least + most) / 2
            middle = lo + round((aim - at_lo) * (hi - lo) / (at_hi - at_lo))
            middle = min(max(middle, lo + 1), hi - 1)
        halve = not halve
        count = seen(middle)
        if least <= count <= most:
            return middle, count
        if count < least:
            lo, at_lo = middle, count
        else:
            hi, at_hi = middle, count
    # Only counts read at different moments (entries caught up meanwhile) get here: the
    # side the caller can use, low (at most ``most``) or high (at least ``least``).
    return (lo, at_lo) if prefer_low else (hi, at_hi)


def _relations_of(party_id: str) -> sa.Select[tuple[str]]:
    r = _relation
    return sa.select(r.c.id).where(sa.or_(r.c.supplier_id == party_id, r.c.customer_id == party_id))


def _projection(table: str) -> sa.Table:
    try:
        return _PROJECTIONS[table]
    except KeyError:
        raise ValueError(f"no projection table {table!r}") from None


class SqlLedgerEntryRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    # ---- who sees an entry ----

    def record_visibility(self, entries: Iterable[LedgerEntry]) -> int:
        given: list[dict[str, Any]] = [
            {
                "seq": e.seq,
                "tx_type": e.tx.type.value,
                "relation_id": e.tx.relation,
                "party_id": entry_party(e.tx),
            }
            for e in entries
        ]
        if not given:
            return 0
        # One noter at a time, so each numbers on from the last position the one before it
        # committed (the append of the embedded ledger holds this lock already; a catch-up or
        # an EVM append waits for it). On SQLite one writer is in at a time anyway.
        lock_ledger(self._conn)
        noted = {int(s) for (s,) in self._conn.execute(_NOTED, {"seqs": [r["seq"] for r in given]})}
        rows = sorted((r for r in given if r["seq"] not in noted), key=lambda r: r["seq"])
        if rows:
            unordered = self._number(rows)
            # Another request may still have noted the same entries: the first row stays.
            self._conn.execute(_NOTE[self._conn.dialect.name == "postgresql"], rows)
            for scope in unordered:
                self._renumber(scope)
        return len(given)

    def _number(self, rows: list[dict[str, Any]]) -> list[_Scope]:
        """Give each new row (in seq order) the next positions of its scopes; returns the
        scopes where a row came before one already noted (an entry caught up late), which
        are then numbered again from their first row."""
        scopes = list(dict.fromkeys(scope for row in rows for scope in _scopes_of(row)))
        last = self._last_of(scopes)  # scope -> (its last seq, its next position)
        unordered: list[_Scope] = []
        for row in rows:
            row.update(owner_pos=None, owner_type_pos=None)
            for scope in _scopes_of(row):
                top, position = last[scope]
                if row["seq"] < top and scope not in unordered:
                    unordered.append(scope)
                row[scope.column] = position
                last[scope] = (max(top, row["seq"]), position + 1)
        return unordered

    def _last_of(self, scopes: list[_Scope]) -> dict[_Scope, tuple[int, int]]:
        """Each scope's last seq and next position ((-1, 0) when empty), a few hundred
        scopes a query, each an index probe."""
        found: dict[_Scope, tuple[int, int]] = {}
        for chunk in (scopes[i : i + 200] for i in range(0, len(scopes), 200)):
            query = _last_query(tuple((scope.column, scope.names) for scope in chunk))
            params = {
                f"s{n}_{name}": value
                for n, scope in enumerate(chunk)
                for name, value in scope.values
            }
            values = self._conn.execute(query, params).one()
            for n, scope in enumerate(chunk):
                top, position = values[2 * n], values[2 * n + 1]
                found[scope] = (-1, 0) if top is None else (int(top), int(position) + 1)
        return found

    def _renumber(self, scope: _Scope) -> None:
        v = _visibility
        numbered = (
            sa.select(v.c.seq, (sa.func.row_number().over(order_by=v.c.seq) - 1).label("p"))
            .where(*scope.where())
            .subquery()
        )
        self._conn.execute(
            sa.update(v).values({scope.column: numbered.c.p}).where(v.c.seq == numbered.c.seq)
        )

    def noted_top(self) -> int:
        top = self._conn.execute(sa.select(sa.func.max(_visibility.c.seq))).scalar_one()
        return -1 if top is None else int(top)

    def noted_count(self) -> int:
        count = self._conn.execute(sa.select(sa.func.count()).select_from(_visibility))
        return int(count.scalar_one())

    def _seen_by(
        self, party_id: str, tx_type: str | None, first: int, last: int
    ) -> sa.CompoundSelect[tuple[int]]:
        """The seqs from ``first`` to ``last`` the party sees: the entries of its relations,
        and its own (an entry is of a relation or of a party, never both), each branch on
        its own index."""
        v = _visibility
        typed: list[sa.ColumnElement[bool]] = [v.c.seq.between(first, last)]
        if tx_type is not None:
            typed.append(v.c.tx_type == tx_type)
        return sa.union_all(
            sa.select(v.c.seq).where(v.c.relation_id.in_(_relations_of(party_id)), *typed),
            sa.select(v.c.seq).where(v.c.party_id == party_id, *typed),
        )

    def visible_seqs(
        self, party_id: str | None, *, tx_type: str | None, offset: int, limit: int
    ) -> tuple[list[int], int]:
        """Every entry (operator, no type): offset over the seqs (the service answers that
        one from the ledger). Every entry of a type: the page by ``type_pos``, O(page). A
        carrier's (see ``_carrier_page``): O(relations x log(entries)) index probes, then the
        page, whatever the offset."""
        v = _visibility
        if party_id is not None:
            return self._carrier_page(party_id, tx_type, offset, limit)
        if tx_type is None:
            page = self._conn.execute(
                sa.select(v.c.seq).order_by(v.c.seq).offset(offset).limit(limit)
            )
            return [int(s) for (s,) in page], self.noted_count()
        scope = _Scope("type_pos", (("tx_type", tx_type),))
        last = self._last_of([scope])[scope][1]
        page = self._conn.execute(
            sa.select(v.c.seq)
            .where(v.c.tx_type == tx_type, v.c.type_pos >= offset)
            .order_by(v.c.type_pos)
            .limit(limit)
        )
        return [int(s) for (s,) in page], last

    def _carrier_page(
        self, party_id: str, tx_type: str | None, offset: int, limit: int
    ) -> tuple[list[int], int]:
        """A carrier sees the union of its relations' entries and its own; no index holds
        that union in order, so the page is found through the positions each owner numbers
        its entries with. How many of the party's entries lie at or below a seq costs one
        index probe per owner (``_seen_up_to``); two searches over seqs find a seq a little
        before the page and one a little after it, and the rows between them are read.

        Cost: the total is one probe per owner (relations + 1). Each search takes a few
        rounds of those probes when the entries are spread evenly (interpolation), at most
        about 2 x log2(entries) when not (every other round halves the range); then at most
        3 x ``limit`` rows are read. None of it grows with the offset."""
        top = self.noted_top()
        total = self._seen_up_to(party_id, tx_type, top)
        end = min(offset + limit, total)
        if limit <= 0 or offset >= total:
            return [], total
        seen = functools.partial(self._seen_up_to, party_id, tx_type)
        slack = max(limit, 1)
        wanted = (offset - slack, offset)
        before, skipped = _search(seen, (-1, 0), (top, total), wanted, prefer_low=True)
        wanted = (end, end + slack)
        after, _ = _search(seen, (before, skipped), (top, total), wanted, prefer_low=False)
        rows = self._seen_by(party_id, tx_type, before + 1, after).subquery()
        window = self._conn.execute(sa.select(rows.c.seq).order_by(rows.c.seq))
        seqs = [int(s) for (s,) in window]
        return seqs[offset - skipped : end - skipped], total

    def _seen_up_to(self, party_id: str, tx_type: str | None, seq: int) -> int:
        """How many entries the party sees with a seq at most ``seq``: for each owner (each
        of its relations, and itself), one more than the position of its last entry there."""
        v, r = _visibility, _relation
        column = v.c.owner_pos if tx_type is None else v.c.owner_type_pos
        typed = [v.c.tx_type == tx_type] if tx_type is not None else []

        def after_last(owner: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
            return (
                sa.select(column + 1)
                .where(owner, v.c.seq <= seq, *typed)
                .order_by(v.c.seq.desc())
                .limit(1)
                .scalar_subquery()
            )

        counts = sa.union_all(
            sa.select(after_last(v.c.relation_id == r.c.id).label("n")).where(
                sa.or_(r.c.supplier_id == party_id, r.c.customer_id == party_id)
            ),
            sa.select(after_last(v.c.party_id == party_id).label("n")),
        ).subquery()
        found = self._conn.execute(sa.select(sa.func.coalesce(sa.func.sum(counts.c.n), 0)))
        return int(found.scalar_one())

    def is_visible(self, seq: int, party_id: str) -> bool:
        v, r = _visibility, _relation
        row = self._conn.execute(
            sa.select(v.c.relation_id, v.c.party_id).where(v.c.seq == seq)
        ).first()
        if row is None:
            return False
        if row.relation_id is None:
            return bool(row.party_id == party_id)
        found = self._conn.execute(
            sa.select(r.c.id).where(
                r.c.id == row.relation_id,
                sa.or_(r.c.supplier_id == party_id, r.c.customer_id == party_id),
            )
        ).first()
        return found is not None

    # ---- projections ----

    def projection(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        t = _projection(table)
        cond = [t.c[k] == v for k, v in key.items()]
        row = self._conn.execute(sa.select(t).where(*cond)).mappings().first()
        return decode_row(dict(row)) if row is not None else None

    def recorded_rows(self, table: str) -> Iterator[dict[str, Any]]:
        t = _projection(table)
        # What is not on the ledger yet stays out: a relation counts once it says it is
        # agreed or has a ledger_seq, an endorsement once its run is final or endorsed.
        on_ledger_relations = sa.or_(
            _relation.c.state == "agreed", _relation.c.ledger_seq.is_not(None)
        )
        final_runs = sa.or_(_run.c.state == "final", _run.c.endorsed_seq.is_not(None))
        query = sa.select(t)
        if t is _relation:
            query = query.where(on_ledger_relations)
        elif t is _agreement:
            query = query.where(
                t.c.relation_id.in_(sa.select(_relation.c.id).where(on_ledger_relations))
            )
        elif t is _endorsement:
            query = query.where(t.c.run_id.in_(sa.select(_run.c.id).where(final_runs)))
        for row in self._conn.execute(query).mappings():
            yield decode_row(dict(row))

    def count(self, table: str) -> int:
        t = _projection(table)
        return int(self._conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())

    def insert_rows(self, table: str, rows: Iterable[dict[str, Any]]) -> int:
        encoded = [_encode_row(r) for r in rows]
        if encoded:
            self._conn.execute(_projection(table).insert(), encoded)
        return len(encoded)

    # ---- what the Merkle roots are recomputed from ----

    def report_at(self, ledger_seq: int) -> dict[str, Any] | None:
        row = self._conn.execute(sa.select(_report).where(_report.c.ledger_seq == ledger_seq))
        found = row.mappings().first()
        return dict(found) if found is not None else None

    def record_leaves(self, report_id: str) -> list[bytes]:
        rows = self._conn.execute(
            sa.select(_record.c.body)
            .where(_record.c.report_id == report_id)
            .order_by(_record.c.seq)
        )
        return [body.encode() for (body,) in rows]

    def item_leaves(self, run_id: str) -> list[bytes]:
        rows = self._conn.execute(
            sa.select(_item.c.body).where(_item.c.run_id == run_id).order_by(_item.c.item_no)
        )
        return [body.encode() for (body,) in rows]

    def statement_text(self, statement_id: str) -> str | None:
        text = self._conn.execute(
            sa.select(_statement.c.statement).where(_statement.c.id == statement_id)
        ).scalar_one_or_none()
        return None if text is None else str(text)

    def agreed_resolutions(
        self, run_id: str, proposal_id: str, agreed_seq: int
    ) -> list[tuple[int, Any]]:
        ri = _review_item
        rows = self._conn.execute(
            sa.select(ri.c.item_no, ri.c.resolution).where(
                ri.c.run_id == run_id,
                ri.c.proposal_id == proposal_id,
                ri.c.agreed_seq == agreed_seq,
            )
        ).all()
        return [(int(n), json.loads(r)) for n, r in rows]

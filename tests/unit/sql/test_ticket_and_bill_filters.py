"""Every filter of the TMF621 trouble ticket list, the TMF678 customerBill list and the MEF 141
customerBill list is a condition of the query: each page and its total are the database's,
and they are what the rule on the views (as the lists applied it before, in Python, to every
ticket or bill the columns kept) selects from the whole list, on SQLite and PostgreSQL. The
migration fills what it adds for the rows stored before it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from panther.server.services import billing_mef, bills, disputes
from panther.server.services.context import Caller
from panther.server.services.errors import InvalidInput
from panther.server.services.ports import Ports
from tests import list_rows
from tests.unit.sql.conftest import upgrade_to

OPERATOR = Caller(party_id="op", client_id="t", is_operator=True)
CARRIER = Caller(party_id="sup", client_id="t")
PAGES = [(0, 1000), (0, 3), (2, 3), (5, 4), (40, 100)]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def ports(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ports]:
    from tests.conftest import make_ports

    with make_ports(request.param, tmp_path_factory.mktemp(f"filters-{request.param}")) as made:
        list_rows.write(made, tickets=60, bills=30)
        yield made


# ---- the rules as the lists applied them to the views before -------------------------------


# The ticket filters that were conditions of the query already: the rule was applied to the
# tickets they kept.
TICKET_COLUMNS = ("id", "status", "ticketType", "relatedParty.id")


def _old_ticket_rule(view: dict[str, Any], filters: dict[str, str]) -> bool:
    if "externalId" in filters and view.get("externalId") != filters["externalId"]:
        return False
    wanted = filters.get("relatedEntity.id")
    return wanted is None or any(e["id"] == wanted for e in view["relatedEntity"])


def _same_instant(a: str | None, b: str) -> bool:
    if a is None:
        return False
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return False


def _old_bill_rule(view: dict[str, Any], filters: dict[str, str]) -> bool:
    for name, wanted in filters.items():
        if name == "billingAccount.id":
            ok = view["billingAccount"]["id"] == wanted
        elif name == "billingPeriod.startDateTime":
            ok = _same_instant(view["billingPeriod"]["startDateTime"], wanted)
        elif name == "relatedParty.id":
            ok = any(p["id"] == wanted for p in view["relatedParty"])
        else:
            ok = str(view.get(name)) == wanted
        if not ok:
            return False
    return True


def _mef_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _old_mef_rule(item: dict[str, Any], filters: dict[str, str]) -> bool:
    for name, wanted in filters.items():
        _, edge, op = name.split(".")
        value, bound = _mef_instant(item["billingPeriod"][edge]), _mef_instant(wanted)
        if (op == "lt" and not value < bound) or (op == "gt" and not value > bound):
            return False
    return True


def _pages_agree(
    listed: Any, everything: list[dict[str, Any]], rule: Any, filters: dict[str, str]
) -> int:
    """Each page of ``listed(filters, offset, limit)`` is that page of the views ``rule``
    keeps, with their number as total; returns that number."""
    kept = [v for v in everything if rule(v, filters)]
    for offset, limit in PAGES:
        page, total = listed(filters, offset, limit)
        assert (page, total) == (kept[offset : offset + limit], len(kept)), (filters, offset)
    return len(kept)


# ---- TMF621 ---------------------------------------------------------------------------------


def _tickets(ports: Ports, caller: Caller) -> Any:
    def listed(filters: dict[str, str], offset: int, limit: int) -> Any:
        return disputes.list_tickets(
            ports, caller, filters=filters, fields=None, offset=offset, limit=limit
        )

    return listed


TICKET_FILTERS: list[dict[str, str]] = [
    *({"externalId": e} for e in list_rows.EXTERNAL_IDS if e is not None),
    {"externalId": "EXT-A"},
    {"externalId": ""},
    {"relatedEntity.id": "run-rel-2:3"},
    {"relatedEntity.id": "L-4"},
    {"relatedEntity.id": "7"},
    {"relatedEntity.id": "07"},
    {"relatedEntity.id": "+7"},
    {"relatedEntity.id": " 7"},
    {"relatedEntity.id": "8"},
    {"relatedEntity.id": "-1"},
    {"relatedEntity.id": "9" * 30},
    {"relatedEntity.id": "nothing"},
    {"relatedEntity.id": "EXT-a", "externalId": "EXT-a"},
    {"relatedEntity.id": "L-0", "externalId": "EXT-a"},
    {"relatedEntity.id": "L-0", "status": "acknowledged"},
    {"externalId": "EXT-b", "relatedParty.id": "oth", "ticketType": "billingDispute"},
]


@pytest.mark.parametrize("caller", [OPERATOR, CARRIER], ids=["operator", "carrier"])
def test_ticket_filters_page_as_the_rule_on_the_views(ports: Ports, caller: Caller) -> None:
    listed = _tickets(ports, caller)
    everything, total = listed({}, 0, 1000)
    assert len(everything) == total > 20
    bills_named = sorted(
        {e["id"] for v in everything for e in v["relatedEntity"] if e["role"] != "ledgerEntry"}
        - {e["id"] for v in everything for e in v["relatedEntity"] if e["role"] == "disputedItem"}
    )
    credited = {
        e["id"] for v in everything for e in v["relatedEntity"] if e["role"] == "creditedOn"
    }
    assert credited, "some tickets carry their credit on a bill"
    superseded = [b for b, _, _, version in list_rows.bill_ids(30) if version == 1]
    kept = {}
    for filters in [
        *TICKET_FILTERS,
        *({"relatedEntity.id": b} for b in [*bills_named, *superseded]),
    ]:
        columns = {k: v for k, v in filters.items() if k in TICKET_COLUMNS}
        those = listed(columns, 0, 1000)[0] if columns else everything
        kept[json.dumps(filters)] = _pages_agree(listed, those, _old_ticket_rule, filters)
    # Both kinds of outcome occur: the filters select some tickets and not others.
    assert kept['{"externalId": "EXT-a"}'] not in (0, total)
    assert kept['{"relatedEntity.id": "7"}'] > kept['{"relatedEntity.id": "8"}'] > 0
    assert kept['{"externalId": "EXT-A"}'] == 0


def test_a_bill_named_only_as_the_one_carrying_a_credit_is_found(ports: Ports) -> None:
    everything, _ = _tickets(ports, OPERATOR)({}, 0, 1000)
    only_credited = {
        e["id"] for v in everything for e in v["relatedEntity"] if e["role"] == "creditedOn"
    } - {e["id"] for v in everything for e in v["relatedEntity"] if e["role"] == "disputedBill"}
    assert only_credited
    for bill_id in only_credited:
        page, total = _tickets(ports, OPERATOR)({"relatedEntity.id": bill_id}, 0, 1000)
        assert total == len(page) > 0
        assert all(
            any(e == {**e, "id": bill_id, "role": "creditedOn"} for e in v["relatedEntity"])
            for v in page
        )


# ---- TMF678 ---------------------------------------------------------------------------------


def _bills(ports: Ports, caller: Caller) -> Any:
    def listed(filters: dict[str, str], offset: int, limit: int) -> Any:
        return bills.list_bills(
            ports, caller, filters=filters, fields=None, offset=offset, limit=limit
        )

    return listed


BILL_FILTERS: list[dict[str, str]] = [
    {"billNo": "rel-1-2026-02-v1"},
    {"billNo": "CB-rel-1-2026-02-v1"},
    {"billNo": "X5"},
    {"billNo": "CB-X6"},
    {"billNo": "X6"},
    {"billNo": "CB-CB-X6"},
    {"billNo": "rel-2-2026-Q2-v2", "id": "CB-rel-2-2026-Q2-v2"},
    {"billNo": "rel-2-2026-Q2-v2", "id": "CB-rel-2-2026-Q2-v1"},
    {"category": "normal"},
    {"category": "duplicate"},
    {"runType": "offCycle"},
    {"runType": "onCycle"},
    {"relatedParty.id": "oth"},
    {"relatedParty.id": "cus", "state": "validated"},
    {"relatedParty.id": "nobody"},
    {"billingAccount.id": "rel-3", "relatedParty.id": "sup"},
    *(
        {"billingPeriod.startDateTime": t}
        for t in [
            "2026-02-01T00:00:00Z",
            "2026-02-01T00:00:00+00:00",
            "2026-02-01T02:00:00+02:00",
            "2026-01-31T19:00:00-05:00",
            "2026-04-01T00:00:00.000Z",
            "2026-02-01T00:00:00.000001Z",
            "2026-02-01T00:00:00",
            "2026-02-01",
            "2026-02-31T00:00:00Z",
            "soon",
            "",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-01:00",
        ]
    ),
    {"billingPeriod.startDateTime": "2026-01-01T00:00:00Z", "relatedParty.id": "oth"},
]


@pytest.mark.parametrize("caller", [OPERATOR, CARRIER], ids=["operator", "carrier"])
def test_bill_filters_page_as_the_rule_on_the_views(ports: Ports, caller: Caller) -> None:
    listed = _bills(ports, caller)
    everything, total = listed({}, 0, 1000)
    assert len(everything) == total > 10
    kept = {}
    for filters in BILL_FILTERS:
        kept[json.dumps(filters)] = _pages_agree(listed, everything, _old_bill_rule, filters)
    assert kept['{"billingPeriod.startDateTime": "2026-02-01T02:00:00+02:00"}'] not in (0, total)
    assert kept['{"billingPeriod.startDateTime": "soon"}'] == 0  # an empty page, not an error
    assert kept['{"category": "normal"}'] == total


# ---- MEF 141 --------------------------------------------------------------------------------


def _mef_bills(ports: Ports, caller: Caller) -> Any:
    def listed(filters: dict[str, str], offset: int, limit: int) -> Any:
        return billing_mef.list_bills(
            ports,
            caller,
            buyer_id=None,
            seller_id=None,
            filters=filters,
            offset=offset,
            limit=limit,
        )

    return listed


BOUNDS = [
    "2026-02-01T00:00:00Z",
    "2026-02-01T00:00:00.000001Z",
    "2026-01-31T23:59:59.999999Z",
    "2026-02-01T01:00:00+02:00",
    "2026-03-31T22:00:00-03:00",
    "2026-07-01T00:00:00Z",
    "0001-01-01T00:30:00+01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:30:00-01:00",
    "9999-12-31T00:00:00Z",
]


def test_mef_period_bounds_page_as_the_rule_on_the_items(ports: Ports) -> None:
    listed = _mef_bills(ports, OPERATOR)
    everything, total = listed({}, 0, 1000)
    assert total == len(everything) > 5
    counts = set()
    for edge in ("startDateTime", "endDateTime"):
        for op in ("lt", "gt"):
            for bound in BOUNDS:
                filters = {f"billingPeriod.{edge}.{op}": bound}
                counts.add(_pages_agree(listed, everything, _old_mef_rule, filters))
    for filters in [
        {
            "billingPeriod.startDateTime.gt": "2026-01-15T00:00:00Z",
            "billingPeriod.endDateTime.lt": "2026-05-01T00:00:00Z",
        },
        {
            "billingPeriod.startDateTime.gt": "2026-03-01T00:00:00Z",
            "billingPeriod.startDateTime.lt": "2026-02-01T00:00:00Z",
        },
        {
            "billingPeriod.endDateTime.gt": "2026-02-01T00:00:00Z",
            "billingPeriod.endDateTime.lt": "9999-12-31T23:30:00-01:00",
        },
    ]:
        counts.add(_pages_agree(listed, everything, _old_mef_rule, filters))
    assert 0 in counts and total in counts and len(counts) > 3


def test_a_bad_mef_bound_is_400_unless_the_category_keeps_nothing(ports: Ports) -> None:
    listed = _mef_bills(ports, OPERATOR)
    with pytest.raises(InvalidInput) as bad:
        listed({"billingPeriod.endDateTime.gt": "2026-02-01T00:00:00"}, 0, 10)
    assert bad.value.status_code == 400
    assert listed({"billingPeriod.endDateTime.gt": "soon", "category": "trial"}, 0, 10) == ([], 0)


# ---- the migration --------------------------------------------------------------------------


def test_the_migration_fills_the_rows_stored_before_it(engine: sa.Engine) -> None:

    from panther.adapters.sql.db import migrate
    from panther.server.services.ports.disputes import external_key

    with engine.begin() as conn:
        upgrade_to(conn, "0010")
        list_rows._parents(conn)
        made = list_rows.bill_ids(3)
        for n, (bill_id, rel, period, version) in enumerate(made):
            row = list_rows._statement(bill_id, rel, period, version, n)
            del row["period_start"], row["period_end"]
            _insert(conn, "billing_statement", row)
        for n in (0, 1, 4, 5):
            row, entities, _ = list_rows._ticket(n, made)
            del row["external_key"]
            _insert(conn, "trouble_ticket", row)
    migrate(engine)
    with engine.connect() as conn:
        periods = conn.execute(
            sa.text("SELECT id, period_start, period_end FROM billing_statement ORDER BY id")
        ).all()
        keys = conn.execute(
            sa.text("SELECT id, external_key FROM trouble_ticket ORDER BY id")
        ).all()
        entries = conn.execute(
            sa.text("SELECT ticket_id, seq FROM dispute_ledger_entry ORDER BY ticket_id, seq")
        ).all()
    assert [tuple(p) for p in periods] == sorted(
        (b, p.start.isoformat(), p.end.isoformat()) for b, _, p, _ in made
    )
    assert [tuple(k) for k in keys] == [
        (f"TT-{n:06d}", external_key(list_rows.EXTERNAL_IDS[n])) for n in (0, 1, 4, 5)
    ]
    assert keys[2][1] is not None and keys[3][1] is not None  # NUL, and 3000 characters
    assert [tuple(e) for e in entries] == [
        ("TT-000000", 1),
        ("TT-000001", 3),
        ("TT-000001", 4),
        ("TT-000004", 7),
        ("TT-000004", 9),
        ("TT-000005", 11),
        ("TT-000005", 12),
    ]


def _insert(conn: sa.Connection, table: str, row: dict[str, Any]) -> None:
    names = ", ".join(row)
    conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES (:{', :'.join(row)})"), row)

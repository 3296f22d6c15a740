"""which item each record of a run's reports is in (match_item_refs: item numbers by record
position, in chunks of 4,096 positions), for the items' product-id filters; filled for the
runs stored before it from their items' refs

Revision ID: 0016
Revises: 0015
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_CHUNK = 4096  # adapters.sql.runs.REFS_CHUNK
_SIDES = {"supplier": "supplierRefs", "customer": "customerRefs"}


def _fill(conn: sa.Connection) -> None:
    refs_table = sa.table(
        "match_item_refs",
        sa.column("run_id"),
        sa.column("side"),
        sa.column("chunk"),
        sa.column("item_nos"),
    )
    runs = conn.execute(
        sa.text(
            "SELECT r.id, s.record_count, c.record_count FROM match_run r "
            "JOIN inventory_report s ON s.id = r.supplier_report_id "
            "JOIN inventory_report c ON c.id = r.customer_report_id"
        )
    ).all()
    for run_id, supplier_count, customer_count in runs:
        owners = {"supplier": [-1] * supplier_count, "customer": [-1] * customer_count}
        items = conn.execute(
            sa.text("SELECT item_no, body FROM match_item WHERE run_id = :run"), {"run": run_id}
        )
        for item_no, body in items:
            item = json.loads(body)
            for side, key in _SIDES.items():
                for ref in item.get(key) or ():
                    listed = owners[side]
                    listed.extend([-1] * (ref + 1 - len(listed)))
                    listed[ref] = item_no
        rows = [
            {
                "run_id": run_id,
                "side": side,
                "chunk": start // _CHUNK,
                "item_nos": b"".join(
                    n.to_bytes(4, "little", signed=True) for n in listed[start : start + _CHUNK]
                ),
            }
            for side, listed in owners.items()
            for start in range(0, len(listed), _CHUNK)
        ]
        if rows:
            conn.execute(refs_table.insert(), rows)


def upgrade() -> None:
    op.create_table(
        "match_item_refs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("chunk", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_nos", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["match_run.id"]),
        sa.PrimaryKeyConstraint("run_id", "side", "chunk"),
    )
    _fill(op.get_bind())


def downgrade() -> None:
    op.drop_table("match_item_refs")

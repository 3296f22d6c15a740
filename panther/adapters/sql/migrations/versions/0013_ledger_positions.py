"""ledger visibility positions: each entry's place among its owner's entries (its relation,
or the party it registers), among its owner's entries of its type, and among all entries of
its type; indexes that read them in seq order

A page of entry listings then costs the page, not the entries before it (see
adapters/sql/ledger_entries.py). Existing rows are numbered here in seq order.

Revision ID: 0013
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

_OWNED = "(relation_id IS NOT NULL OR party_id IS NOT NULL)"
# column -> (what it numbers within, which rows have it)
_POSITIONS = {
    "owner_pos": ("relation_id, party_id", _OWNED),
    "owner_type_pos": ("relation_id, party_id, tx_type", _OWNED),
    "type_pos": ("tx_type", "1 = 1"),
}


def upgrade() -> None:
    with op.batch_alter_table("ledger_visibility", schema=None) as batch_op:
        for column in _POSITIONS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
    # One pass over the rows (UPDATE ... FROM: PostgreSQL, and SQLite from 3.33).
    numbered = ", ".join(
        f"CASE WHEN {which} THEN ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY seq) - 1 "
        f"END AS {column}"
        for column, (partition, which) in _POSITIONS.items()
    )
    sets = ", ".join(f"{column} = w.{column}" for column in _POSITIONS)
    op.execute(
        f"UPDATE ledger_visibility SET {sets} FROM (SELECT seq, {numbered} "
        "FROM ledger_visibility) AS w WHERE ledger_visibility.seq = w.seq"
    )
    op.create_index("ix_ledger_visibility_type_pos", "ledger_visibility", ["tx_type", "type_pos"])
    op.create_index("ix_ledger_visibility_relation_seq", "ledger_visibility", ["relation_id", "seq"])
    op.create_index("ix_ledger_visibility_party_seq", "ledger_visibility", ["party_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_ledger_visibility_party_seq", table_name="ledger_visibility")
    op.drop_index("ix_ledger_visibility_relation_seq", table_name="ledger_visibility")
    op.drop_index("ix_ledger_visibility_type_pos", table_name="ledger_visibility")
    with op.batch_alter_table("ledger_visibility", schema=None) as batch_op:
        for column in reversed(list(_POSITIONS)):
            batch_op.drop_column(column)

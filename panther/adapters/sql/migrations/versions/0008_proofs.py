"""ledger visibility: whose each ledger entry is (its relation, or the party it registers)

Filled here from the embedded ledger's ``ledger_entry`` rows; on the EVM ledger the server
fills it from the chain the first time it is behind.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02 08:00:00
"""

import json

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "ledger_visibility",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tx_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("relation_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("party_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_visibility")),
    )
    op.create_index("ix_ledger_visibility_party", "ledger_visibility", ["party_id", "tx_type", "seq"])
    op.create_index("ix_ledger_visibility_relation", "ledger_visibility", ["relation_id", "tx_type", "seq"])
    conn = op.get_bind()
    # Entries of a relation: copied as they are. Entries of no relation (PartyRegistered)
    # name their party in the payload, read here (few rows).
    conn.execute(
        sa.text(
            "INSERT INTO ledger_visibility (seq, tx_type, relation_id) "
            "SELECT seq, tx_type, relation_id FROM ledger_entry WHERE relation_id IS NOT NULL"
        )
    )
    rows = conn.execute(
        sa.text("SELECT seq, tx_type, payload FROM ledger_entry WHERE relation_id IS NULL")
    ).all()
    insert = sa.text(
        "INSERT INTO ledger_visibility (seq, tx_type, party_id) VALUES (:seq, :tx_type, :party)"
    )
    batch: list[dict[str, object]] = []
    for seq, tx_type, payload in rows:
        party = json.loads(payload).get("partyId") if tx_type == "PartyRegistered" else None
        batch.append({"seq": seq, "tx_type": tx_type, "party": party})
        if len(batch) >= _BATCH:
            conn.execute(insert, batch)
            batch = []
    if batch:
        conn.execute(insert, batch)


def downgrade() -> None:
    op.drop_index("ix_ledger_visibility_relation", table_name="ledger_visibility")
    op.drop_index("ix_ledger_visibility_party", table_name="ledger_visibility")
    op.drop_table("ledger_visibility")

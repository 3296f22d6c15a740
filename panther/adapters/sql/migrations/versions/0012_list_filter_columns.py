"""what the trouble ticket and bill lists filter on, stored for an index search: the SHA-256
of a ticket's externalId, the ledger entries a ticket shows among its related entities, the
first and the day after the last day of a statement's period; the stored rows filled

Revision ID: 0012
Revises: 0011
"""

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BATCH = 1000


def _external_key(value: Any) -> str | None:
    # the same key as services.disputes.external_key
    if not isinstance(value, str):
        return None
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _fill_tickets(conn: sa.Connection) -> None:
    tickets = conn.execute(sa.text("SELECT id, body FROM trouble_ticket")).all()
    keys: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for ticket_id, body in tickets:
        stored = json.loads(body)
        key = _external_key(stored.get("externalId"))
        if key is not None:
            keys.append({"k": key, "i": ticket_id})
        seqs = {int(e["id"]) for e in stored["relatedEntity"] if e["role"] == "ledgerEntry"}
        entries += [{"t": ticket_id, "s": seq} for seq in sorted(seqs)]
    for at in range(0, len(keys), _BATCH):
        conn.execute(
            sa.text("UPDATE trouble_ticket SET external_key = :k WHERE id = :i"),
            keys[at : at + _BATCH],
        )
    for at in range(0, len(entries), _BATCH):
        conn.execute(
            sa.text("INSERT INTO dispute_ledger_entry (ticket_id, seq) VALUES (:t, :s)"),
            entries[at : at + _BATCH],
        )


def _fill_statements(conn: sa.Connection) -> None:
    rows = conn.execute(sa.text("SELECT id, statement FROM billing_statement")).all()
    periods = []
    for bill_id, statement in rows:
        period = json.loads(statement)["period"]
        periods.append({"s": period["start"], "e": period["end"], "i": bill_id})
    for at in range(0, len(periods), _BATCH):
        conn.execute(
            sa.text("UPDATE billing_statement SET period_start = :s, period_end = :e WHERE id = :i"),
            periods[at : at + _BATCH],
        )


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("trouble_ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_key", sa.String(length=64), nullable=True))
    op.create_table(
        "dispute_ledger_entry",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["trouble_ticket.id"]),
        sa.PrimaryKeyConstraint("ticket_id", "seq"),
    )
    with op.batch_alter_table("billing_statement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_start", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.String(length=10), nullable=True))
    _fill_tickets(conn)
    _fill_statements(conn)
    with op.batch_alter_table("billing_statement", schema=None) as batch_op:
        batch_op.alter_column("period_start", existing_type=sa.String(length=10), nullable=False)
        batch_op.alter_column("period_end", existing_type=sa.String(length=10), nullable=False)
    op.create_index("ix_trouble_ticket_external_key", "trouble_ticket", ["external_key"])
    op.create_index(
        "ix_trouble_ticket_credited", "trouble_ticket", ["relation_id", "credited_period"]
    )
    op.create_index("ix_dispute_ledger_entry_seq", "dispute_ledger_entry", ["seq"])
    op.create_index("ix_billing_statement_period_start", "billing_statement", ["period_start"])
    op.create_index("ix_billing_statement_period_end", "billing_statement", ["period_end"])


def downgrade() -> None:
    op.drop_index("ix_billing_statement_period_end", table_name="billing_statement")
    op.drop_index("ix_billing_statement_period_start", table_name="billing_statement")
    op.drop_index("ix_dispute_ledger_entry_seq", table_name="dispute_ledger_entry")
    op.drop_index("ix_trouble_ticket_credited", table_name="trouble_ticket")
    op.drop_index("ix_trouble_ticket_external_key", table_name="trouble_ticket")
    with op.batch_alter_table("billing_statement", schema=None) as batch_op:
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
    op.drop_table("dispute_ledger_entry")
    with op.batch_alter_table("trouble_ticket", schema=None) as batch_op:
        batch_op.drop_column("external_key")

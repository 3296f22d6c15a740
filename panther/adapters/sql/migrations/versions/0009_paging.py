"""product lists page in the database: per-status record counts on each report, indexes on
(report, status, seq) and (report, externalId); tickets by (created_at, id)

Revision ID: 0009
Revises: 0004
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inventory_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_counts", sa.Text(), nullable=True))
    op.create_index(
        "ix_inventory_record_status",
        "inventory_record",
        ["report_id", "status", "seq"],
        unique=False,
    )
    op.create_index(
        "ix_inventory_record_external",
        "inventory_record",
        ["report_id", "external_id"],
        unique=False,
        sqlite_where=sa.text("external_id IS NOT NULL"),
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index("ix_trouble_ticket_created", "trouble_ticket", ["created_at", "id"])
    # The reports already stored get their counts now (one index-only pass each).
    conn = op.get_bind()
    report = sa.table("inventory_report", sa.column("id"), sa.column("status_counts"))
    record = sa.table("inventory_record", sa.column("report_id"), sa.column("status"))
    counts: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        sa.select(record.c.report_id, record.c.status, sa.func.count()).group_by(
            record.c.report_id, record.c.status
        )
    )
    for report_id, status, n in rows:
        counts.setdefault(report_id, {})[status] = int(n)
    for report_id, by_status in counts.items():
        conn.execute(
            report.update()
            .where(report.c.id == report_id)
            .values(status_counts=json.dumps(by_status, sort_keys=True, separators=(",", ":")))
        )


def downgrade() -> None:
    op.drop_index("ix_trouble_ticket_created", table_name="trouble_ticket")
    op.drop_index("ix_inventory_record_external", table_name="inventory_record")
    op.drop_index("ix_inventory_record_status", table_name="inventory_record")
    with op.batch_alter_table("inventory_report", schema=None) as batch_op:
        batch_op.drop_column("status_counts")

"""each record's position among the records of its report with the same status, kept in the
status index, so a page deep into a status filter is found by a search, not an index walk

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inventory_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_pos", sa.Integer(), nullable=True))
    # the records already stored: their rank within (report, status) in report order
    op.execute(
        "UPDATE inventory_record SET status_pos = p.pos FROM ("
        "SELECT report_id, seq, row_number() OVER "
        "(PARTITION BY report_id, status ORDER BY seq) - 1 AS pos FROM inventory_record"
        ") AS p WHERE inventory_record.report_id = p.report_id AND inventory_record.seq = p.seq"
    )
    with op.batch_alter_table("inventory_record", schema=None) as batch_op:
        batch_op.alter_column("status_pos", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_inventory_record_status", table_name="inventory_record")
    op.create_index(
        "ix_inventory_record_status",
        "inventory_record",
        ["report_id", "status", "seq", "status_pos"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_inventory_record_status", table_name="inventory_record")
    op.create_index(
        "ix_inventory_record_status", "inventory_record", ["report_id", "status", "seq"]
    )
    with op.batch_alter_table("inventory_record", schema=None) as batch_op:
        batch_op.drop_column("status_pos")

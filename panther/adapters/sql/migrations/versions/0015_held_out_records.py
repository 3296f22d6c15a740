"""records held out of an upload (relation term unreadableRecords: holdOut): their count and
hash on each report (0 and null on the reports stored before: nothing was held out of them)
and their listing

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inventory_report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_out_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("held_out_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("held_out", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inventory_report", schema=None) as batch_op:
        batch_op.drop_column("held_out")
        batch_op.drop_column("held_out_hash")
        batch_op.drop_column("held_out_count")

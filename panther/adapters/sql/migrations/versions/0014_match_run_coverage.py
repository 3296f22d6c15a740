"""match_run.coverage: what the profile reached in the run's two reports (JSON: per rule the
records keyed and the duplicate keys on each side, per compared field the records resolved on
each side and the linked pairs where it agreed, differed or was missing on both sides); NULL
for the runs recorded before

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing runs keep NULL: their figures would need the reports matched again.
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coverage", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.drop_column("coverage")

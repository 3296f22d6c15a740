"""fuzzy candidate pairs of a match run (match_suggestion); incremental run versions

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_run_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("rematched", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("links", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "match_suggestion",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("supplier_item", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_item", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("confirmed_by", sa.String(length=1000), nullable=False),
        sa.Column("linked_run_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["match_run.id"], name=op.f("fk_match_suggestion_run_id_match_run")
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "supplier_item", "customer_item", name=op.f("pk_match_suggestion")
        ),
    )


def downgrade() -> None:
    op.drop_table("match_suggestion")
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.drop_column("links")
        batch_op.drop_column("rematched")
        batch_op.drop_column("previous_run_id")

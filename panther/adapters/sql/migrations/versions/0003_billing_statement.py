"""billing statements, lines, endorsements and requests

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bill_request",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("relation_id", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("bill_id", sa.String(length=160), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["party.id"], name=op.f("fk_bill_request_party_id_party")
        ),
        sa.ForeignKeyConstraint(
            ["relation_id"], ["relation.id"], name=op.f("fk_bill_request_relation_id_relation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_request")),
    )
    with op.batch_alter_table("bill_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bill_request_relation_id"), ["relation_id"], unique=False
        )

    op.create_table(
        "billing_statement",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("relation_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("statement_hash", sa.String(length=64), nullable=False),
        sa.Column("lines_root", sa.String(length=64), nullable=False),
        sa.Column("supersedes", sa.String(length=160), nullable=True),
        sa.Column("superseded_by", sa.String(length=160), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("issued_seq", sa.Integer(), nullable=True),
        sa.Column("agreed_seq", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["relation_id"], ["relation.id"], name=op.f("fk_billing_statement_relation_id_relation")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["match_run.id"], name=op.f("fk_billing_statement_run_id_match_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_statement")),
        sa.UniqueConstraint(
            "relation_id", "period", "version", name="uq_billing_statement_version"
        ),
    )
    op.create_table(
        "billing_line",
        sa.Column("id", sa.String(length=180), nullable=False),
        sa.Column("bill_id", sa.String(length=160), nullable=False),
        sa.Column("relation_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("is_billed", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=256), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["billing_statement.id"],
            name=op.f("fk_billing_line_bill_id_billing_statement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_line")),
    )
    with op.batch_alter_table("billing_line", schema=None) as batch_op:
        batch_op.create_index("ix_billing_line_bill", ["bill_id", "line_no"], unique=False)

    op.create_table(
        "statement_endorsement",
        sa.Column("bill_id", sa.String(length=160), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["billing_statement.id"],
            name=op.f("fk_statement_endorsement_bill_id_billing_statement"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["party.id"], name=op.f("fk_statement_endorsement_party_id_party")
        ),
        sa.PrimaryKeyConstraint("bill_id", "party_id", name=op.f("pk_statement_endorsement")),
    )


def downgrade() -> None:
    op.drop_table("statement_endorsement")
    with op.batch_alter_table("billing_line", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_line_bill")

    op.drop_table("billing_line")
    op.drop_table("billing_statement")
    with op.batch_alter_table("bill_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_request_relation_id"))

    op.drop_table("bill_request")

"""idempotency keys; relation proposals may name a party that does not exist

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 07:45:00.000000
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.PrimaryKeyConstraint("owner", "key", name=op.f("pk_idempotency_key")),
    )
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_key_expires_at"), ["expires_at"], unique=False
        )
    # A proposal to an unknown party is stored like any other (ids must not be enumerable);
    # it can never be agreed, relation_agreement.party_id keeps its foreign key.
    with op.batch_alter_table("relation", schema=None) as batch_op:
        batch_op.drop_constraint("fk_relation_supplier_id_party", type_="foreignkey")
        batch_op.drop_constraint("fk_relation_customer_id_party", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("relation", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_relation_customer_id_party", "party", ["customer_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_relation_supplier_id_party", "party", ["supplier_id"], ["id"]
        )
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_key_expires_at"))
    op.drop_table("idempotency_key")

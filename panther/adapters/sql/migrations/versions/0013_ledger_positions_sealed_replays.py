"""ledger visibility positions, and idempotency responses sealed at rest

Ledger visibility positions: each entry's place among its owner's entries (its relation,
or the party it registers), among its owner's entries of its type, and among all entries of
its type; indexes that read them in seq order

A page of entry listings then costs the page, not the entries before it (see
adapters/sql/ledger_entries.py). Existing rows are numbered here in seq order.

And idempotency keys kept as digests with their responses sealed (a createParty response
holds a client secret): the rows kept so far are rewritten so (services/idempotency.py,
whose functions this uses, so that they are what the server reads).

Revision ID: 0013
Revises: 0012
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
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
    _seal_kept_responses()


def _seal_kept_responses() -> None:
    from panther.server.services.idempotency import StoredResponse, seal_response, stored_key

    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT owner, key, fingerprint, status, headers, body FROM idempotency_key")
    ).all()
    for owner, key, fingerprint, status, headers, body in rows:
        values = {"owner": owner, "old": key, "new": stored_key(owner, key), "body": body}
        if status is not None:
            kept = StoredResponse(fingerprint, status, json.loads(headers), bytes(body))
            values["body"] = seal_response(owner, key, kept)
        conn.execute(
            sa.text(
                "UPDATE idempotency_key SET key = :new, headers = NULL, body = :body "
                "WHERE owner = :owner AND key = :old"
            ),
            values,
        )


def downgrade() -> None:
    # Sealed responses cannot be opened without their keys: the kept ones are forgotten.
    op.execute("DELETE FROM idempotency_key")
    op.drop_index("ix_ledger_visibility_party_seq", table_name="ledger_visibility")
    op.drop_index("ix_ledger_visibility_relation_seq", table_name="ledger_visibility")
    op.drop_index("ix_ledger_visibility_type_pos", table_name="ledger_visibility")
    with op.batch_alter_table("ledger_visibility", schema=None) as batch_op:
        for column in reversed(list(_POSITIONS)):
            batch_op.drop_column(column)

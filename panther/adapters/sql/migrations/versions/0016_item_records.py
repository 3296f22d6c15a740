"""which item each record is in: the item's only record on each side stored beside it
(match_item.supplier_ref / customer_ref, indexed by run), the records of items with several
on a side in match_item_record; the stored items filled from their refs

Revision ID: 0016
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0010"
branch_labels = None
depends_on = None

_SIDES = {"supplier": "supplierRefs", "customer": "customerRefs"}
# Only an ambiguous item has several records on a side.
_AMBIGUOUS = "class = 'mismatch' AND reason = 'ambiguous'"


def _fill_sqlite() -> None:
    sets = ", ".join(
        f"{side}_ref = CASE WHEN json_array_length(body, '$.{refs}') = 1 "
        f"THEN json_extract(body, '$.{refs}[0]') END"
        for side, refs in _SIDES.items()
    )
    op.execute(f"UPDATE match_item SET {sets}")
    for side, refs in _SIDES.items():
        op.execute(
            "INSERT INTO match_item_record (run_id, side, ref, item_no) "
            f"SELECT m.run_id, '{side}', e.value, m.item_no "
            f"FROM match_item m, json_each(m.body, '$.{refs}') e "
            f"WHERE m.{_AMBIGUOUS} AND json_array_length(m.body, '$.{refs}') > 1"
        )


def _fill_postgres() -> None:
    # the body parsed once an item
    values = ", ".join(
        f"CASE WHEN jsonb_array_length(j -> '{refs}') = 1 "
        f"THEN (j -> '{refs}' ->> 0)::integer END AS {side}_ref"
        for side, refs in _SIDES.items()
    )
    sets = ", ".join(f"{side}_ref = v.{side}_ref" for side in _SIDES)
    op.execute(
        f"UPDATE match_item m SET {sets} FROM ("
        f"SELECT run_id, item_no, {values} FROM "
        "(SELECT run_id, item_no, body::jsonb AS j FROM match_item) AS parsed"
        ") AS v WHERE m.run_id = v.run_id AND m.item_no = v.item_no "
        "AND (v.supplier_ref IS NOT NULL OR v.customer_ref IS NOT NULL)"
    )
    for side, refs in _SIDES.items():
        op.execute(
            "INSERT INTO match_item_record (run_id, side, ref, item_no) "
            f"SELECT run_id, '{side}', e::integer, item_no FROM "
            f"(SELECT run_id, item_no, body::jsonb -> '{refs}' AS refs FROM match_item "
            f"WHERE {_AMBIGUOUS}) AS m, jsonb_array_elements_text(m.refs) AS e "
            "WHERE jsonb_array_length(m.refs) > 1"
        )


def upgrade() -> None:
    with op.batch_alter_table("match_item", schema=None) as batch_op:
        for side in _SIDES:
            batch_op.add_column(sa.Column(f"{side}_ref", sa.Integer(), nullable=True))
    op.create_table(
        "match_item_record",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["match_run.id"]),
        sa.PrimaryKeyConstraint("run_id", "side", "ref"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _fill_postgres()
    else:
        _fill_sqlite()
    for side in _SIDES:
        op.create_index(
            f"ix_match_item_{side}_ref", "match_item", ["run_id", f"{side}_ref"], unique=False
        )


def downgrade() -> None:
    for side in _SIDES:
        op.drop_index(f"ix_match_item_{side}_ref", table_name="match_item")
    op.drop_table("match_item_record")
    with op.batch_alter_table("match_item", schema=None) as batch_op:
        for side in reversed(_SIDES):
            batch_op.drop_column(f"{side}_ref")

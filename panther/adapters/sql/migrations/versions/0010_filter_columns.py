"""the strings the product lists filter on (name, productOffering.id, productSpecification.id)
stored beside each record, with indexes on (report, value, seq); the stored records filled

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# column -> JSON path; the same values as services.ports.reports.stored_string keeps: a JSON
# string of at most 256 characters without NUL (else NULL)
_COLUMNS = {
    "name": ("name",),
    "offering_id": ("productOffering", "id"),
    "specification_id": ("productSpecification", "id"),
}


def _sqlite_value(path: tuple[str, ...]) -> str:
    where = "'$." + ".".join(path) + "'"
    value = f"json_extract(body, {where})"
    return (
        f"CASE WHEN json_valid(body) AND json_type(body, {where}) = 'text' "
        f"AND length({value}) <= 256 AND instr({value}, char(0)) = 0 THEN {value} END"
    )


def _postgres_value(path: tuple[str, ...]) -> str:
    keys = "{" + ",".join(path) + "}"
    return (
        f"CASE WHEN jsonb_typeof(j #> '{keys}') = 'string' "
        f"AND length(j #>> '{keys}') <= 256 THEN j #>> '{keys}' END"
    )


def upgrade() -> None:
    with op.batch_alter_table("inventory_record", schema=None) as batch_op:
        for column in _COLUMNS:
            batch_op.add_column(sa.Column(column, sa.String(length=256), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # the body parsed once a record (jsonb cannot hold NUL: no such string to leave out)
        sets = ", ".join(f"{c} = v.{c}" for c in _COLUMNS)
        values = ", ".join(f"{_postgres_value(p)} AS {c}" for c, p in _COLUMNS.items())
        op.execute(
            f"UPDATE inventory_record r SET {sets} FROM ("
            f"SELECT report_id, seq, {values} FROM "
            "(SELECT report_id, seq, body::jsonb AS j FROM inventory_record) AS parsed"
            ") AS v WHERE r.report_id = v.report_id AND r.seq = v.seq "
            "AND (" + " OR ".join(f"v.{c} IS NOT NULL" for c in _COLUMNS) + ")"
        )
    else:
        sets = ", ".join(f"{c} = {_sqlite_value(p)}" for c, p in _COLUMNS.items())
        op.execute(f"UPDATE inventory_record SET {sets}")
    for column in _COLUMNS:
        op.create_index(
            f"ix_inventory_record_{column}",
            "inventory_record",
            ["report_id", column, "seq"],
            unique=False,
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade() -> None:
    for column in _COLUMNS:
        op.drop_index(f"ix_inventory_record_{column}", table_name="inventory_record")
    with op.batch_alter_table("inventory_record", schema=None) as batch_op:
        for column in reversed(_COLUMNS):
            batch_op.drop_column(column)

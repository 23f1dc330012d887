"""PostgreSQL: dimension sketches are stored uncompressed (STORAGE EXTERNAL)

A breakdown at 10M events reads its top values' sketches over the range's spans: for PAGE, 840
rows and 2.6 MB, most of it the dense 16 KB sketches of days and weeks, which pglz had
compressed by a third. Decompressing them was most of that read's time in PostgreSQL: 10.6-11.3
ms against 6.7-8.2 stored as they are (lz4: 7.5-10.4 ms, and it hardly compressed them). The
table grows by about half of its dense sketches' size. Sketches stored compressed before are
written again as they are, once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE dimension_sketches ALTER COLUMN sketch SET STORAGE EXTERNAL")
    # `|| ''` makes a new value, which the column's storage now leaves uncompressed
    op.execute("UPDATE dimension_sketches SET sketch = sketch || ''::bytea "
               "WHERE pg_column_compression(sketch) IS NOT NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE dimension_sketches ALTER COLUMN sketch SET STORAGE EXTENDED")

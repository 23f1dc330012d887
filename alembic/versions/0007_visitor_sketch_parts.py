"""The optimistic PostgreSQL writer (server/ingest/batch_store_pg.py):

* visitor_sketches: a part number in the key, so that a batch's visitors are added as a new row
  (part > 0) rather than merged into the hour's one row under its lock; the parts are merged
  into part 0 shortly after (server/ingest/rollups.py `merge_sketch_parts`);
* goalpost_unchanged(ok): raises GP409 unless ok, so that the batch's one writing statement
  writes nothing when what the batch read has changed meanwhile;
* live_subscriptions: the sites with live subscribers, so that a batch NOTIFYs only for them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PARTS = "part <> 0"


def upgrade() -> None:
    with op.batch_alter_table("visitor_sketches") as batch_op:
        batch_op.add_column(sa.Column("part", sa.BigInteger(), nullable=False,
                                      server_default="0"))
        batch_op.drop_constraint("pk_visitor_sketches", type_="primary")
        batch_op.create_primary_key("pk_visitor_sketches", ["site_id", "hour", "goal_id", "part"])
    op.create_index("ix_visitor_sketches_parts", "visitor_sketches", ["site_id", "hour", "goal_id"],
                    postgresql_where=sa.text(PARTS), sqlite_where=sa.text(PARTS))
    op.create_table(
        "live_subscriptions",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_live_subscriptions_site_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id", "process_id", name=op.f("pk_live_subscriptions")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE visitor_sketch_parts")
        op.execute("""
CREATE FUNCTION goalpost_unchanged(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT ok THEN
    RAISE EXCEPTION 'what this batch read has changed since' USING ERRCODE = 'GP409';
  END IF;
  RETURN true;
END $$""")


def downgrade() -> None:
    from server.db.hll import encode_registers, merged

    op.drop_table("live_subscriptions")
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT site_id, hour, goal_id, sketch FROM visitor_sketches ORDER BY 1, 2, 3")).all()
    by_key: dict[tuple, list[bytes]] = {}
    for site_id, hour, goal_id, sketch in rows:
        by_key.setdefault((site_id, hour, goal_id), []).append(sketch)
    split = {k: v for k, v in by_key.items() if len(v) > 1}
    table = sa.table("visitor_sketches", sa.column("site_id", sa.Uuid()),
                     sa.column("hour", sa.BigInteger()), sa.column("goal_id", sa.Uuid()),
                     sa.column("part", sa.BigInteger()), sa.column("sketch", sa.LargeBinary()))
    for (site_id, hour, goal_id), blobs in split.items():
        key = (table.c.site_id == site_id) & (table.c.hour == hour) & (table.c.goal_id == goal_id)
        bind.execute(table.delete().where(key))
        bind.execute(table.insert().values(site_id=site_id, hour=hour, goal_id=goal_id, part=0,
                                           sketch=encode_registers(merged(blobs))))
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION goalpost_unchanged(boolean)")
        op.execute("DROP SEQUENCE visitor_sketch_parts")
    op.drop_index("ix_visitor_sketches_parts", "visitor_sketches")
    with op.batch_alter_table("visitor_sketches") as batch_op:
        batch_op.drop_constraint("pk_visitor_sketches", type_="primary")
        batch_op.create_primary_key("pk_visitor_sketches", ["site_id", "hour", "goal_id"])
        batch_op.drop_column("part")

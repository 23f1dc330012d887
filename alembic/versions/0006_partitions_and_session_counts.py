"""events partitioned by month (PostgreSQL), occurred_at in its key; sessions started per hour
in rollup_hourly, kept exact by triggers on sessions; daily visitor sketches

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

from server.clock import now_us
from server.db import partitions

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HOUR_US = 3_600_000_000
NIL_PG = "'00000000-0000-0000-0000-000000000000'::uuid"
NIL_SQLITE = "'00000000000000000000000000000000'"
# every index events has at 0005 (name, columns, partial-index condition): recreated as they were
MONEY_EVENTS = "is_conversion OR revenue_currency IS NOT NULL"
EVENT_INDEXES = (("ix_events_site_id_goal_id_occurred_at", ["site_id", "goal_id", "occurred_at"], None),
                 ("ix_events_site_id_occurred_at", ["site_id", "occurred_at"], None),
                 ("ix_events_site_id_session_id_occurred_at",
                  ["site_id", "session_id", "occurred_at"], None),
                 ("ix_events_site_id_occurred_at_money", ["site_id", "occurred_at"], MONEY_EVENTS))


def _event_columns():
    return [
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("referrer", sa.Text(), nullable=True),
        sa.Column("click_url", sa.Text(), nullable=True),
        sa.Column("click_domain", sa.String(length=253), nullable=True),
        sa.Column("click_text", sa.Text(), nullable=True),
        sa.Column("click_asin", sa.String(length=10), nullable=True),
        sa.Column("form_name", sa.Text(), nullable=True),
        sa.Column("form_id", sa.String(length=200), nullable=True),
        sa.Column("form_plugin", sa.String(length=8), nullable=True),
        sa.Column("form_page_url", sa.Text(), nullable=True),
        sa.Column("props", sa.Text(), nullable=True),
        sa.Column("revenue_micros", sa.BigInteger(), nullable=True),
        sa.Column("revenue_currency", sa.String(length=3), nullable=True),
        sa.Column("goal_id", sa.Uuid(), nullable=True),
        sa.Column("is_conversion", sa.Boolean(), server_default="0", nullable=False),
    ]


def _event_constraints(key: list[str]):
    return [
        sa.CheckConstraint("type IN ('pageview', 'click', 'form', 'custom')",
                           name=op.f("ck_events_type")),
        sa.CheckConstraint("(revenue_micros IS NULL) = (revenue_currency IS NULL)",
                           name=op.f("ck_events_revenue_pair")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_events_site_id"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_events")),
    ]


def _replace_events_pg(key: list[str], **table_kwargs) -> str:
    """Rename the current events table away and create the new one in its place; returns the
    old table's new name (its rows are still to be copied)."""
    op.execute("ALTER TABLE events RENAME TO events_before_0006")
    op.execute("ALTER INDEX pk_events RENAME TO pk_events_before_0006")
    for name, _, _ in EVENT_INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO {name[:40]}_before_0006")
    op.create_table("events", *_event_columns(), *_event_constraints(key), **table_kwargs)
    for name, columns, where in EVENT_INDEXES:
        op.create_index(name, "events", columns, unique=False,
                        postgresql_where=sa.text(where) if where else None)
    return "events_before_0006"


def _copy_and_drop(old: str) -> None:
    columns = ", ".join(c.name for c in _event_columns())
    op.execute(f"INSERT INTO events ({columns}) SELECT {columns} FROM {old}")
    op.execute(f"DROP TABLE {old}")


def _partition_events_pg() -> None:
    bind = op.get_bind()
    old = _replace_events_pg(["site_id", "id", "occurred_at"],
                             postgresql_partition_by="RANGE (occurred_at)")
    op.execute(f"CREATE TABLE {partitions.DEFAULT} PARTITION OF events DEFAULT")
    now = now_us()
    oldest = bind.execute(sa.text(f"SELECT min(occurred_at) FROM {old}")).scalar()
    first = partitions.month_of(now)
    if oldest is not None:
        first = max(min(partitions.month_of(oldest), first),
                    partitions.add_months(*first, -partitions.MONTHS_BACK_AT_MIGRATION))
    last = partitions.add_months(*partitions.month_of(now), partitions.MONTHS_AHEAD)
    for year, month in partitions.months(first, last):
        for statement in partitions.create_statements(year, month):
            op.execute(statement)
    _copy_and_drop(old)


SQLITE_TRIGGERS = (
    f"""
CREATE TRIGGER sessions_started_insert AFTER INSERT ON sessions BEGIN
  INSERT INTO rollup_hourly (site_id, hour, goal_id, currency, sessions)
  VALUES (NEW.site_id, NEW.started_at - NEW.started_at % {HOUR_US}, {NIL_SQLITE}, '', 1)
  ON CONFLICT (site_id, hour, goal_id, currency) DO UPDATE SET sessions = sessions + 1;
END""",
    f"""
CREATE TRIGGER sessions_started_update AFTER UPDATE OF started_at ON sessions
WHEN OLD.started_at - OLD.started_at % {HOUR_US} <> NEW.started_at - NEW.started_at % {HOUR_US}
BEGIN
  UPDATE rollup_hourly SET sessions = sessions - 1
  WHERE site_id = OLD.site_id AND hour = OLD.started_at - OLD.started_at % {HOUR_US}
    AND goal_id = {NIL_SQLITE} AND currency = '';
  INSERT INTO rollup_hourly (site_id, hour, goal_id, currency, sessions)
  VALUES (NEW.site_id, NEW.started_at - NEW.started_at % {HOUR_US}, {NIL_SQLITE}, '', 1)
  ON CONFLICT (site_id, hour, goal_id, currency) DO UPDATE SET sessions = sessions + 1;
END""",
)

# Statement-level with transition tables: one upsert per statement whatever the batch size.
PG_FUNCTION = f"""
CREATE FUNCTION goalpost_count_session_starts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO rollup_hourly (site_id, hour, goal_id, currency, sessions)
    SELECT site_id, started_at - started_at % {HOUR_US}, {NIL_PG}, '', count(*)
    FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (site_id, hour, goal_id, currency)
    DO UPDATE SET sessions = rollup_hourly.sessions + excluded.sessions;
  ELSE
    -- a session whose start moved to another hour (an earlier event joined it)
    INSERT INTO rollup_hourly (site_id, hour, goal_id, currency, sessions)
    SELECT site_id, hour, {NIL_PG}, '', sum(delta) FROM (
      SELECT n.site_id, n.started_at - n.started_at % {HOUR_US} AS hour, 1 AS delta
      FROM new_rows n JOIN old_rows o ON o.site_id = n.site_id AND o.id = n.id
      WHERE o.started_at / {HOUR_US} <> n.started_at / {HOUR_US}
      UNION ALL
      SELECT o.site_id, o.started_at - o.started_at % {HOUR_US}, -1
      FROM new_rows n JOIN old_rows o ON o.site_id = n.site_id AND o.id = n.id
      WHERE o.started_at / {HOUR_US} <> n.started_at / {HOUR_US}
    ) moved GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
    ON CONFLICT (site_id, hour, goal_id, currency)
    DO UPDATE SET sessions = rollup_hourly.sessions + excluded.sessions;
  END IF;
  RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER sessions_started_insert AFTER INSERT ON sessions "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION goalpost_count_session_starts()",
    "CREATE TRIGGER sessions_started_update AFTER UPDATE ON sessions "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION goalpost_count_session_starts()",
)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        _partition_events_pg()
    else:
        with op.batch_alter_table("events", recreate="always") as batch_op:
            batch_op.create_primary_key("pk_events", ["site_id", "id", "occurred_at"])

    with op.batch_alter_table("rollup_hourly") as batch_op:
        batch_op.add_column(sa.Column("sessions", sa.BigInteger(), server_default="0",
                                      nullable=False))
    nil = NIL_PG if pg else NIL_SQLITE
    op.execute(f"""
        INSERT INTO rollup_hourly (site_id, hour, goal_id, currency, sessions)
        SELECT site_id, started_at - started_at % {HOUR_US}, {nil}, '', count(*)
        FROM sessions WHERE true GROUP BY 1, 2
        ON CONFLICT (site_id, hour, goal_id, currency) DO UPDATE SET sessions = excluded.sessions
    """)
    if pg:
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.create_table(
        "visitor_sketches_daily",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.BigInteger(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
        sa.Column("source_rows", sa.BigInteger(), nullable=False),
        sa.Column("source_xmin", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_visitor_sketches_daily_site_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id", "day", "goal_id", name=op.f("pk_visitor_sketches_daily")),
    )


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.drop_table("visitor_sketches_daily")
    op.execute("DROP TRIGGER IF EXISTS sessions_started_insert" + (" ON sessions" if pg else ""))
    op.execute("DROP TRIGGER IF EXISTS sessions_started_update" + (" ON sessions" if pg else ""))
    if pg:
        op.execute("DROP FUNCTION IF EXISTS goalpost_count_session_starts()")
    with op.batch_alter_table("rollup_hourly") as batch_op:
        batch_op.drop_column("sessions")
    if pg:
        old = _replace_events_pg(["site_id", "id"])
        _copy_and_drop(old)  # the partitions go with their parent
    else:
        with op.batch_alter_table("events", recreate="always") as batch_op:
            batch_op.create_primary_key("pk_events", ["site_id", "id"])

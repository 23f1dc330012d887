"""PostgreSQL: a session's start moving to another hour is counted by a row-level trigger that
fires only for such a row, instead of a statement-level one over transition tables

Migration 0006's statement-level UPDATE trigger ran for every statement that updated sessions,
with every updated row copied into its transition tables, though a start moves only when an
older event joins a session (a backfill): the median 16-event write took 1.79-1.86 ms with it,
1.62-1.75 ms without (PostgreSQL's logged durations, alternating). A row-level trigger with a
WHEN condition is checked in C per row and runs nothing otherwise. Inserts keep 0006's
statement-level trigger (one upsert per batch). SQLite's triggers were row-level with this
condition already.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op

from server.db.migrate import revision_module

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

HOUR_US = 3_600_000_000
NIL_PG = "'00000000-0000-0000-0000-000000000000'::uuid"

PG_FUNCTION = f"""
CREATE FUNCTION goalpost_move_session_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- in hour order, as the writer takes rollup rows
  INSERT INTO rollup_hourly (site_id, hour, goal_id, currency, sessions)
  SELECT NEW.site_id, m.hour, {NIL_PG}, '', m.delta
  FROM (VALUES (OLD.started_at - OLD.started_at % {HOUR_US}, -1),
               (NEW.started_at - NEW.started_at % {HOUR_US}, 1)) AS m(hour, delta)
  ORDER BY m.hour
  ON CONFLICT (site_id, hour, goal_id, currency)
  DO UPDATE SET sessions = rollup_hourly.sessions + excluded.sessions;
  RETURN NULL;
END $$
"""
PG_TRIGGER = f"""
CREATE TRIGGER sessions_start_moved AFTER UPDATE OF started_at ON sessions FOR EACH ROW
WHEN (OLD.started_at - OLD.started_at % {HOUR_US} <> NEW.started_at - NEW.started_at % {HOUR_US})
EXECUTE FUNCTION goalpost_move_session_start()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER sessions_started_update ON sessions")
    op.execute(PG_FUNCTION)
    op.execute(PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER sessions_start_moved ON sessions")
    op.execute("DROP FUNCTION goalpost_move_session_start()")
    update_trigger = next(s for s in revision_module(
        "0006_partitions_and_session_counts.py").PG_TRIGGERS
                          if "sessions_started_update" in s)
    op.execute(update_trigger)

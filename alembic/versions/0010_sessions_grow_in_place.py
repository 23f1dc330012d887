"""sessions: growing a session by an event no longer changes an indexed column, so PostgreSQL
updates it in place (a HOT update: no new entry in any of the table's indexes)

Every event grows its session (last_seen_at, events, pageviews), and migration 0005's index on
(site_id, last_seen_at) made each such update a new row version with an entry in all four of the
table's indexes: on bench/ingest.py's database 85 of 2,088,036 session updates were in place, and
the index on last_seen_at had grown to 58 MB for 5,000 sessions. Breakdowns only need the
sessions that end in or after a range's start, so the index is now on the hour of the last event
(`last_seen_hour`), which moves at most once an hour per session; on PostgreSQL sessions get a
fillfactor of 80, leaving each page room for the new versions. In three alternating
bench/ingest.py runs (1 Dec, 11:36-12:01 UTC) Goalpost stored 9,821, 8,583 and 7,689 events/s
against 7,793, 6,507 and 6,724 before (bench/RESULTS-ingest.md, "Sessions grow in place").

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

from server.db.migrate import revision_module

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

HOUR_US = 3_600_000_000


def _sqlite_triggers_again() -> None:
    """SQLite: a batch alteration makes the table anew, without its triggers (migration 0006's
    session-start counters): they are made again."""
    if op.get_bind().dialect.name == "sqlite":
        for statement in revision_module("0006_partitions_and_session_counts.py").SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.add_column(sa.Column("last_seen_hour", sa.BigInteger(), nullable=True))
    # as server/clock.py hour_of (no event is before 1970: parse.py refuses them)
    op.execute(f"UPDATE sessions SET last_seen_hour = last_seen_at - last_seen_at % {HOUR_US}")
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.alter_column("last_seen_hour", existing_type=sa.BigInteger(), nullable=False)
    _sqlite_triggers_again()
    op.create_index("ix_sessions_site_id_last_seen_hour", "sessions",
                    ["site_id", "last_seen_hour"])
    op.drop_index("ix_sessions_site_id_last_seen_at", table_name="sessions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sessions SET (fillfactor = 80)")
        # a finer histogram of the hours: with the default (100), the current hour's sessions
        # were estimated at ~4 times their number at 10M events and breakdowns looked each raw
        # event's session up (17-21 ms) instead of hash-joining them (7-8 ms)
        op.execute("ALTER TABLE sessions ALTER COLUMN last_seen_hour SET STATISTICS 1000")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sessions RESET (fillfactor)")
    op.create_index("ix_sessions_site_id_last_seen_at", "sessions", ["site_id", "last_seen_at"])
    op.drop_index("ix_sessions_site_id_last_seen_hour", table_name="sessions")
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.drop_column("last_seen_hour")
    _sqlite_triggers_again()

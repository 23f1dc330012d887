"""sessions: attribution fixed by a session's first event (source, UTM fields, browser, os,
device); indexes for breakdowns and filtered stats. Sessions stored before read as null.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("source", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
           "browser", "os", "device")


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(200), nullable=True))
    op.create_index("ix_sessions_site_id_last_seen_at", "sessions", ["site_id", "last_seen_at"])
    op.create_index("ix_events_site_id_occurred_at_conversion", "events",
                    ["site_id", "occurred_at"], sqlite_where=sa.text("is_conversion"),
                    postgresql_where=sa.text("is_conversion"))


def downgrade() -> None:
    op.drop_index("ix_events_site_id_occurred_at_conversion", table_name="events")
    op.drop_index("ix_sessions_site_id_last_seen_at", table_name="sessions")
    with op.batch_alter_table("sessions") as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)

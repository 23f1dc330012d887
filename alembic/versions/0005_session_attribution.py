"""sessions: attribution fixed by a session's first event (source, UTM fields, browser, os,
device); indexes and hourly dimension rollups for breakdowns and filtered stats. Sessions stored
before read as null.

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

MONEY_EVENTS = "is_conversion OR revenue_currency IS NOT NULL"
COLUMNS = ("source", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
           "browser", "os", "device")


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(200), nullable=True))
    op.create_index("ix_sessions_site_id_last_seen_at", "sessions", ["site_id", "last_seen_at"])
    op.create_index("ix_events_site_id_occurred_at_money", "events",
                    ["site_id", "occurred_at"], sqlite_where=sa.text(MONEY_EVENTS),
                    postgresql_where=sa.text(MONEY_EVENTS))
    create_dimension_tables()


def create_dimension_tables() -> None:
    """The hourly dimension tables of this revision (migration 0008 makes them again when it is
    undone)."""
    op.create_table(
        "dimension_sketches",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("pageviews", sa.BigInteger(), nullable=False),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE",
                                name=op.f("fk_dimension_sketches_site_id")),
        sa.PrimaryKeyConstraint("site_id", "dimension", "hour", "value",
                                name=op.f("pk_dimension_sketches")),
    )
    op.create_table(
        "dimension_counters",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.Column("conversion_micros", sa.BigInteger(), nullable=False),
        sa.Column("revenue_micros", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE",
                                name=op.f("fk_dimension_counters_site_id")),
        sa.PrimaryKeyConstraint("site_id", "dimension", "hour", "value", "goal_id", "currency",
                                name=op.f("pk_dimension_counters")),
    )
    op.create_table(
        "dimension_hours",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("pageviews", sa.BigInteger(), nullable=False),
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE",
                                name=op.f("fk_dimension_hours_site_id")),
        sa.PrimaryKeyConstraint("site_id", "hour", name=op.f("pk_dimension_hours")),
    )


def downgrade() -> None:
    op.drop_table("dimension_hours")
    op.drop_table("dimension_counters")
    op.drop_table("dimension_sketches")
    op.drop_index("ix_events_site_id_occurred_at_money", table_name="events")
    op.drop_index("ix_sessions_site_id_last_seen_at", table_name="sessions")
    with op.batch_alter_table("sessions") as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)

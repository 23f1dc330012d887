"""Dimension rollups by hour and by day, ENTRY_PAGE and PAGE among them, built by maintenance
(server/stats/dimension_rollups.py):

* one table each for the sketches, the counters and the markers, with `hours` (1: an hour's
  rows, 24: a UTC day's, merged from its hours) in the key, so a month reads ~30 rows a value;
* values keyed by a 64-bit hash (`value_hash`) with the value itself beside it: a path may be
  longer than a btree key may be;
* per span and dimension, one `dimension_totals` row holding every value's events, pageviews
  and sessions started as one array: a breakdown ranks thousands of paths by them without
  reading a row per path and day;
* indexes by value, so the sketches and counters of a breakdown's top values are read alone.

The hourly tables of migration 0005 are derived data: they are dropped, and maintenance (or the
first read that needs an hour) builds the new ones from the events.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

from server.db.migrate import revision_module

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _site(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f(f"fk_{table}_site_id"),
                                   ondelete="CASCADE")


def _span() -> list[sa.Column]:
    return [sa.Column("site_id", sa.Uuid(), nullable=False),
            sa.Column("dimension", sa.String(16), nullable=False),
            sa.Column("hours", sa.SmallInteger(), nullable=False),
            sa.Column("start", sa.BigInteger(), nullable=False),
            sa.Column("value_hash", sa.BigInteger(), nullable=False),
            sa.Column("value", sa.Text())]


def upgrade() -> None:
    op.drop_table("dimension_hours")
    op.drop_table("dimension_counters")
    op.drop_table("dimension_sketches")
    op.create_table(
        "dimension_sketches", *_span(),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
        _site("dimension_sketches"),
        sa.PrimaryKeyConstraint("site_id", "dimension", "hours", "start", "value_hash",
                                name=op.f("pk_dimension_sketches")),
    )
    op.create_index(op.f("ix_dimension_sketches_site_id_dimension_value_hash_hours_start"),
                    "dimension_sketches", ["site_id", "dimension", "value_hash", "hours", "start"])
    op.create_table(
        "dimension_counters", *_span(),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.Column("conversion_micros", sa.BigInteger(), nullable=False),
        sa.Column("revenue_micros", sa.BigInteger(), nullable=False),
        _site("dimension_counters"),
        sa.PrimaryKeyConstraint("site_id", "dimension", "hours", "start", "value_hash",
                                "goal_id", "currency", name=op.f("pk_dimension_counters")),
    )
    op.create_index(op.f("ix_dimension_counters_site_id_dimension_value_hash_hours_start"),
                    "dimension_counters", ["site_id", "dimension", "value_hash", "hours", "start"])
    op.create_table(
        "dimension_totals",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("hours", sa.SmallInteger(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("totals", sa.LargeBinary(), nullable=False),
        _site("dimension_totals"),
        sa.PrimaryKeyConstraint("site_id", "dimension", "hours", "start",
                                name=op.f("pk_dimension_totals")),
    )
    op.create_table(
        "dimension_built",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("hours", sa.SmallInteger(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("pageviews", sa.BigInteger(), nullable=False),
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        _site("dimension_built"),
        sa.PrimaryKeyConstraint("site_id", "hours", "start", name=op.f("pk_dimension_built")),
    )


def downgrade() -> None:
    # derived data: the 0005 tables come back empty and fill again on reads
    op.drop_table("dimension_built")
    op.drop_table("dimension_totals")
    op.drop_table("dimension_counters")
    op.drop_table("dimension_sketches")
    revision_module("0005_session_attribution.py").create_dimension_tables()

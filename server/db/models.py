"""The storage schema, as SQLAlchemy Core tables.

Every site-owned table has `site_id` first in its primary key and in each unique index, so the
schema can be distributed by site (Citus) without change. Times are integer microseconds since
the epoch (UTC) and money is integer millionths of the currency unit: both compare, subtract and
sum exactly and identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

from server.goals.model import CONDITION_FIELDS, EVENT_TYPES, GOAL_TYPES, MATCH_LOGICS, OPERATORS

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)



def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


sites = Table(
    "sites",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("domain", String(253), nullable=False),
    Column("name", String(200)),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    # bumped in the same transaction as any goal change: ingestion re-reads goals when it moves
    Column("goals_version", BigInteger, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("domain"),
)

# Process-independent settings, e.g. the hash of the generated admin token.
app_config = Table(
    "app_config",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("id", Uuid, primary_key=True),
    Column("label", String(200)),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    Index(None, "id"),
)

goals = Table(
    "goals",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    # lower(name): names are unique per site regardless of case
    Column("name_key", String(100), nullable=False),
    Column("type", String(16), nullable=False),
    Column("match_logic", String(3), nullable=False, server_default="ALL"),
    Column("counts_as_conversion", Boolean, nullable=False, server_default="1"),
    Column("badge_color", String(9), nullable=False),
    Column("badge_icon", String(64)),
    Column("priority", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    UniqueConstraint("site_id", "name_key"),
    Index(None, "id"),
    UniqueConstraint("site_id", "priority"),
    CheckConstraint("priority >= 1", name="priority_positive"),
    CheckConstraint(_in("type", GOAL_TYPES), name="type"),
    CheckConstraint(_in("match_logic", MATCH_LOGICS), name="match_logic"),
    CheckConstraint("length(name) BETWEEN 1 AND 100", name="name_length"),
)

goal_conditions = Table(
    "goal_conditions",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("goal_id", Uuid, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("field", String(16), nullable=False),
    Column("operator", String(16), nullable=False),
    Column("value", Text),
    ForeignKeyConstraint(
        ["site_id", "goal_id"], ["goals.site_id", "goals.id"], ondelete="CASCADE"
    ),
    CheckConstraint(_in("field", CONDITION_FIELDS), name="field"),
    CheckConstraint(_in("operator", OPERATORS), name="operator"),
    CheckConstraint(
        "(operator IN ('IS_EMPTY', 'IS_NOT_EMPTY') AND value IS NULL)"
        " OR (operator NOT IN ('IS_EMPTY', 'IS_NOT_EMPTY') AND value IS NOT NULL AND value <> '')",
        name="value_needed",
    ),
)

# One random salt per UTC day, shared by every process; a visitor hash cannot be recomputed
# once its day's salt is deleted.
salts = Table(
    "salts",
    metadata,
    Column("day", Integer, primary_key=True),
    Column("salt", LargeBinary(32), nullable=False),
)

# The one row per visitor that serialises session assignment across processes.
visitors = Table(
    "visitors",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("visitor_id", String(200), primary_key=True),
    Column("session_id", Uuid, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("session_started_at", BigInteger),
)

MONEY_EVENTS = "is_conversion OR revenue_currency IS NOT NULL"

SESSION_ATTRIBUTION = ("source", "utm_source", "utm_medium", "utm_campaign", "utm_term",
                       "utm_content", "browser", "os", "device")

sessions = Table(
    "sessions",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("id", Uuid, primary_key=True),
    Column("visitor_id", String(200), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    # the start of the UTC hour of last_seen_at: what the index of sessions by end is on, so
    # that growing a session by an event changes no indexed column (PostgreSQL then updates the
    # row in place, in the room its fillfactor of 80 leaves: migration 0010)
    Column("last_seen_hour", BigInteger, nullable=False),
    Column("entry_path", Text),
    Column("referrer", Text),
    Column("has_converted", Boolean, nullable=False, server_default="0"),
    Column("events", Integer, nullable=False, server_default="0"),
    Column("pageviews", Integer, nullable=False, server_default="0"),
    # attribution, fixed by the session's first event (server/ingest/attribution.py; migration
    # 0005: NULL for sessions stored before it)
    *(Column(name, String(200)) for name in SESSION_ATTRIBUTION),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    Index(None, "site_id", "started_at", "id"),
    Index(None, "site_id", "visitor_id", "started_at"),
    # sessions with events in a range: those that end in or after it (server/stats/breakdown.py)
    Index(None, "site_id", "last_seen_hour"),
)

events = Table(
    "events",
    metadata,
    Column("site_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("session_id", Uuid, nullable=False),
    Column("visitor_id", String(200), nullable=False),
    Column("user_id", String(200)),
    Column("occurred_at", BigInteger, nullable=False),
    Column("type", String(8), nullable=False),
    Column("name", String(100)),
    Column("url", Text),
    Column("path", Text),
    Column("referrer", Text),
    Column("click_url", Text),
    Column("click_domain", String(253)),
    Column("click_text", Text),
    Column("click_asin", String(10)),
    Column("form_name", Text),
    Column("form_id", String(200)),
    Column("form_plugin", String(8)),
    Column("form_page_url", Text),
    Column("props", Text),
    Column("revenue_micros", BigInteger),
    Column("revenue_currency", String(3)),
    Column("goal_id", Uuid),
    # whether the matched goal counted as a conversion when the event arrived
    Column("is_conversion", Boolean, nullable=False, server_default="0"),
    # occurred_at is in the key because PostgreSQL partitions this table by month on it (a
    # partitioned table's unique indexes must hold the partition key): server/db/partitions.py
    PrimaryKeyConstraint("site_id", "id", "occurred_at"),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    CheckConstraint(_in("type", EVENT_TYPES), name="type"),
    CheckConstraint(
        "(revenue_micros IS NULL) = (revenue_currency IS NULL)", name="revenue_pair"
    ),
    Index(None, "site_id", "occurred_at"),
    Index(None, "site_id", "session_id", "occurred_at"),
    Index(None, "site_id", "goal_id", "occurred_at"),
    # the conversions and revenue of a range, without reading every event of it
    # (server/stats/breakdown.py)
    Index("ix_events_site_id_occurred_at_money", "site_id", "occurred_at",
          sqlite_where=text(MONEY_EVENTS), postgresql_where=text(MONEY_EVENTS)),
    postgresql_partition_by="RANGE (occurred_at)",
)

# Idempotency: an event_id is stored once per site, whichever process sees it first.
event_keys = Table(
    "event_keys",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("event_key", String(200), primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# --- read rollups (migration 0002), maintained at ingestion by server.ingest.rollups ----------
# goal_id NIL_UUID: the row of the site's events as a whole
NIL_UUID = uuid.UUID(int=0)

# Hours are UTC hour starts in microseconds. goal_id NIL_UUID = the site's events as a whole;
# currency '' = no currency (the counters), else revenue_micros of that currency.
rollup_hourly = Table(
    "rollup_hourly",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("goal_id", Uuid, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("events", BigInteger, nullable=False, server_default="0"),
    Column("pageviews", BigInteger, nullable=False, server_default="0"),
    Column("conversions", BigInteger, nullable=False, server_default="0"),
    Column("revenue_micros", BigInteger, nullable=False, server_default="0"),
    # sessions that started in the hour (goal NIL_UUID, currency '' only), kept exact by the
    # database's triggers on `sessions` (migration 0006), whoever writes sessions
    Column("sessions", BigInteger, nullable=False, server_default="0"),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)

# HyperLogLog sketches (p=14, sparse) of the visitor ids of one hour: of the site (goal_id
# NIL_UUID) or of one goal's events. Part 0 is the hour's sketch; on PostgreSQL each batch adds
# its visitors as a new part (> 0, from the sequence visitor_sketch_parts) without locking part
# 0, and the parts are merged into it shortly after (server/ingest/rollups.py). A reader merges
# every part of an hour, so a sketch reads the same before and after that merge.
visitor_sketches = Table(
    "visitor_sketches",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("goal_id", Uuid, primary_key=True),
    Column("part", BigInteger, primary_key=True, server_default="0"),
    Column("sketch", LargeBinary, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    Index("ix_visitor_sketches_parts", "site_id", "hour", "goal_id",
          postgresql_where=text("part <> 0"), sqlite_where=text("part <> 0")),
)

# One UTC day's visitor sketch, merged from its hourly sketches by the daily maintenance
# (PostgreSQL), so that a month is 30 sketches to merge rather than 720. It stands for the day
# only while the hourly rows are exactly those it was made from: source_rows and source_xmin
# (the count and the sum of their xmin) are compared at every read.
visitor_sketches_daily = Table(
    "visitor_sketches_daily",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("day", BigInteger, primary_key=True),
    Column("goal_id", Uuid, primary_key=True),
    Column("sketch", LargeBinary, nullable=False),
    Column("source_rows", BigInteger, nullable=False),
    Column("source_xmin", BigInteger, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)

# PostgreSQL: the sites that a process has live subscribers for (Subscription.events), so that a
# batch NOTIFYs only for sites someone watches (server/live/feed.py). A process refreshes its
# rows while it has subscribers; a row not refreshed (its process gone) stops counting at
# expires_at (microseconds, PostgreSQL's clock).
live_subscriptions = Table(
    "live_subscriptions",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("process_id", Uuid, primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)

# From which hour on a site's rollups are complete; hours before it are read from events.
rollup_coverage = Table(
    "rollup_coverage",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("since_hour", BigInteger, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)


# --- dimension rollups (migration 0008), built by server.stats.dimension_rollups: by the
# maintenance of every server shortly after an hour has passed, else by the first read that
# needs the hour; rebuilt when the hour's rollup_hourly counters have moved since. `hours` 1: an
# hour's rows; 24: a UTC day's, merged from its hours. Per dimension (SOURCE, UTM_*, ENTRY_PAGE,
# BROWSER, OS, DEVICE: the session's; PAGE: the event's path) and value (NULL: none), keyed by
# the value's 64-bit hash because a path may be longer than a btree key may be.


def _dimension_span() -> list[Column]:
    return [Column("site_id", Uuid, primary_key=True),
            Column("dimension", String(16), primary_key=True),
            Column("hours", SmallInteger, primary_key=True),
            Column("start", BigInteger, primary_key=True),
            Column("value_hash", BigInteger, primary_key=True),
            Column("value", Text)]


# The HyperLogLog sketch of the span's visitors with that value (session dimensions: of the
# events in those sessions; PAGE: of the pageviews of that path).
dimension_sketches = Table(
    "dimension_sketches",
    metadata,
    *_dimension_span(),
    Column("sketch", LargeBinary, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    # a breakdown's top values: their rows alone
    Index(None, "site_id", "dimension", "value_hash", "hours", "start"),
)

# Per span and dimension, every value's events, pageviews and sessions started in one array
# (server/stats/dimension_rollups.py TOTALS): a breakdown ranks its values by them.
dimension_totals = Table(
    "dimension_totals",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("hours", SmallInteger, primary_key=True),
    Column("start", BigInteger, primary_key=True),
    Column("totals", LargeBinary, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)

# Per span, dimension, value, goal and currency: goal_id NIL_UUID = the events of any goal
# counting as a conversion, else that goal's events; currency '' = how many (`conversions`),
# else the revenue of those events in that currency (`conversion_micros`) and - with NIL_UUID -
# the revenue of every event in that currency (`revenue_micros`).
dimension_counters = Table(
    "dimension_counters",
    metadata,
    *_dimension_span(),
    Column("goal_id", Uuid, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("conversions", BigInteger, nullable=False),
    Column("conversion_micros", BigInteger, nullable=False),
    Column("revenue_micros", BigInteger, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    Index(None, "site_id", "dimension", "value_hash", "hours", "start"),
)

# The site-wide rollup_hourly counters (summed over the day for `hours` 24) that a span's
# dimension rows were built from: the rows stand for the span while these are unchanged.
dimension_built = Table(
    "dimension_built",
    metadata,
    Column("site_id", Uuid, primary_key=True),
    Column("hours", SmallInteger, primary_key=True),
    Column("start", BigInteger, primary_key=True),
    Column("events", BigInteger, nullable=False),
    Column("pageviews", BigInteger, nullable=False),
    Column("conversions", BigInteger, nullable=False),
    Column("sessions", BigInteger, nullable=False),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)

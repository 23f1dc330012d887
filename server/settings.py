"""Everything Goalpost reads from the environment, read once."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass


def _number(name: str, default: float) -> float:
    """A number of seconds or events per second: 0 or more (0 turns the thing off)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    # a negative or endless value has no meaning here: refused rather than quietly read as 0
    if not math.isfinite(value) or value < 0:
        raise SystemExit(f"{name} must be a number, 0 or more, got {raw!r}")
    return value


def _whole(name: str, default: int, lowest: int, highest: int | None, meaning: str) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = lowest - 1
    if value < lowest or (highest is not None and value > highest):
        raise SystemExit(f"{name} must be {meaning}, got {raw!r}")
    return value


def _days(name: str) -> int:
    return _whole(name, 0, 0, None, "a whole number of days (0 or unset: keep forever)")


def async_database_url(url: str) -> str:
    """Accept the common spellings and turn them into the async drivers we use."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./goalpost.db"
    admin_token: str | None = None
    # events per second per client address on /api/event; 0 turns the limit off
    rate_limit: float = 50.0
    rate_burst: float = 0.0
    max_body_bytes: int = 32 * 1024
    max_props_bytes: int = 8 * 1024
    session_timeout_seconds: int = 30 * 60
    # the most events one group commit takes
    batch_max_size: int = 512
    # PostgreSQL: batches one server writes at once, each on its own connection (SQLite:
    # always 1). With one, each transaction's fixed cost is shared by twice the events: in
    # alternating runs PostgreSQL spent ~255 µs of CPU per event against ~305 with two at 2,000
    # events/s, and ~110 against ~170 at saturation, where both stored about as many events
    # (bench/RESULTS-ingest.md, "What changed on 1 Dec")
    writer_connections: int = 1
    retry_after_seconds: int = 5
    # GraphQL's analytics reads (kpis, goalStats, sessions, timeseries) go here when set: a
    # PostgreSQL read replica; everything else uses database_url
    read_database_url: str | None = None
    # raw events, sessions and idempotency keys older than this many days are deleted (0: never)
    retention_days: int = 0
    # rollups (the totals) older than this many days are deleted (0: never)
    rollup_retention_days: int = 0
    # how long a SQLite writer waits for another process's write lock before answering 503
    sqlite_busy_timeout_ms: int = 30_000
    # proxies (comma-separated addresses or networks, "*" for any) whose X-Forwarded-For gives
    # the client address; none by default, so no client can choose its own address
    forwarded_allow_ips: str = ""
    # events a live subscriber may fall behind before it is cut off (server/live/hub.py); above
    # batch_max_size, so one busy commit never cuts off a subscriber that keeps up
    live_queue_size: int = 1024
    # PostgreSQL: how often (seconds) each server merges the visitor-sketch parts that batches
    # add into their hour's sketch (server/ingest/rollups.py); 0: only `goalpost maintain` does
    sketch_merge_seconds: float = 2.0
    # how often (seconds) each server builds the dimension rollups of the hours that have
    # passed (server/stats/dimension_rollups.py), so reads find them built; 0: servers never
    # build them, `goalpost maintain` does (e.g. from cron), reads take the events meanwhile
    dimension_build_seconds: float = 60.0

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        # 50/s with a burst of 100: far above what one browser sends, room for an office behind
        # one address, and a flood is still cut off
        rate = _number("GOALPOST_RATE_LIMIT", 50.0)
        values = dict(
            database_url=async_database_url(
                os.environ.get("GOALPOST_DATABASE_URL") or "sqlite+aiosqlite:///./goalpost.db"
            ),
            admin_token=os.environ.get("GOALPOST_ADMIN_TOKEN") or None,
            rate_limit=rate,
            rate_burst=_number("GOALPOST_RATE_BURST", max(rate * 2, 10.0) if rate else 0.0),
            read_database_url=async_database_url(
                os.environ.get("GOALPOST_READ_DATABASE_URL", "")) or None,
            retention_days=_days("GOALPOST_RETENTION_DAYS"),
            rollup_retention_days=_days("GOALPOST_ROLLUP_RETENTION_DAYS"),
            forwarded_allow_ips=os.environ.get("GOALPOST_FORWARDED_ALLOW_IPS", "").strip(),
            live_queue_size=_whole("GOALPOST_LIVE_QUEUE", 1024, 1, None,
                                   "a whole number of events, 1 or more"),
            sketch_merge_seconds=_number("GOALPOST_SKETCH_MERGE_SECONDS", 2.0),
            writer_connections=_whole("GOALPOST_WRITER_CONNECTIONS", 1, 1, 16,
                                      "a whole number from 1 to 16"),
            dimension_build_seconds=_number("GOALPOST_DIMENSION_BUILD_SECONDS", 60.0),
        )
        values.update(overrides)
        if "database_url" in overrides:
            values["database_url"] = async_database_url(values["database_url"])
        if values["read_database_url"]:
            values["read_database_url"] = async_database_url(values["read_database_url"])
        settings = cls(**values)
        if 0 < settings.rollup_retention_days < settings.retention_days:
            raise SystemExit("GOALPOST_ROLLUP_RETENTION_DAYS must not be shorter than "
                             "GOALPOST_RETENTION_DAYS: the rollups keep the totals of deleted events")
        return settings

"""Monthly partitions of `events` on PostgreSQL (native declarative partitioning, RANGE on
`occurred_at`, migration 0006).

* `events_pYYYYMM` holds the UTC month [first day 00:00, next month's first day 00:00) in
  microseconds; `events_default` holds whatever no monthly partition covers (a server-side
  `timestamp` may be years old), so an insert never fails for want of a partition.
* Partitions are made ahead (this month and the next `MONTHS_AHEAD`) by every server at start,
  once a day after, and by `goalpost maintain`. A month whose rows already sit in the default
  partition is still made: its rows are moved out first, then the table is attached.
* Retention drops whole monthly partitions that end before the cut-off, and deletes the
  default partition's older rows in bounded batches (server/lifecycle/retention.py).

Every change runs under one transaction-scoped advisory lock, so any number of processes may
run it at once: the second finds the work done.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import text

PARENT = "events"
DEFAULT = "events_default"
MONTHS_AHEAD = 2
# the most months back the migration makes partitions for existing rows; older rows stay in
# the default partition
MONTHS_BACK_AT_MIGRATION = 36
# pg_advisory_xact_lock key of partition maintenance ("goalpost" in ASCII, truncated)
LOCK_KEY = 0x676F616C706F7374 & 0x7FFFFFFFFFFFFFFF

_NAME = re.compile(r"^events_p(\d{4})(\d{2})$")


def is_partition(name: str) -> bool:
    """A partition of `events` (not a table of its own for the schema's purposes)."""
    return name == DEFAULT or _NAME.match(name) is not None


def month_of(us: int) -> tuple[int, int]:
    moment = datetime.fromtimestamp(us / 1_000_000, tz=timezone.utc)
    return moment.year, moment.month


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def month_start_us(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=timezone.utc).timestamp()) * 1_000_000


def bounds(year: int, month: int) -> tuple[int, int]:
    return month_start_us(year, month), month_start_us(*next_month(year, month))


def name_of(year: int, month: int) -> str:
    return f"events_p{year:04d}{month:02d}"


def month_of_name(name: str) -> tuple[int, int] | None:
    found = _NAME.match(name)
    return (int(found[1]), int(found[2])) if found else None


def months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out, current = [], first
    while current <= last:
        out.append(current)
        current = next_month(*current)
    return out


# ----------------------------------------------------------------------------- statements
# Plain SQL strings: run by the migration (a sync connection) and by maintenance (async).

LIST_PARTITIONS = f"""
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = '{PARENT}'::regclass
"""
IS_PARTITIONED = f"SELECT relkind = 'p' FROM pg_class WHERE oid = '{PARENT}'::regclass"


def create_statements(year: int, month: int) -> list[str]:
    """Make one month's partition, moving its rows out of the default partition first (a
    default partition holding rows of the new range would refuse the attach)."""
    lo, hi = bounds(year, month)
    name = name_of(year, month)
    return [
        f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE occurred_at >= {lo} AND occurred_at < {hi}"
        f" RETURNING *) INSERT INTO {name} SELECT * FROM moved",
        f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})",
    ]


def wanted_months(now_us: int, ahead: int = MONTHS_AHEAD) -> list[tuple[int, int]]:
    this = month_of(now_us)
    return months(this, add_months(*this, ahead))


async def ensure(conn, now_us: int, ahead: int = MONTHS_AHEAD) -> list[str]:
    """Create this month's and the next months' partitions that are missing (an AsyncConnection
    in a transaction). Returns the names created."""
    if not (await conn.execute(text(IS_PARTITIONED))).scalar():
        return []
    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    existing = set((await conn.execute(text(LIST_PARTITIONS))).scalars())
    created = []
    for year, month in wanted_months(now_us, ahead):
        if name_of(year, month) not in existing:
            for statement in create_statements(year, month):
                await conn.execute(text(statement))
            created.append(name_of(year, month))
    return created


async def monthly_partitions(conn) -> list[str]:
    if not (await conn.execute(text(IS_PARTITIONED))).scalar():
        return []
    names = (await conn.execute(text(LIST_PARTITIONS))).scalars()
    return sorted(n for n in names if month_of_name(n) is not None)

"""The writer's statements on PostgreSQL through asyncpg: every step is one prepared
statement over array parameters (unnest), new rows included. The writer owns its connections,
one per concurrent transaction, and opens a new one after a failure."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url

from server.db.models import SESSION_ATTRIBUTION
from server.ingest.batch_store import EVENT_COLUMNS, SESSION_COLUMNS
from server.stats import rollups


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgBatchStore:
    def __init__(self, url: str, *, connections: int):
        self._dsn = asyncpg_dsn(url)
        self._idle: asyncio.Queue[asyncpg.Connection | None] = asyncio.Queue()
        for _ in range(connections):
            self._idle.put_nowait(None)  # opened on first use

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator["_PgTx"]:
        conn = await self._idle.get()
        try:
            if conn is None or conn.is_closed():
                conn = await asyncpg.connect(self._dsn, timeout=5, command_timeout=30)
            async with conn.transaction():
                yield _PgTx(conn)
        except BaseException:
            # whatever failed, the next transaction starts on a fresh connection
            if conn is not None:
                conn.terminate()
            conn = None
            raise
        finally:
            self._idle.put_nowait(conn)

    async def warm_up(self) -> None:
        """Open the connections now rather than under the first requests."""
        opened = []
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            opened.append(conn)
        try:
            for i, conn in enumerate(opened):
                if conn is None:
                    opened[i] = await asyncpg.connect(self._dsn, timeout=5, command_timeout=30)
        finally:
            for conn in opened:
                self._idle.put_nowait(conn)

    async def close(self) -> None:
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if conn is not None:
                await conn.close(timeout=5)


def _columns(rows: list[tuple], count: int) -> list[list]:
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(count)]


class _PgTx:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def claim_event_keys(self, rows):
        result = await self.conn.fetch(
            "INSERT INTO event_keys (site_id, event_key, event_id, created_at) "
            "SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::bigint[]) "
            "ON CONFLICT DO NOTHING RETURNING site_id, event_key", *_columns(rows, 4))
        return {(r["site_id"], r["event_key"]) for r in result}

    async def goal_names_for_keys(self, keys):
        rows = await self.conn.fetch(
            "SELECT k.site_id, k.event_key, g.name FROM event_keys k "
            "JOIN unnest($1::uuid[], $2::text[]) AS u(site_id, event_key) "
            "  ON k.site_id = u.site_id AND k.event_key = u.event_key "
            "LEFT JOIN events e ON e.site_id = k.site_id AND e.id = k.event_id "
            "LEFT JOIN goals g ON g.site_id = e.site_id AND g.id = e.goal_id",
            *_columns(keys, 2))
        return {(r["site_id"], r["event_key"]): r["name"] for r in rows}

    async def lock_visitors(self, rows):
        result = await self.conn.fetch(_LOCK_VISITORS, *_columns(rows, 4))
        state = {(r["site_id"], r["visitor_id"]):
                 (r["session_id"], r["last_seen_at"], r["session_started_at"]) for r in result}
        return state, {r["site_id"]: r["goals_version"] for r in result}

    async def find_session(self, site_id, visitor_id, since, until):
        row = await self.conn.fetchrow(
            "SELECT id, started_at, last_seen_at FROM sessions WHERE site_id = $1 "
            "AND visitor_id = $2 AND last_seen_at >= $3 AND started_at <= $4 "
            "ORDER BY started_at DESC LIMIT 1 FOR UPDATE", site_id, visitor_id, since, until)
        return (row["id"], row["started_at"], row["last_seen_at"]) if row else None

    async def write(self, *, new_sessions, extended_sessions, visitor_moves, events, batch):
        # the batch's sketches are locked and read first: they are merged here, in Python
        sets = rollups.visitor_sets(batch)
        keys = rollups.sketch_keys(sets)
        current = await self.conn.fetch(_LOCK_SKETCHES, *_columns(keys, 3))
        blobs = {(r["site_id"], r["hour"], r["goal_id"]): r["sketch"] for r in current}
        sketches = []
        for key in keys:
            blob = rollups.merge_into(blobs.get(key), sets[key])
            if blob is not None:
                sketches.append((*key, blob))
        await self.conn.execute(
            _WRITE, *_columns(new_sessions, len(SESSION_COLUMNS)),
            *_columns(extended_sessions, 7), *_columns(visitor_moves, 5),
            *_columns(events, len(EVENT_COLUMNS)), *_columns(rollups.counter_rows(batch), 8),
            *_columns(sketches, 4), *_columns(rollups.coverage_rows(batch), 2))


# Takes each visitor's row lock (creating the row if new) and reads it, with the goals_version
# of its site, in one round trip.
_LOCK_VISITORS = """
WITH locked AS (
  INSERT INTO visitors (site_id, visitor_id, session_id, last_seen_at)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::bigint[])
  ON CONFLICT (site_id, visitor_id) DO UPDATE SET last_seen_at = visitors.last_seen_at
  RETURNING site_id, visitor_id, session_id, last_seen_at, session_started_at
)
SELECT locked.*, sites.goals_version FROM locked JOIN sites ON sites.id = locked.site_id
"""


# The batch's sketches, created empty if new, locked and read in one round trip (sorted keys).
_LOCK_SKETCHES = """
INSERT INTO visitor_sketches (site_id, hour, goal_id, sketch)
SELECT u.site_id, u.hour, u.goal_id, ''::bytea
FROM unnest($1::uuid[], $2::bigint[], $3::uuid[]) AS u(site_id, hour, goal_id)
ON CONFLICT (site_id, hour, goal_id) DO UPDATE SET sketch = visitor_sketches.sketch
RETURNING site_id, hour, goal_id, sketch
"""

def _params(first: int, types: tuple[str, ...]) -> str:
    return ", ".join(f"${first + i}::{t}[]" for i, t in enumerate(types))


_SESSION_TYPES = ("uuid", "uuid", "text", "bigint", "bigint", "text", "text", "bool", "int",
                  "int", *("text" for _ in SESSION_ATTRIBUTION))
_EXTEND_TYPES = ("uuid", "uuid", "bigint", "bigint", "bool", "int", "int")
_MOVE_TYPES = ("uuid", "text", "uuid", "bigint", "bigint")
_EVENT_TYPES = ("uuid", "uuid", "uuid", "text", "text", "bigint", "text", "text", "text", "text",
                "text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
                "bigint", "text", "uuid", "bool")
_n1 = 1
_n2 = _n1 + len(_SESSION_TYPES)
_n3 = _n2 + len(_EXTEND_TYPES)
_n4 = _n3 + len(_MOVE_TYPES)
_n5 = _n4 + len(_EVENT_TYPES)
_COUNTER_TYPES = ("uuid", "bigint", "uuid", "text", "bigint", "bigint", "bigint", "bigint")
_SKETCH_TYPES = ("uuid", "bigint", "uuid", "bytea")
_n6 = _n5 + len(_COUNTER_TYPES)
_n7 = _n6 + len(_SKETCH_TYPES)

# Everything a batch writes, in one statement: new sessions, longer sessions, where each
# visitor is now, the events, and the read rollups (server/stats/rollups.py). No row is touched
# twice, which one statement requires.
_WRITE = f"""
WITH new_sessions AS (
  INSERT INTO sessions ({", ".join(SESSION_COLUMNS)})
  SELECT * FROM unnest({_params(_n1, _SESSION_TYPES)})
), extended AS (
  UPDATE sessions s SET started_at = LEAST(s.started_at, u.first_seen),
    last_seen_at = GREATEST(s.last_seen_at, u.last_seen),
    has_converted = s.has_converted OR u.converted,
    events = s.events + u.events, pageviews = s.pageviews + u.pageviews
  FROM unnest({_params(_n2, _EXTEND_TYPES)})
    AS u(site_id, id, first_seen, last_seen, converted, events, pageviews)
  WHERE s.site_id = u.site_id AND s.id = u.id
), moved AS (
  UPDATE visitors v SET session_id = u.session_id, last_seen_at = u.last_seen_at,
    session_started_at = u.session_started_at
  FROM unnest({_params(_n3, _MOVE_TYPES)})
    AS u(site_id, visitor_id, session_id, last_seen_at, session_started_at)
  WHERE v.site_id = u.site_id AND v.visitor_id = u.visitor_id
), stored AS (
  INSERT INTO events ({", ".join(EVENT_COLUMNS)})
  SELECT * FROM unnest({_params(_n4, _EVENT_TYPES)})
), counters AS (
  INSERT INTO rollup_hourly (site_id, hour, goal_id, currency, events, pageviews, conversions,
                             revenue_micros)
  SELECT * FROM unnest({_params(_n5, _COUNTER_TYPES)})
  ON CONFLICT (site_id, hour, goal_id, currency) DO UPDATE SET
    events = rollup_hourly.events + excluded.events,
    pageviews = rollup_hourly.pageviews + excluded.pageviews,
    conversions = rollup_hourly.conversions + excluded.conversions,
    revenue_micros = rollup_hourly.revenue_micros + excluded.revenue_micros
), sketches AS (
  UPDATE visitor_sketches v SET sketch = u.sketch
  FROM unnest({_params(_n6, _SKETCH_TYPES)}) AS u(site_id, hour, goal_id, sketch)
  WHERE v.site_id = u.site_id AND v.hour = u.hour AND v.goal_id = u.goal_id
)
INSERT INTO rollup_coverage (site_id, since_hour)
SELECT * FROM unnest(${_n7}::uuid[], ${_n7 + 1}::bigint[])
ON CONFLICT (site_id) DO NOTHING
"""

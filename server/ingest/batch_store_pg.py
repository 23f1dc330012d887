"""The writer's statements on PostgreSQL through asyncpg: every step is one prepared
statement over array parameters (unnest), one array per column of the named rows of rows.py,
typed from the tables (rows.ArrayStatement). The writer owns its connections, one per
concurrent transaction, and opens a new one after a failure. (SQLite: batch_store.py; which
one runs: storage.py.)"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url

from server.db import models
from server.ingest import rollups
from server.ingest.rows import (
    ArrayStatement, CounterRow, CoverageRow, EventKeyRow, EventRow, SessionGrowth, SessionRow,
    SketchRow, VisitorMove, VisitorState, typed,
)


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
    """Key tuples laid out as one array per position (site_id, key...)."""
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(count)]


class _PgTx:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def claim_event_keys(self, rows):
        result = await self.conn.fetch(_CLAIM_KEYS.sql, *_CLAIM_KEYS.args(keys=rows))
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
        result = await self.conn.fetch(_LOCK_VISITORS.sql, *_LOCK_VISITORS.args(visitors=rows))
        state = {(r["site_id"], r["visitor_id"]):
                 VisitorState(r["session_id"], r["last_seen_at"], r["session_started_at"])
                 for r in result}
        return state, {r["site_id"]: r["goals_version"] for r in result}

    async def find_session(self, site_id, visitor_id, since, until):
        row = await self.conn.fetchrow(
            "SELECT id, started_at, last_seen_at FROM sessions WHERE site_id = $1 "
            "AND visitor_id = $2 AND last_seen_at >= $3 AND started_at <= $4 "
            "ORDER BY started_at DESC LIMIT 1 FOR UPDATE", site_id, visitor_id, since, until)
        return (row["id"], row["started_at"], row["last_seen_at"]) if row else None

    async def write(self, *, new_sessions, grown_sessions, visitor_moves, events):
        await self.conn.execute(_WRITE.sql, *_WRITE.args(
            new_sessions=new_sessions, grown=grown_sessions, moves=visitor_moves, events=events,
            counters=rollups.counter_rows(events), sketches=rollups.sketch_parts(events),
            coverage=rollups.coverage_rows(events)))


_CLAIM_KEYS = ArrayStatement("""
INSERT INTO event_keys (site_id, event_key, event_id, created_at)
SELECT * FROM unnest({keys})
ON CONFLICT DO NOTHING RETURNING site_id, event_key""",
                             keys=typed(models.event_keys, EventKeyRow))

# Takes each visitor's row lock (creating the row if new) and reads it, with the goals_version
# of its site, in one round trip. Visitors of a site that no longer exists are left out.
_LOCK_VISITORS = ArrayStatement("""
WITH locked AS (
  INSERT INTO visitors (site_id, visitor_id, session_id, last_seen_at, session_started_at)
  SELECT * FROM unnest({visitors}) AS u(site_id)
  WHERE EXISTS (SELECT FROM sites WHERE sites.id = u.site_id)
  ON CONFLICT (site_id, visitor_id) DO UPDATE SET last_seen_at = visitors.last_seen_at
  RETURNING site_id, visitor_id, session_id, last_seen_at, session_started_at
)
SELECT locked.*, sites.goals_version FROM locked JOIN sites ON sites.id = locked.site_id
""", visitors=typed(models.visitors, VisitorMove))


# Everything a batch writes, in one statement: new sessions, grown sessions, where each visitor
# is now, the events, and the read rollups (rollups.py): counters added under their rows' locks,
# visitors as new sketch parts (no lock). No row is touched twice, which one statement requires.
_WRITE = ArrayStatement("""
WITH new_sessions AS (
  INSERT INTO sessions ({session_columns})
  SELECT * FROM unnest({new_sessions})
), grown AS (
  UPDATE sessions s SET started_at = LEAST(s.started_at, u.first_seen),
    last_seen_at = GREATEST(s.last_seen_at, u.last_seen),
    has_converted = s.has_converted OR u.converted,
    events = s.events + u.events, pageviews = s.pageviews + u.pageviews
  FROM unnest({grown}) AS u({grown_fields})
  WHERE s.site_id = u.site_id AND s.id = u.id
), moved AS (
  UPDATE visitors v SET session_id = u.session_id, last_seen_at = u.last_seen_at,
    session_started_at = u.session_started_at
  FROM unnest({moves}) AS u({move_fields})
  WHERE v.site_id = u.site_id AND v.visitor_id = u.visitor_id
), stored AS (
  INSERT INTO events ({event_columns})
  SELECT * FROM unnest({events})
), counters AS (
  INSERT INTO rollup_hourly ({counter_columns})
  SELECT * FROM unnest({counters})
  ON CONFLICT (site_id, hour, goal_id, currency) DO UPDATE SET
    events = rollup_hourly.events + excluded.events,
    pageviews = rollup_hourly.pageviews + excluded.pageviews,
    conversions = rollup_hourly.conversions + excluded.conversions,
    revenue_micros = rollup_hourly.revenue_micros + excluded.revenue_micros
), sketches AS (
  INSERT INTO visitor_sketches (site_id, hour, goal_id, part, sketch)
  SELECT u.site_id, u.hour, u.goal_id, nextval('visitor_sketch_parts'), u.sketch
  FROM unnest({sketches}) AS u({sketch_fields})
)
INSERT INTO rollup_coverage (site_id, since_hour)
SELECT * FROM unnest({coverage})
ON CONFLICT (site_id) DO NOTHING
""".replace("{session_columns}", ", ".join(SessionRow._fields))
   .replace("{grown_fields}", ", ".join(SessionGrowth._fields))
   .replace("{move_fields}", ", ".join(VisitorMove._fields))
   .replace("{event_columns}", ", ".join(EventRow._fields))
   .replace("{counter_columns}", ", ".join(CounterRow._fields))
   .replace("{sketch_fields}", ", ".join(SketchRow._fields)),
    new_sessions=typed(models.sessions, SessionRow),
    grown=typed(models.sessions, SessionGrowth),
    moves=typed(models.visitors, VisitorMove),
    events=typed(models.events, EventRow),
    counters=typed(models.rollup_hourly, CounterRow),
    sketches=typed(models.visitor_sketches, SketchRow),
    coverage=typed(models.rollup_coverage, CoverageRow),
)

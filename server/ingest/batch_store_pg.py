"""The writer's statements on PostgreSQL through asyncpg, optimistic: a batch reads what it
needs without locking anything (its event ids already stored, its visitors and their sites'
goals_version), the writer computes sessions in Python, and ONE statement writes the whole
batch and commits (no BEGIN, no COMMIT round trip), after checking inside that statement that
nothing it read has changed since: each visitor row still has the version it was read with
(its xmin), new visitors and event ids are still new, the sites' goals are the ones matched,
the sessions it grows still exist. If anything changed (another batch of this or another
process got there first), the statement raises GP409 and writes nothing, and the writer
computes the batch again from fresh reads (storage.WriteConflict). Locks are taken only inside
that one statement, so no lock is held while Python runs or while a round trip is under way.
Visitors this process wrote last are not read again (Known): the write checks the versions it
left them at, so most batches are one round trip.

Every statement is prepared over json parameters, one per group of the named rows of rows.py,
read back by json_to_recordset typed from the tables (rows.RowsStatement). The writer owns its
connections, one per concurrent batch, and opens a new one after a failure. (SQLite:
batch_store.py; which one runs: storage.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import namedtuple
from typing import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url

from server.clock import HOUR_US
from server.db import models
from server.ids import new_id
from server.ingest import rollups
from server.ingest.storage import WriteConflict
from server.live.feed import CHANNEL, notifications
from server.ingest.rows import (
    CounterRow, CoverageRow, EventKeyRow, EventRow, RowsStatement, SessionGrowth, SessionRow,
    NO_SESSION, SketchRow, VisitorMove, VisitorState, typed,
)


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# The writer's statements touch a batch's rows in big tables (visitors, sessions) by key, and
# json_to_recordset is estimated at 100 rows whatever it holds: planned freely, a hash join over
# every row of the table looks cheaper than that many index probes (measured: PostgreSQL's CPU
# per event doubled as sessions grew); and a table planned while its statistics say it is
# nearly empty (a new database, before autovacuum analyzes it) is read whole for each row
# (seen: 5 ms of a batch's write). A batch is always better served by its keys.
_PLANNER = {"enable_hashjoin": "off", "enable_mergejoin": "off", "enable_seqscan": "off"}


async def _connect(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn, timeout=5, command_timeout=30, server_settings=_PLANNER)


class Known:
    """The visitor rows and sites' goals_version this process wrote or read last, with the
    version (xmin) each visitor row got: a batch whose visitors are all known needs no read
    before its write, one round trip instead of two. Knowing is never trusting: the write
    checks every version as it checks a read one, so a row that another process (or an
    erasure, a deleted site) changed since makes the batch conflict, and its retry reads.

    Where visitors' events are spread over several processes, what one process knows is
    mostly out of date and each batch would conflict once: after a batch that used what was
    known conflicts, the next 1, 2, 4, ... up to 1,024 attempts (its own retry first) read
    everything, and one that uses it without a conflict ends that."""

    SIZE = 100_000  # visitors: about 30 MB
    MAX_SKIP = 1024

    def __init__(self):
        self.visitors: dict[tuple, tuple] = {}  # (site, visitor) -> (session, last, start, xmin)
        self.goals: dict[uuid.UUID, int] = {}  # site -> goals_version
        self._skip = 0  # batches left that read everything
        self._backoff = 0
        self.reads = 0  # batches that read visitors: lets tests and benchmarks see the saving

    def usable(self) -> bool:
        if self._skip:
            self._skip -= 1
            return False
        return True

    def conflicted(self, used: bool) -> None:
        if used:
            self._backoff = min(self.MAX_SKIP, self._backoff * 2 or 1)
            self._skip = self._backoff

    def succeeded(self, used: bool) -> None:
        if used:
            self._backoff = 0

    def forget(self, keys, sites) -> None:
        for key in keys:
            self.visitors.pop(key, None)
        for site in sites:
            self.goals.pop(site, None)

    def remember(self, moves, version: int, goals: dict[uuid.UUID, int]) -> None:
        visitors = self.visitors
        for m in moves:
            key = (m.site_id, m.visitor_id)
            visitors.pop(key, None)  # to the end: the oldest are forgotten first
            visitors[key] = (m.session_id, m.last_seen_at, m.session_started_at, version)
        for _ in range(len(visitors) - self.SIZE):
            del visitors[next(iter(visitors))]
        self.goals.update(goals)


class PgBatchStore:
    def __init__(self, url: str, *, connections: int):
        self._dsn = asyncpg_dsn(url)
        self._idle: asyncio.Queue[asyncpg.Connection | None] = asyncio.Queue()
        for _ in range(connections):
            self._idle.put_nowait(None)  # opened on first use
        self.known = Known()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator["_PgTx"]:
        """A batch's reads and its one writing statement (which is its own transaction)."""
        conn = await self._idle.get()
        tx = None
        try:
            if conn is None or conn.is_closed():
                conn = await _connect(self._dsn)
            tx = _PgTx(conn, self.known)
            yield tx
        except WriteConflict:
            # the statement wrote nothing; the connection is fine
            tx.forget()
            raise
        except BaseException:
            if tx is not None:  # it may have been written or not
                tx.forget()
            # whatever failed, the next batch starts on a fresh connection
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
                    opened[i] = await _connect(self._dsn)
        finally:
            for conn in opened:
                self._idle.put_nowait(conn)

    async def close(self) -> None:
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if conn is not None:
                await conn.close(timeout=5)


class _PgTx:
    def __init__(self, conn: asyncpg.Connection, known: Known):
        self.conn = conn
        self._known = known
        self._used_known = False
        self._keys: list[EventKeyRow] = []  # to claim: not stored when read
        self._stored_names: dict[tuple, str | None] = {}  # stored before -> its goal's name
        self._versions: dict[tuple, int | None] = {}  # visitor -> xmin read (None: absent)
        self._goals_versions: dict[uuid.UUID, int] = {}

    async def claim_event_keys(self, rows):
        # the keys stored before, with the goal their first copy recorded: one read serves
        # goal_names_for_keys too (the claim itself is in the write)
        stored = await self.conn.fetch(_STORED_KEYS.sql, *_STORED_KEYS.args(keys=rows))
        self._stored_names = {(r["site_id"], r["event_key"]): r["name"] for r in stored}
        self._keys = [r for r in rows if (r.site_id, r.event_key) not in self._stored_names]
        return {(r.site_id, r.event_key) for r in self._keys}

    async def goal_names_for_keys(self, keys):
        return {key: self._stored_names.get(key) for key in keys}

    async def read_visitors(self, rows):
        """Reads only what this process does not know (Known): the write checks the versions
        read or known here."""
        state = {}
        known = self._known
        if known.usable():
            visitors, goals = known.visitors, known.goals
            unknown = []
            for row in rows:
                key = (row.site_id, row.visitor_id)
                found = visitors.get(key)
                if found is None or row.site_id not in goals:
                    unknown.append(row)
                    continue
                state[key] = VisitorState(found[0], found[1], found[2])
                self._versions[key] = found[3]
                self._goals_versions[row.site_id] = goals[row.site_id]
            self._used_known = len(unknown) < len(rows)
            rows = unknown
            if not rows:
                return state, dict(self._goals_versions)
        known.reads += 1
        result = await self.conn.fetch(_READ_VISITORS.sql, *_READ_VISITORS.args(visitors=rows))
        for r in result:
            key = (r["site_id"], r["visitor_id"])
            self._versions[key] = r["version"]
            self._goals_versions[r["site_id"]] = r["goals_version"]
            if r["version"] is None:  # new: it gets a row when the batch is written
                state[key] = VisitorState(new_id(), NO_SESSION, None)
            else:
                state[key] = VisitorState(r["session_id"], r["last_seen_at"],
                                          r["session_started_at"])
        return state, dict(self._goals_versions)

    async def find_session(self, site_id, visitor_id, since, until):
        # not locked: the write grows it with commutative updates and checks it still exists
        row = await self.conn.fetchrow(
            "SELECT id, started_at, last_seen_at FROM sessions WHERE site_id = $1 "
            "AND visitor_id = $2 AND last_seen_at >= $3 AND started_at <= $4 "
            "ORDER BY started_at DESC LIMIT 1", site_id, visitor_id, since, until)
        return (row["id"], row["started_at"], row["last_seen_at"]) if row else None

    async def write(self, *, new_sessions, grown_sessions, visitor_moves, events):
        arrived, moved = [], []
        for move in visitor_moves:
            version = self._versions[(move.site_id, move.visitor_id)]
            if version is None:
                arrived.append(move)
            else:
                moved.append(VersionedMove(*move, version))
        sites = sorted({e.site_id for e in events}, key=lambda s: s.bytes)
        # the live feed's announcement of these events, sent by PostgreSQL at the commit
        notices = [Notice(uuid.UUID(hex=p.partition(":")[0]), p) for p in notifications(
            [(e.site_id, e.occurred_at, e.id) for e in events])]
        goals = [SiteGoals(s, self._goals_versions[s]) for s in sites]
        try:
            written = await self.conn.fetchrow(_WRITE.sql, *_WRITE.args(
                keys=self._keys, arrived=arrived, moved=moved, goals=goals,
                new_sessions=new_sessions, grown=grown_sessions, events=events,
                counters=rollups.counter_rows(events), sketches=rollups.sketch_parts(events),
                coverage=rollups.coverage_rows(events), notices=notices,
                expected=[Expected(len(self._keys), len(arrived), len(moved), len(goals),
                                   len(grown_sessions))]))
        except asyncpg.PostgresError as exc:
            if exc.sqlstate in CONFLICTS:
                self._known.conflicted(self._used_known)
                raise WriteConflict(exc.sqlstate) from exc
            raise
        self._known.succeeded(self._used_known)
        self._known.remember(visitor_moves, written["version"], self._goals_versions)

    def forget(self) -> None:
        """What this batch read or knew may be out of date (it conflicted, or failed)."""
        self._known.forget(self._versions, self._goals_versions)


# GP409: what the batch read has changed (migration 0007's goalpost_unchanged); 40P01: two
# batches locked rows in opposite orders and PostgreSQL chose this one to give way
CONFLICTS = {"GP409", "40P01"}

# a visitor row to update, and the version (xmin) it was read with
VersionedMove = namedtuple("VersionedMove", (*VisitorMove._fields, "version"))
# a site and the goals_version its events were matched against
SiteGoals = namedtuple("SiteGoals", ("id", "goals_version"))
# one NOTIFY payload of the live feed (server/live/feed.py), for one site
Notice = namedtuple("Notice", ("site_id", "payload"))
# how many rows each checked step of the write must touch
Expected = namedtuple("Expected", ("keys", "arrived", "moved", "goals", "grown"))
_COUNT = [(field, "integer") for field in Expected._fields]


_STORED_KEYS = RowsStatement("""
SELECT k.site_id, k.event_key, g.name FROM event_keys k
JOIN {keys} AS u USING (site_id, event_key)
LEFT JOIN events e ON e.site_id = k.site_id AND e.id = k.event_id
LEFT JOIN goals g ON g.site_id = e.site_id AND g.id = e.goal_id
""", keys=typed(models.event_keys, EventKeyRow)[:2])

# Each visitor with its row's version (xmin; NULL: no row yet) and its site's goals_version,
# in one round trip. Visitors of a site that no longer exists are left out.
_READ_VISITORS = RowsStatement("""
SELECT u.site_id, u.visitor_id, v.session_id, v.last_seen_at, v.session_started_at,
       v.xmin::text::bigint AS version, s.goals_version
FROM {visitors} AS u
JOIN sites s ON s.id = u.site_id
LEFT JOIN visitors v ON v.site_id = u.site_id AND v.visitor_id = u.visitor_id
""", visitors=typed(models.visitors, VisitorMove)[:2])

# Everything a batch writes, in one statement that is its own transaction: event ids claimed,
# new visitors, where each visitor is now (only if its row is still the version read), new and
# grown sessions, the events, the read rollups (rollups.py): counters added under their rows'
# locks, visitors as new sketch parts (no lock), and the live feed's NOTIFY (sent at commit) for
# the sites that have live subscribers. The last SELECT checks that every checked
# step touched the rows it had to, else raises GP409, and the whole statement writes nothing.
# No row is touched twice, which one statement requires. The counters come last: PostgreSQL
# runs the CTEs that the final SELECT does not read in the order written, so the hot rows of a
# busy site (its hour's counters) are locked for the shortest time before the commit.
_WRITE = RowsStatement("""
WITH keys AS (
  INSERT INTO event_keys (site_id, event_key, event_id, created_at)
  SELECT * FROM {keys} AS u
  ON CONFLICT DO NOTHING RETURNING 1
), arrived AS (
  INSERT INTO visitors ({move_fields})
  SELECT * FROM {arrived} AS u
  ON CONFLICT DO NOTHING RETURNING 1
), moved AS (
  UPDATE visitors v SET session_id = u.session_id, last_seen_at = u.last_seen_at,
    session_started_at = u.session_started_at
  FROM {moved} AS u
  WHERE v.site_id = u.site_id AND v.visitor_id = u.visitor_id
    AND v.xmin::text::bigint = u.version
  RETURNING 1
), goals AS (
  SELECT 1 FROM sites s JOIN {goals} AS u
    ON s.id = u.id AND s.goals_version = u.goals_version
), new_sessions AS (
  INSERT INTO sessions ({session_columns})
  SELECT * FROM {new_sessions} AS u
), grown AS (
  UPDATE sessions s SET started_at = LEAST(s.started_at, u.first_seen),
    last_seen_at = GREATEST(s.last_seen_at, u.last_seen),
    last_seen_hour = GREATEST(s.last_seen_hour, u.last_seen - u.last_seen % {hour}),
    has_converted = s.has_converted OR u.converted,
    events = s.events + u.events, pageviews = s.pageviews + u.pageviews
  FROM {grown} AS u
  WHERE s.site_id = u.site_id AND s.id = u.id
  RETURNING 1
), stored AS (
  INSERT INTO events ({event_columns})
  SELECT * FROM {events} AS u
), sketches AS (
  INSERT INTO visitor_sketches (site_id, hour, goal_id, part, sketch)
  SELECT u.site_id, u.hour, u.goal_id, nextval('visitor_sketch_parts'), u.sketch
  FROM {sketches} AS u
), coverage AS (
  INSERT INTO rollup_coverage (site_id, since_hour)
  SELECT * FROM {coverage} AS u
  ON CONFLICT (site_id) DO NOTHING
), notified AS (
  SELECT pg_notify('{channel}', n.payload) FROM {notices} AS n
  WHERE EXISTS (SELECT FROM live_subscriptions l WHERE l.site_id = n.site_id
                AND l.expires_at > (extract(epoch from clock_timestamp()) * 1000000)::bigint)
), counters AS (
  INSERT INTO rollup_hourly ({counter_columns})
  SELECT * FROM {counters} AS u
  ON CONFLICT (site_id, hour, goal_id, currency) DO UPDATE SET
    events = rollup_hourly.events + excluded.events,
    pageviews = rollup_hourly.pageviews + excluded.pageviews,
    conversions = rollup_hourly.conversions + excluded.conversions,
    revenue_micros = rollup_hourly.revenue_micros + excluded.revenue_micros
)
SELECT goalpost_unchanged(
  (SELECT count(*) FROM keys) = e.keys AND (SELECT count(*) FROM arrived) = e.arrived
  AND (SELECT count(*) FROM moved) = e.moved AND (SELECT count(*) FROM goals) = e.goals
  AND (SELECT count(*) FROM grown) = e.grown), (SELECT count(*) FROM notified),
  txid_current() % 4294967296 AS version
FROM {expected} AS e
""".replace("{session_columns}", ", ".join(SessionRow._fields))
   .replace("{move_fields}", ", ".join(VisitorMove._fields))
   .replace("{event_columns}", ", ".join(EventRow._fields))
   .replace("{counter_columns}", ", ".join(CounterRow._fields))
   .replace("{channel}", CHANNEL)
   .replace("{hour}", str(HOUR_US)),
    keys=typed(models.event_keys, EventKeyRow),
    arrived=typed(models.visitors, VisitorMove),
    moved=typed(models.visitors, VisitorMove) + [("version", "bigint")],
    goals=typed(models.sites, SiteGoals),
    new_sessions=typed(models.sessions, SessionRow),
    grown=typed(models.sessions, SessionGrowth),
    events=typed(models.events, EventRow),
    counters=typed(models.rollup_hourly, CounterRow),
    sketches=typed(models.visitor_sketches, SketchRow),
    coverage=typed(models.rollup_coverage, CoverageRow),
    notices=[("site_id", "uuid"), ("payload", "text")],
    expected=_COUNT,
)

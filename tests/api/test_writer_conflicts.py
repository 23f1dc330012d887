"""PostgreSQL's optimistic writer (server/ingest/batch_store_pg.py): a batch reads without
locking, and its one writing statement writes nothing when what it read has changed since; the
writer then computes the batch again. SQLite locks the visitor rows from the read to the commit
instead (one writer), so there is no such interleaving to provoke there."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from server.clock import now_us
from server.ids import new_id
from server.ingest.batch_store_pg import (
    _READ_VISITORS, _WRITE, PgBatchStore, VersionedMove, asyncpg_dsn,
)
from server.ingest.event import Event, RequestInfo
from server.ingest.goal_cache import GoalCache
from server.ingest.rows import NO_SESSION, SessionGrowth, SessionRow, VisitorMove, event_row
from server.ingest.storage import WriteConflict
from server.ingest.writer import Writer
from tests.conftest import make_settings, running_app
from tests.support.store import count_events, stored_events, stored_sessions

SESSION_US = 30 * 60 * 1_000_000


@pytest.fixture
def postgres_only(backend):
    if backend != "postgres":
        # SQLite's writer locks the visitor rows until commit (nothing to conflict), and
        # rewrites a row whole on update
        pytest.skip("a PostgreSQL writer's behaviour")


async def send(client, site, visitor):
    answer = await client.post("/api/event", json={
        "site": site.domain, "url": f"https://{site.domain}/", "anonymous_id": visitor})
    assert answer.status_code == 202, answer.text


def an_event(site, visitor: str) -> Event:
    event = Event(RequestInfo("192.0.2.1", "test"))
    event.site_id, event.visitor_id = site.id, visitor
    event.url, event.path = f"https://{site.domain}/late", "/late"
    event.occurred_at = now_us()
    event.goals_version = 1 << 40  # matched against the newest goals: nothing to match again
    return event


async def test_a_write_after_its_read_changed_writes_nothing(postgres_only, db, site, client):
    await send(client, site, "v1")
    store = PgBatchStore(db.url, connections=1)
    try:
        async with store.transaction() as tx:
            state, _ = await tx.read_visitors(
                [VisitorMove(site.id, "v1", new_id(), NO_SESSION, None)])
            await send(client, site, "v1")  # another batch moves the visitor meanwhile
            event = an_event(site, "v1")
            event.id, event.session_id = new_id(), new_id()
            with pytest.raises(WriteConflict):
                await tx.write(
                    new_sessions=[SessionRow(site_id=site.id, id=event.session_id,
                                             visitor_id="v1", started_at=event.occurred_at,
                                             last_seen_at=event.occurred_at, has_converted=False,
                                             events=1, pageviews=1)],
                    grown_sessions=[],
                    visitor_moves=[state[(site.id, "v1")].move(site.id, "v1")],
                    events=[event_row(event)])
    finally:
        await store.close()
    assert await count_events(db, site.id) == 2
    assert len(await stored_sessions(db, site.id)) == 1


class WrappedStore:
    """A real PostgreSQL store with something added around its transactions."""

    def __init__(self, store: PgBatchStore):
        self._store = store

    async def warm_up(self):
        await self._store.warm_up()

    async def close(self):
        await self._store.close()


class _InterjectingTx:
    def __init__(self, tx, interject):
        self._tx, self._interject = tx, interject

    def __getattr__(self, name):
        return getattr(self._tx, name)

    async def read_visitors(self, rows):
        read = await self._tx.read_visitors(rows)
        if self._interject is not None:
            await self._interject()
        return read


class Interjecting(WrappedStore):
    """A real PostgreSQL store whose first batch, between its reads and its write, sees another
    batch (through the running app) store an event of the same visitor."""

    def __init__(self, store: PgBatchStore, interject):
        super().__init__(store)
        self._interject = interject

    @contextlib.asynccontextmanager
    async def transaction(self):
        interject, self._interject = self._interject, None
        async with self._store.transaction() as tx:
            yield _InterjectingTx(tx, interject)


async def test_the_writer_computes_a_conflicted_batch_again(postgres_only, db, site, client):
    store = Interjecting(PgBatchStore(db.url, connections=1), lambda: send(client, site, "v2"))
    writer = Writer(store, GoalCache(db), session_timeout_us=SESSION_US)
    await writer.start()
    try:
        stored = await writer.submit(an_event(site, "v2"))
    finally:
        await writer.stop()
    assert stored.counted and writer.conflicts == 1
    events = await stored_events(db, site.id)
    [session] = await stored_sessions(db, site.id)  # the late event joined the other's session
    assert sorted(e["path"] for e in events) == ["/", "/late"]
    assert {e["session_id"] for e in events} == {session["id"]}
    assert session["events"] == 2 and session["pageviews"] == 2


async def test_the_write_finds_a_batchs_visitors_and_sessions_by_key(postgres_only, db, site):
    """A batch's rows come as json_to_recordset, which PostgreSQL estimates at 100 rows
    whatever it holds: planned freely, joining them to a big visitors or sessions table by
    hash looks cheaper than an index probe each, and the write reads the whole table."""
    conn = await asyncpg.connect(asyncpg_dsn(db.url))
    try:
        await conn.execute("""
            INSERT INTO visitors (site_id, visitor_id, session_id, last_seen_at,
                                  session_started_at)
            SELECT $1, 'big' || i, gen_random_uuid(), 1, 1 FROM generate_series(1, 5000) i;
            INSERT INTO sessions (site_id, id, visitor_id, started_at, last_seen_at,
                                  last_seen_hour, has_converted, events, pageviews)
            SELECT site_id, session_id, visitor_id, 1, 1, 0, false, 1, 1 FROM visitors
            WHERE site_id = $1;
            ANALYZE visitors; ANALYZE sessions""".replace("$1", f"'{site.id}'::uuid"))
    finally:
        await conn.close()
    session_id = new_id()
    store = PgBatchStore(db.url, connections=1)
    try:
        async with store.transaction() as tx:
            args = _WRITE.args(
                keys=[], arrived=[], goals=[], new_sessions=[], events=[], counters=[],
                sketches=[], coverage=[], notices=[], expected=[],
                moved=[VersionedMove(site.id, "big1", session_id, 2, 1, 0)],
                grown=[SessionGrowth(site.id, session_id, 2, 2, False, 1, 1)])
            plan = "\n".join(r[0] for r in await tx.conn.fetch("EXPLAIN " + _WRITE.sql, *args))
            read = "\n".join(r[0] for r in await tx.conn.fetch(
                "EXPLAIN " + _READ_VISITORS.sql,
                *_READ_VISITORS.args(visitors=[VisitorMove(site.id, "big1", None, 0, None)])))
    finally:
        await store.close()
    for scanned in (plan, read):
        assert "Seq Scan on visitors" not in scanned, scanned
        assert "Seq Scan on sessions" not in scanned, scanned
    assert "pk_visitors" in plan and "pk_sessions" in plan and "pk_visitors" in read


async def test_a_visitor_this_process_wrote_is_not_read_before_its_next_batch(
        postgres_only, db, site):
    store = PgBatchStore(db.url, connections=1)
    writer = Writer(store, GoalCache(db), session_timeout_us=SESSION_US)
    await writer.start()
    try:
        await writer.submit(an_event(site, "k1"))
        assert store.known.reads == 1
        await writer.submit(an_event(site, "k1"))
        await writer.submit(an_event(site, "k1"))
    finally:
        await writer.stop()
    assert store.known.reads == 1 and writer.conflicts == 0
    [session] = await stored_sessions(db, site.id)
    assert session["events"] == 3


async def test_a_visitor_another_process_moved_since_is_read_again(postgres_only, db, site,
                                                                   client):
    """What this process knows of a visitor is out of date once another process (here the
    running app) stored an event of it: the write finds the row's version changed, and the
    batch is computed again from what it reads."""
    store = PgBatchStore(db.url, connections=1)
    writer = Writer(store, GoalCache(db), session_timeout_us=SESSION_US)
    await writer.start()
    try:
        await writer.submit(an_event(site, "k2"))
        await send(client, site, "k2")
        await writer.submit(an_event(site, "k2"))
        assert writer.conflicts == 1 and store.known.reads == 2
        # what the retry wrote is known again
        await writer.submit(an_event(site, "k2"))
        assert writer.conflicts == 1 and store.known.reads == 2
    finally:
        await writer.stop()
    [session] = await stored_sessions(db, site.id)
    assert session["events"] == 4 and session["pageviews"] == 4
    assert {e["session_id"] for e in await stored_events(db, site.id)} == {session["id"]}


def test_after_conflicts_with_what_was_known_batches_read_for_longer():
    from server.ingest.batch_store_pg import Known

    known = Known()
    assert known.usable()
    skipped = []
    for _ in range(4):
        known.conflicted(used=True)
        n = 0
        while not known.usable():
            n += 1
        skipped.append(n)
    assert skipped == [1, 2, 4, 8]
    known.succeeded(used=True)
    known.conflicted(used=True)
    n = 0
    while not known.usable():
        n += 1
    assert n == 1
    known.conflicted(used=False)  # a batch that read everything says nothing of what is known
    assert known.usable()


class Overlapping(WrappedStore):
    """A real PostgreSQL store that counts how many of its transactions are open at once, and
    holds each open a moment, so that a second batch starts while the first is in flight."""

    def __init__(self, store: PgBatchStore):
        super().__init__(store)
        self.open = self.most_open = 0

    @contextlib.asynccontextmanager
    async def transaction(self):
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            await asyncio.sleep(0.01)
            async with self._store.transaction() as tx:
                yield tx
        finally:
            self.open -= 1


async def test_two_writer_connections_keep_each_visitors_events_in_one_of_them(
        postgres_only, db, site):
    """GOALPOST_WRITER_CONNECTIONS=2: two batches in flight at once never hold events of one
    visitor (each visitor's events queue for one connection), so they never conflict with
    each other, and every visitor's events land in one session."""
    store = Overlapping(PgBatchStore(db.url, connections=2))
    writer = Writer(store, GoalCache(db), session_timeout_us=SESSION_US, connections=2)
    await writer.start()
    # enough visitors that both queues get some, whatever this process's string hashes are
    visitors = [f"w{i}" for i in range(24)]
    try:
        for _ in range(4):
            stored = await asyncio.gather(*(writer.submit(an_event(site, v))
                                            for v in visitors * 2))
            assert all(s.counted for s in stored)
    finally:
        await writer.stop()
    assert store.most_open == 2 and writer.conflicts == 0
    sessions = await stored_sessions(db, site.id)
    assert sorted(s["visitor_id"] for s in sessions) == sorted(visitors)
    assert {s["events"] for s in sessions} == {8}


async def test_the_server_writes_on_the_connections_it_is_set_to(postgres_only, database_url,
                                                                  db, site):
    for connections in (1, 2):
        settings = make_settings(database_url, writer_connections=connections)
        async with running_app(settings) as (application, client):
            writer = application.state.writer
            assert writer.connections == connections
            await asyncio.gather(*(send(client, site, f"c{connections}-{i}") for i in range(8)))
            assert writer.conflicts == 0
    assert len(await stored_sessions(db, site.id)) == 16


async def test_a_session_grows_in_place(postgres_only, client, site, db):
    """Growing a session by an event changes no indexed column of `sessions` (migration 0010),
    so PostgreSQL writes the new row version beside the old one on its page and adds nothing
    to the table's indexes (a HOT update: the new version is a heap-only tuple). An index on a
    column that every event moves, such as last_seen_at, makes every such update write an
    entry into each index."""
    conn = await asyncpg.connect(asyncpg_dsn(db.url))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        for _ in range(3):
            await send(client, site, "grower")
            row = await conn.fetchrow(
                "SELECT (ctid::text::point)[0]::int AS block, (ctid::text::point)[1]::int AS "
                "item, events FROM sessions WHERE site_id = $1", site.id)
            flags = await conn.fetchval(
                "SELECT t_infomask2 FROM heap_page_items(get_raw_page('sessions', $1)) "
                "WHERE lp = $2", row["block"], row["item"])
            heap_only = bool(flags & 0x8000)  # HEAP_ONLY_TUPLE
            assert heap_only == (row["events"] > 1), (row["events"], hex(flags))
        # and the planner knows the hours finely enough to hash-join a recent hour's sessions
        assert await conn.fetchval(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'sessions'::regclass "
            "AND attname = 'last_seen_hour'") == 1000
    finally:
        await conn.close()

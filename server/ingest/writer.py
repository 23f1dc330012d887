"""Group commit: every event accepted while a transaction is in flight waits for the next one,
so one commit (one fsync) stores many events and each request is answered only after the commit
that holds its event.

One batch, one transaction:
  1. goals: the site's goals_version is read; events matched against an older version are
     matched again, so a goal change in any process applies from its commit on;
  2. idempotency: event_id keys are inserted with ON CONFLICT DO NOTHING; the losers are
     duplicates, answered with the goal their first copy recorded;
  3. sessions: the visitor rows are locked (created first if new, so two processes can't both
     start a session for one visitor), the 30-minute rule is applied in Python, and sessions and
     visitor rows are written back;
  4. events are inserted.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import Boolean, and_, bindparam, case, or_, select, tuple_, update
from sqlalchemy.exc import DBAPIError, OperationalError, InterfaceError

from server.clock import now_us
from server.db.engine import Database
from server.db.models import event_keys, events, goals, sessions, visitors
from server.db.upsert import insert_ignore, insert_or_touch
from server.errors import Unavailable
from server.goals.store import goals_versions
from server.ids import new_id
from server.ingest.event import Event
from server.ingest.goal_cache import GoalCache

log = logging.getLogger("goalpost.writer")

NO_SESSION = -1  # last_seen_at of a visitor row created only to take the lock


@dataclass(frozen=True, slots=True)
class Stored:
    goal_name: str | None
    duplicate: bool = False


@dataclass(slots=True)
class _SessionChange:
    id: uuid.UUID
    visitor_id: str
    is_new: bool
    started_at: int
    last_seen_at: int
    entry_path: str | None = None
    referrer: str | None = None
    has_converted: bool = False
    events: int = 0
    pageviews: int = 0

    def add(self, event: Event) -> None:
        self.started_at = min(self.started_at, event.occurred_at)
        self.last_seen_at = max(self.last_seen_at, event.occurred_at)
        self.events += 1
        self.pageviews += event.type == "pageview"
        if event.goal is not None and event.goal.counts_as_conversion:
            self.has_converted = True


class Writer:
    def __init__(self, db: Database, goal_cache: GoalCache, *, session_timeout_us: int,
                 max_batch: int = 512, retry_after: int = 5, concurrency: int | None = None):
        self._db = db
        self._goals = goal_cache
        self._timeout = session_timeout_us
        self._max_batch = max_batch
        self._retry_after = retry_after
        # PostgreSQL: a second transaction fills while the first waits for its commit.
        # SQLite has one writer at a time anyway.
        self._concurrency = concurrency or (1 if db.is_sqlite else 2)
        self._queue: asyncio.Queue[tuple[Event, asyncio.Future] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._closing = False
        self.batches = 0  # how many transactions: lets tests and benchmarks see grouping
        self.stored = 0

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name=f"goalpost-writer-{i}")
                       for i in range(self._concurrency)]

    async def stop(self) -> None:
        """Store what was accepted, then end."""
        self._closing = True
        for _ in self._tasks:
            self._queue.put_nowait(None)
        await asyncio.gather(*self._tasks)
        if self.batches:
            log.info("stored %d events in %d transactions", self.stored, self.batches)

    async def submit(self, event: Event) -> Stored:
        if self._closing:
            raise Unavailable("shutting down", retry_after=self._retry_after)
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((event, future))
        return await future

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            # let requests that are already being parsed join this batch
            await asyncio.sleep(0)
            batch = [item]
            stop = False
            while len(batch) < self._max_batch and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stop = True
                    break
                batch.append(more)
            await self._commit(batch)
            if stop:
                return

    async def _commit(self, batch: list[tuple[Event, asyncio.Future]]) -> None:
        try:
            results = await self._write([event for event, _ in batch])
        except (OperationalError, InterfaceError, DBAPIError, OSError, ConnectionError,
                asyncio.TimeoutError) as exc:
            log.warning("storage unavailable, %d events refused: %s", len(batch), exc)
            error = Unavailable("storage unavailable, retry later", retry_after=self._retry_after)
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        except Exception as exc:  # a bug: never leave a request waiting forever
            log.exception("writing a batch failed")
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        self.stored += len(batch)
        for (_, future), result in zip(batch, results):
            if not future.done():
                future.set_result(result)

    async def _write(self, batch: list[Event]) -> list[Stored]:
        for event in batch:
            event.id = new_id()
        async with self._db.write.begin() as conn:
            await self._refresh_goals(conn, batch)
            duplicates = await self._claim_event_keys(conn, batch)
            fresh = [e for e in batch if id(e) not in duplicates]
            if fresh:
                await self._put_sessions(conn, fresh)
                await conn.execute(events.insert(), [_event_row(e) for e in fresh])
        return [
            duplicates.get(id(e)) or Stored(e.goal.name if e.goal else None) for e in batch
        ]

    async def _refresh_goals(self, conn, batch: list[Event]) -> None:
        versions = await goals_versions(conn, list({e.site_id for e in batch}))
        for event in batch:
            version = versions.get(event.site_id, 0)
            if event.goals_version == version:
                continue
            entry = self._goals.get(event.site_id)
            matcher = entry[1] if entry and entry[0] == version else await self._goals.load(
                conn, event.site_id, version)
            event.goal = matcher.first_match(event.facts)
            event.goals_version = version

    async def _claim_event_keys(self, conn, batch: list[Event]) -> dict[int, Stored]:
        """Events whose event_id was stored before (or earlier in this batch) -> their answer."""
        first: dict[tuple, Event] = {}
        batch = sorted(batch, key=lambda e: (e.site_id.bytes, e.event_key or ""))
        later: list[tuple[Event, Event]] = []
        for event in batch:
            if event.event_key is None:
                continue
            key = (event.site_id, event.event_key)
            if key in first:
                later.append((event, first[key]))
            else:
                first[key] = event
        if not first:
            return {}
        now = now_us()
        claimed = set(
            tuple(r) for r in await conn.execute(
                insert_ignore(conn, event_keys, [
                    {"site_id": e.site_id, "event_key": e.event_key, "event_id": e.id,
                     "created_at": now}
                    for e in first.values()
                ]).returning(event_keys.c.site_id, event_keys.c.event_key)
            )
        )
        duplicates: dict[int, Stored] = {}
        seen_before = [k for k in first if k not in claimed]
        if seen_before:
            rows = await conn.execute(
                select(event_keys.c.site_id, event_keys.c.event_key, goals.c.name)
                .select_from(event_keys)
                .outerjoin(events, and_(events.c.site_id == event_keys.c.site_id,
                                        events.c.id == event_keys.c.event_id))
                .outerjoin(goals, and_(goals.c.site_id == events.c.site_id,
                                       goals.c.id == events.c.goal_id))
                .where(tuple_(event_keys.c.site_id, event_keys.c.event_key).in_(seen_before))
            )
            names = {(r.site_id, r.event_key): r.name for r in rows}
            for key in seen_before:
                duplicates[id(first[key])] = Stored(names.get(key), duplicate=True)
        for event, original in later:
            # the first copy is in this batch: answer as it is answered
            duplicates[id(event)] = duplicates.get(id(original)) or Stored(
                original.goal.name if original.goal else None, duplicate=True)
        return duplicates

    async def _put_sessions(self, conn, batch: list[Event]) -> None:
        keys = sorted({(e.site_id, e.visitor_id) for e in batch}, key=lambda k: (k[0].bytes, k[1]))
        # one statement takes each visitor's row lock (creating the row if new) and reads it;
        # in key order, so two batches never wait on each other in a cycle
        rows = await conn.execute(
            insert_or_touch(conn, visitors, ["site_id", "visitor_id"], "last_seen_at").returning(
                visitors.c.site_id, visitors.c.visitor_id, visitors.c.session_id,
                visitors.c.last_seen_at),
            [{"site_id": s, "visitor_id": v, "session_id": new_id(), "last_seen_at": NO_SESSION}
             for s, v in keys],
        )
        state = {(r.site_id, r.visitor_id): [r.session_id, r.last_seen_at] for r in rows}
        changes: dict[uuid.UUID, _SessionChange] = {}
        for event in sorted(batch, key=lambda e: e.occurred_at):
            current = state[(event.site_id, event.visitor_id)]
            session_id, last_seen = current
            if last_seen == NO_SESSION or event.occurred_at > last_seen + self._timeout:
                session_id = new_id()
                changes[session_id] = _SessionChange(
                    session_id, event.visitor_id, True, event.occurred_at, event.occurred_at,
                    entry_path=event.path, referrer=event.referrer)
            elif session_id not in changes:
                changes[session_id] = _SessionChange(
                    session_id, event.visitor_id, False, event.occurred_at, event.occurred_at)
            changes[session_id].add(event)
            current[0], current[1] = session_id, max(last_seen, event.occurred_at)
            event.session_id = session_id

        site_of = {e.session_id: e.site_id for e in batch}
        new = [c for c in changes.values() if c.is_new]
        if new:
            await conn.execute(sessions.insert(), [
                {"site_id": site_of[c.id], "id": c.id, "visitor_id": c.visitor_id,
                 "started_at": c.started_at, "last_seen_at": c.last_seen_at,
                 "entry_path": c.entry_path, "referrer": c.referrer,
                 "has_converted": c.has_converted, "events": c.events, "pageviews": c.pageviews}
                for c in new
            ])
        old = [c for c in changes.values() if not c.is_new]
        if old:
            await conn.execute(_EXTEND_SESSION, [
                {"b_site": site_of[c.id], "b_id": c.id, "b_first": c.started_at,
                 "b_last": c.last_seen_at, "b_conv": c.has_converted, "b_events": c.events,
                 "b_pageviews": c.pageviews}
                for c in old
            ])
        await conn.execute(_MOVE_VISITOR, [
            {"b_site": s, "b_visitor": v, "b_session": sid, "b_last": last}
            for (s, v), (sid, last) in state.items()
        ])


_EXTEND_SESSION = (
    update(sessions)
    .where(sessions.c.site_id == bindparam("b_site"), sessions.c.id == bindparam("b_id"))
    .values(
        started_at=case((sessions.c.started_at < bindparam("b_first"), sessions.c.started_at),
                        else_=bindparam("b_first")),
        last_seen_at=case((sessions.c.last_seen_at > bindparam("b_last"), sessions.c.last_seen_at),
                          else_=bindparam("b_last")),
        has_converted=or_(sessions.c.has_converted, bindparam("b_conv", type_=Boolean)),
        events=sessions.c.events + bindparam("b_events"),
        pageviews=sessions.c.pageviews + bindparam("b_pageviews"),
    )
)

_MOVE_VISITOR = (
    update(visitors)
    .where(visitors.c.site_id == bindparam("b_site"),
           visitors.c.visitor_id == bindparam("b_visitor"))
    .values(session_id=bindparam("b_session"), last_seen_at=bindparam("b_last"))
)


def _event_row(e: Event) -> dict:
    return {
        "site_id": e.site_id, "id": e.id, "session_id": e.session_id, "visitor_id": e.visitor_id,
        "user_id": e.user_id, "occurred_at": e.occurred_at, "type": e.type, "name": e.name,
        "url": e.url, "path": e.path, "referrer": e.referrer, "click_url": e.click_url,
        "click_domain": e.click_domain, "click_text": e.click_text, "click_asin": e.asin,
        "form_name": e.form_name, "form_id": e.form_id, "form_plugin": e.form_plugin,
        "form_page_url": e.form_page_url, "props": e.props_json,
        "revenue_micros": e.revenue_micros, "revenue_currency": e.revenue_currency,
        "goal_id": e.goal.id if e.goal else None,
        "is_conversion": bool(e.goal and e.goal.counts_as_conversion),
    }

"""Group commit: every event accepted while a transaction is in flight waits for the next one,
so one commit (one fsync) stores many events and each request is answered only after the commit
that holds its event.

One batch, one transaction (the statements: storage.py, batch_store.py, batch_store_pg.py):
  1. goals: the sites' goals_version is read; events matched against an older version are
     matched again, so a goal change in any process applies from its commit on;
  2. idempotency: event_id keys are claimed, skipping existing ones; the losers are
     duplicates, answered with the goal their first copy recorded;
  3. sessions: the visitor rows are read, the 30-minute rule is applied here, and sessions and
     visitor rows are written back;
  4. events are inserted.
No two batches may both act on one visitor's old state: on SQLite the visitor rows are locked
from step 3 to the commit (there is one writer anyway); on PostgreSQL nothing is locked while
Python runs, and the batch's one writing statement checks that what it read is unchanged, or
writes nothing and raises WriteConflict, and the batch is computed again (up to MAX_ATTEMPTS
times, then answered 503), so two processes can't both start a session for one visitor.

A batch that fails for any reason but a storage outage is split in halves, each tried on its own,
until the event that storage refuses stands alone: that one is answered 500, every other event
of the batch (other sites' too) is stored.

After the commit, the events it stored (not duplicates) are published to the live feed
(server/live/feed.py), which never waits; on PostgreSQL the batch's own statement announced
them at its commit already.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import InterfaceError, OperationalError

from server.clock import hour_of, now_us
from server.db.models import SESSION_ATTRIBUTION
from server.errors import ApiError, NotFound, Unavailable
from server.ids import new_id
from server.ingest.attribution import attribution_of
from server.ingest.event import Event
from server.ingest.goal_cache import GoalCache
from server.ingest.rows import (
    NO_SESSION, EventKeyRow, SessionGrowth, SessionRow, VisitorMove, VisitorState, event_row,
)
from server.ingest.storage import BatchTx, WriteConflict

log = logging.getLogger("goalpost.writer")



def _storage_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OperationalError, InterfaceError, OSError,
                                         ConnectionError, asyncio.TimeoutError]
    try:
        from asyncpg import exceptions as pg

        # the database is unreachable, restarting, out of resources, or chose this transaction
        # as a deadlock victim: worth a retry. Anything else is a bug and answers 500.
        errors += [pg.PostgresConnectionError, pg.OperatorInterventionError,
                   pg.InsufficientResourcesError, pg.TransactionRollbackError,
                   pg.InterfaceError, pg.InternalClientError, pg.ConnectionDoesNotExistError]
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pass
    return tuple(errors)


STORAGE_ERRORS = _storage_errors()
# a batch whose reads keep changing under it (WriteConflict) this many times is answered 503
MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Stored:
    goal_name: str | None  # the goal the event (or its first copy) recorded
    counted: bool = True  # False: dropped before storage (a bot), not stored


class StorageRefused(Exception):
    """Storage refused this one event; its batch-mates were stored without it. Parsing lets
    through only what can be stored, so this is a bug: answered 500."""


@dataclass(slots=True)
class _SessionChange:
    site_id: uuid.UUID
    id: uuid.UUID
    visitor_id: str
    is_new: bool
    started_at: int
    last_seen_at: int
    first: Event | None = None  # a new session's first event: its attribution is recorded
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
    def __init__(self, store, goal_cache: GoalCache, *, session_timeout_us: int,
                 max_batch: int = 512, retry_after: int = 5, connections: int = 1,
                 on_stored: Callable[[list[Event]], None] | None = None):
        self._store = store
        self._on_stored = on_stored
        self._goals = goal_cache
        self._timeout = session_timeout_us
        self._max_batch = max_batch
        self._retry_after = retry_after
        # one queue per connection (a batch in flight on each), each visitor's events always in
        # the same one: two batches of this process never act on one visitor at once (no
        # WriteConflict between them; on PostgreSQL they would otherwise conflict whenever a
        # visitor sends two events close together)
        self._queues: list[asyncio.Queue[tuple[Event, asyncio.Future] | None]] = [
            asyncio.Queue() for _ in range(connections)]
        self._tasks: list[asyncio.Task] = []
        self._closing = False
        self.batches = 0  # how many transactions: lets tests and benchmarks see grouping
        self.stored = 0
        self.conflicts = 0  # batches computed again (WriteConflict)

    async def start(self) -> None:
        try:
            await self._store.warm_up()
        except STORAGE_ERRORS as exc:  # the first batch will try again
            log.warning("storage not reachable at start: %r", exc)
        self._tasks = [asyncio.create_task(self._run(queue), name=f"goalpost-writer-{i}")
                       for i, queue in enumerate(self._queues)]

    async def stop(self) -> None:
        """Store what was accepted, then end."""
        self._closing = True
        for queue in self._queues:
            queue.put_nowait(None)
        await asyncio.gather(*self._tasks)
        await self._store.close()
        if self.batches:
            log.info("stored %d events in %d transactions on %d connections (%d computed again "
                     "after a conflict)", self.stored, self.batches, self.connections,
                     self.conflicts)

    @property
    def connections(self) -> int:
        """How many batches this writer has in flight at most."""
        return len(self._queues)

    async def submit(self, event: Event) -> Stored:
        if self._closing:
            raise Unavailable("shutting down", retry_after=self._retry_after)
        future = asyncio.get_running_loop().create_future()
        queues = self._queues
        queues[hash(event.visitor_id) % len(queues)].put_nowait((event, future))
        return await future

    async def _run(self, queue: asyncio.Queue) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            # let requests that are already being parsed join this batch
            await asyncio.sleep(0)
            batch = [item]
            stop = False
            while len(batch) < self._max_batch and not queue.empty():
                more = queue.get_nowait()
                if more is None:
                    stop = True
                    break
                batch.append(more)
            await self._commit(batch)
            if stop:
                return

    async def _commit(self, batch: list[tuple[Event, asyncio.Future]]) -> None:
        try:
            results, stored = await self._write([event for event, _ in batch])
        except (WriteConflict, *STORAGE_ERRORS) as exc:
            log.warning("storage unavailable, %d events refused: %r", len(batch), exc)
            error = Unavailable("storage unavailable, retry later", retry_after=self._retry_after)
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        except Exception as exc:
            if len(batch) > 1:
                # one event that storage refuses must not cost its batch-mates their place
                log.warning("a batch of %d events failed (%r): trying its halves apart",
                            len(batch), exc)
                middle = len(batch) // 2
                await self._commit(batch[:middle])
                await self._commit(batch[middle:])
                return
            log.exception("storage refused an event")
            _, future = batch[0]
            if not future.done():  # never leave a request waiting forever
                future.set_exception(StorageRefused(repr(exc)))
            return
        self.batches += 1
        self.stored += len(batch)
        for (_, future), result in zip(batch, results):
            if not future.done():
                if isinstance(result, ApiError):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        self._publish(stored)

    def _publish(self, stored: list[Event]) -> None:
        """Hand the events a commit stored to the live feed; never fails a batch."""
        if self._on_stored is None or not stored:
            return
        try:
            self._on_stored(stored)
        except Exception:
            log.exception("publishing stored events to the live feed failed")

    async def _write(self, batch: list[Event]) -> tuple[list[Stored | ApiError], list[Event]]:
        """(the answer for each event, the events stored by this batch's commit)"""
        for event in batch:
            event.id = new_id()
        visitor_ids = [event.visitor_id for event in batch]
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self._store.transaction() as tx:
                    stored_before, copies = await self._claim_event_keys(tx, batch)
                    fresh = [e for e in batch
                             if id(e) not in stored_before and id(e) not in copies]
                    gone = await self._store_fresh(tx, fresh) if fresh else []
                break
            except WriteConflict:
                if attempt == MAX_ATTEMPTS:
                    raise
                self.conflicts += 1
                # computed again from what storage holds now, as if the batch came now
                for event, visitor_id in zip(batch, visitor_ids):
                    event.visitor_id = visitor_id
        if gone:
            gone_ids = {id(e) for e in gone}
            fresh = [e for e in fresh if id(e) not in gone_ids]
        answers: dict[int, Stored | ApiError] = {
            id(e): Stored(e.goal.name if e.goal else None) for e in fresh}
        for event in gone:
            answers[id(event)] = NotFound(f"unknown site {event.site_domain!r}", field="site",
                                          code="unknown_site")
        answers.update(stored_before)
        for copy, original in copies.items():
            # the first copy is in this batch: answer as it is answered
            answers[copy] = answers[id(original)]
        return [answers[id(e)] for e in batch], fresh

    async def _claim_event_keys(self, tx: BatchTx, batch: list[Event]
                                ) -> tuple[dict[int, Stored], dict[int, Event]]:
        """(events whose event_id was stored before -> their answer,
            later copies of an event_id within this batch -> the first copy)"""
        first: dict[tuple, Event] = {}
        copies: dict[int, Event] = {}
        for event in batch:
            if event.event_key is None:
                continue
            key = (event.site_id, event.event_key)
            if key in first:
                copies[id(event)] = first[key]
            else:
                first[key] = event
        if not first:
            return {}, copies
        now = now_us()
        keys = sorted(first, key=lambda k: (k[0].bytes, k[1]))
        claimed = await tx.claim_event_keys(
            [EventKeyRow(site_id, key, first[(site_id, key)].id, now) for site_id, key in keys])
        stored_before: dict[int, Stored] = {}
        seen_before = [k for k in keys if k not in claimed]
        if seen_before:
            names = await tx.goal_names_for_keys(seen_before)
            for key in seen_before:
                stored_before[id(first[key])] = Stored(names.get(key))
        return stored_before, copies

    async def _store_fresh(self, tx: BatchTx, batch: list[Event]) -> list[Event]:
        """Stores the batch; returns its events whose site no longer exists (not stored)."""
        keys = {(e.site_id, e.visitor_id) for e in batch}
        keys.update((e.site_id, e.previous_visitor_id) for e in batch if e.previous_visitor_id)
        keys = sorted(keys, key=lambda k: (k[0].bytes, k[1]))
        state, versions = await tx.read_visitors(
            [VisitorMove(s, v, None, NO_SESSION, None) for s, v in keys])
        gone = [e for e in batch if e.site_id not in versions]
        if gone:  # deleted since the request found it (deleteSite)
            batch = [e for e in batch if e.site_id in versions]
            if not batch:
                return gone
        await self._rematch(batch, versions)
        changes: dict[uuid.UUID, _SessionChange] = {}
        earlier: list[Event] = []
        for event in sorted(batch, key=lambda e: e.occurred_at):
            at = event.occurred_at
            current = state[(event.site_id, event.visitor_id)]
            if event.previous_visitor_id and not self._live(current, event):
                previous = state[(event.site_id, event.previous_visitor_id)]
                if self._live(previous, event):
                    # the visitor's session began before midnight (UTC): it goes on
                    event.visitor_id, current = event.previous_visitor_id, previous
            if (current.last_seen_at != NO_SESSION and current.session_started_at is not None
                    and at < current.session_started_at - self._timeout):
                earlier.append(event)  # a backfill from before the current session
                continue
            if current.last_seen_at == NO_SESSION or at > current.last_seen_at + self._timeout:
                current.session_id = new_id()
                current.session_started_at = at
                changes[current.session_id] = _SessionChange(
                    event.site_id, current.session_id, event.visitor_id, True, at, at,
                    first=event)
            elif current.session_id not in changes:
                changes[current.session_id] = _SessionChange(
                    event.site_id, current.session_id, event.visitor_id, False, at, at)
            changes[current.session_id].add(event)
            current.last_seen_at = max(current.last_seen_at, at)
            if current.session_started_at is not None:
                current.session_started_at = min(current.session_started_at, at)
            event.session_id = current.session_id
        if earlier:
            await self._place_earlier(tx, earlier, changes)

        await tx.write(
            new_sessions=[
                SessionRow(site_id=c.site_id, id=c.id, visitor_id=c.visitor_id,
                           started_at=c.started_at, last_seen_at=c.last_seen_at,
                           last_seen_hour=hour_of(c.last_seen_at), entry_path=c.first.path,
                           referrer=c.first.referrer, has_converted=c.has_converted,
                           events=c.events, pageviews=c.pageviews, **_attribution_of(c))
                for c in changes.values() if c.is_new],
            grown_sessions=[
                SessionGrowth(c.site_id, c.id, c.started_at, c.last_seen_at, c.has_converted,
                              c.events, c.pageviews)
                for c in changes.values() if not c.is_new],
            visitor_moves=[current.move(*key) for key, current in state.items()
                           if key[0] in versions],
            events=[event_row(e) for e in batch],
        )
        return gone

    async def _place_earlier(self, tx: BatchTx, earlier: list[Event],
                             changes: dict[uuid.UUID, _SessionChange]) -> None:
        """Events older than their visitor's current session (sent later with a server-side
        timestamp) join the earlier session they fall into, or start one of their own; the
        visitor's current session is left as it is."""
        timeout = self._timeout
        for event in earlier:  # oldest first
            at = event.occurred_at
            chosen = next((c for c in changes.values()
                           if c.site_id == event.site_id and c.visitor_id == event.visitor_id
                           and c.started_at - timeout <= at <= c.last_seen_at + timeout), None)
            if chosen is None:
                found = await tx.find_session(event.site_id, event.visitor_id, at - timeout,
                                              at + timeout)
                if found is not None:
                    chosen = changes.get(found[0]) or _SessionChange(
                        event.site_id, found[0], event.visitor_id, False, at, at)
                else:
                    chosen = _SessionChange(event.site_id, new_id(), event.visitor_id, True, at,
                                            at, first=event)
                changes[chosen.id] = chosen
            chosen.add(event)
            event.session_id = chosen.id

    def _live(self, state: VisitorState, event: Event) -> bool:
        return (state.last_seen_at != NO_SESSION
                and event.occurred_at <= state.last_seen_at + self._timeout)

    async def _rematch(self, batch: list[Event], versions: dict[uuid.UUID, int]) -> None:
        """Match again what was matched against goals older than the database's."""
        for event in batch:
            version = versions.get(event.site_id, 0)
            if event.goals_version < version:
                event.goals_version, matcher = await self._goals.at_least(event.site_id, version)
                event.goal = matcher.first_match(event.facts)


def _attribution_of(c: _SessionChange) -> dict:
    """The attribution columns of a new session, from its first event: worked out here rather
    than in the pipeline, since most events continue a session and record none."""
    e = c.first
    a = attribution_of(url=e.url, referrer=e.referrer, site_domain=e.site_domain or "",
                       user_agent=e.user_agent)
    return {name: getattr(a, name) for name in SESSION_ATTRIBUTION}

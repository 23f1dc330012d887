"""How stored events reach every process's LiveHub.

The writer calls `publish(events)` after each commit (server/ingest/writer.py); it never waits.

- SQLite (one process): the events go straight to this process's hub.
- PostgreSQL (any number of processes): `publish` queues (site, event id) pairs; a sender task
  sends them with `pg_notify` on its own connection, one notification per site and up to
  IDS_PER_NOTIFY ids (well within PostgreSQL's 8000-byte payload limit, whatever the events
  carry). That same connection LISTENs: every process, this one included, hears every
  notification, reads the announced events of sites it has subscribers for (one statement per
  notification, in the order heard) and hands them to its hub. A lost connection is
  reconnected; what was announced meanwhile is not replayed (logged).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from server.db.engine import Database
from server.ingest.event import Event
from server.live.hub import LiveHub
from server.stats.sessions import EventRow, events_by_ids

log = logging.getLogger("goalpost.live")

CHANNEL = "goalpost_events"
IDS_PER_NOTIFY = 200  # "<site hex>:" + 200 × "<id hex>," = 6633 bytes < 8000
MAX_PENDING = 100_000  # ids waiting for a NOTIFY, or notifications waiting to be read
RECONNECT_SECONDS = 1.0


def event_row(event: Event) -> EventRow:
    """The stored event as the sessions query reads it back."""
    return EventRow(event.site_id, event.id, event.session_id, event.type, event.name,
                    event.path, event.occurred_at, event.goal.id if event.goal else None,
                    event.revenue_micros, event.revenue_currency, event.props_json)


def by_site(events: Iterable[Event]) -> dict[uuid.UUID, list[Event]]:
    grouped: dict[uuid.UUID, list[Event]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.occurred_at):
        grouped[event.site_id].append(event)
    return grouped


class LocalFeed:
    """One process (SQLite): stored events go straight to the hub."""

    def __init__(self, hub: LiveHub):
        self.hub = hub

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def publish(self, events: list[Event]) -> None:
        for site_id, stored in by_site(events).items():
            if self.hub.wants(site_id):
                self.hub.deliver(site_id, [event_row(e) for e in stored])


def encode_notification(site_id: uuid.UUID, ids: list[uuid.UUID]) -> str:
    return site_id.hex + ":" + ",".join(i.hex for i in ids)


def decode_notification(payload: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    site, _, ids = payload.partition(":")
    return uuid.UUID(hex=site), [uuid.UUID(hex=i) for i in ids.split(",") if i]


def notifications(announced: list[tuple[uuid.UUID, int, uuid.UUID]]) -> list[str]:
    """NOTIFY payloads for (site id, occurred_at, event id) triples: per site, in time order."""
    ids_by_site: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for site_id, _, event_id in sorted(announced, key=lambda a: a[1]):
        ids_by_site[site_id].append(event_id)
    payloads = []
    for site_id, ids in ids_by_site.items():
        for at in range(0, len(ids), IDS_PER_NOTIFY):
            payloads.append(encode_notification(site_id, ids[at:at + IDS_PER_NOTIFY]))
    return payloads


class PostgresFeed:
    """Many processes on one PostgreSQL: NOTIFY after each commit, LISTEN in every process."""

    def __init__(self, hub: LiveHub, db: Database):
        self.hub = hub
        self.db = db
        self._dsn = make_url(db.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self._pending: list[tuple[uuid.UUID, int, uuid.UUID]] = []  # not yet announced
        self._sending = False
        self._wake = asyncio.Event()
        self._heard: asyncio.Queue[str] = asyncio.Queue(maxsize=MAX_PENDING)
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.dropped = 0  # announcements lost to overflow or a lost connection

    async def start(self, *, wait_seconds: float = 10.0) -> None:
        self._tasks = [asyncio.create_task(self._connection_loop(), name="goalpost-live-notify"),
                       asyncio.create_task(self._read_loop(), name="goalpost-live-read")]
        try:  # subscribers of this process hear events from the first request on
            await asyncio.wait_for(self._listening.wait(), wait_seconds)
        except asyncio.TimeoutError:
            log.warning("live events: LISTEN not established yet; retrying in the background")

    async def stop(self, *, flush_seconds: float = 2.0) -> None:
        # the writer has stored its last batch: announce it before the connection goes
        deadline = asyncio.get_running_loop().time() + flush_seconds
        while ((self._pending or self._sending) and self._listening.is_set()
               and asyncio.get_running_loop().time() < deadline):
            await asyncio.sleep(0.02)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def publish(self, events: list[Event]) -> None:
        if len(self._pending) + len(events) > MAX_PENDING:
            self.dropped += len(events)
            log.warning("live events: %d events not announced (NOTIFY backlog full)", len(events))
            return
        self._pending.extend((e.site_id, e.occurred_at, e.id) for e in events)
        self._wake.set()

    async def _connection_loop(self) -> None:
        import asyncpg

        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self._dsn)
                await conn.add_listener(CHANNEL, self._on_notification)
                conn.add_termination_listener(lambda _conn: self._wake.set())
                self._listening.set()
                await self._send_until_closed(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: keep trying
                log.warning("live events: connection lost (%r); reconnecting", exc)
            finally:
                self._listening.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _send_until_closed(self, conn) -> None:
        while not conn.is_closed():
            await self._wake.wait()
            self._wake.clear()
            announced, self._pending = self._pending, []
            if announced and not conn.is_closed():
                self._sending = True
                try:
                    await conn.execute("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
                                       CHANNEL, notifications(announced))
                except Exception:
                    self.dropped += len(announced)
                    log.warning("live events: %d events not announced", len(announced))
                    raise
                finally:
                    self._sending = False

    def _on_notification(self, _conn, _pid, _channel, payload: str) -> None:
        try:
            self._heard.put_nowait(payload)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("live events: a notification dropped (read backlog full)")

    async def _read_loop(self) -> None:
        while True:
            payload = await self._heard.get()
            try:
                site_id, ids = decode_notification(payload)
                if self.hub.wants(site_id):
                    self.hub.deliver(site_id, await events_by_ids(self.db, site_id=site_id,
                                                                  ids=ids))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live events: reading announced events failed")


def create_feed(db: Database, hub: LiveHub) -> LocalFeed | PostgresFeed:
    return LocalFeed(hub) if db.is_sqlite else PostgresFeed(hub, db)

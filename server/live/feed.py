"""How stored events reach every process's LiveHub.

- SQLite (one process): the writer calls `publish(events)` after each commit and the events go
  straight to this process's hub.
- PostgreSQL (any number of processes): the writer's one statement per batch also NOTIFYs
  (site, event ids), one notification per site and up to IDS_PER_NOTIFY ids (well within
  PostgreSQL's 8000-byte payload limit, whatever the events carry), which PostgreSQL sends at
  its commit and only then (server/ingest/batch_store_pg.py; payloads: `notifications`), and
  only for the sites in live_subscriptions: a process keeps a row there for each site it has
  subscribers for, refreshed while it has them, so the batches of sites nobody watches (most)
  take no part in NOTIFY (whose commits PostgreSQL serializes). Every process LISTENs on a
  connection of its own, reads the announced events of sites it has subscribers for (one
  statement per notification, in the order heard) and hands them to its hub. A lost connection
  is reconnected; what was announced meanwhile is not replayed (logged).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import ARRAY, Uuid, bindparam, text
from sqlalchemy.engine import make_url

from server.db.engine import Database
from server.ingest.event import Event
from server.live.hub import LiveHub
from server.stats.sessions import EventRow, events_by_ids

log = logging.getLogger("goalpost.live")

CHANNEL = "goalpost_events"
IDS_PER_NOTIFY = 200  # "<site hex>:" + 200 × "<id hex>," = 6633 bytes < 8000
MAX_PENDING = 100_000  # notifications heard and waiting to be read
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

    async def watch(self, site_id: uuid.UUID) -> None:
        pass  # publish hands over every stored event

    def unwatch(self, site_id: uuid.UUID) -> None:
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
    """Many processes on one PostgreSQL: the writer NOTIFYs at each commit, every process
    LISTENs."""

    def __init__(self, hub: LiveHub, db: Database):
        self.hub = hub
        self.db = db
        self._dsn = make_url(db.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self._heard: asyncio.Queue[str] = asyncio.Queue(maxsize=MAX_PENDING)
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.dropped = 0  # announcements lost to overflow or a lost connection
        self.process_id = uuid.uuid4()  # this process's rows in live_subscriptions
        self._watched: set[uuid.UUID] = set()
        self._unwatching: set[asyncio.Task] = set()
        hub.feed = self

    async def start(self, *, wait_seconds: float = 10.0) -> None:
        self._tasks = [asyncio.create_task(self._connection_loop(), name="goalpost-live-listen"),
                       asyncio.create_task(self._read_loop(), name="goalpost-live-read"),
                       asyncio.create_task(self._refresh_loop(), name="goalpost-live-refresh")]
        try:  # subscribers of this process hear events from the first request on
            await asyncio.wait_for(self._listening.wait(), wait_seconds)
        except asyncio.TimeoutError:
            log.warning("live events: LISTEN not established yet; retrying in the background")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._unwatching, return_exceptions=True)
        if self._watched:
            try:
                async with self.db.write.begin() as conn:
                    await conn.execute(_FORGET_PROCESS, {"process": self.process_id})
            except Exception:  # they expire anyway
                log.warning("live events: could not remove this process's subscriptions")

    def publish(self, events: list[Event]) -> None:
        """Nothing to do: the batch's own statement announced its events at its commit."""

    async def watch(self, site_id: uuid.UUID) -> None:
        if site_id in self._watched:
            return
        async with self.db.write.begin() as conn:
            await conn.execute(_WATCH, {"sites": [site_id], "process": self.process_id,
                                        "ttl": SUBSCRIPTION_TTL_US})
        self._watched.add(site_id)

    def unwatch(self, site_id: uuid.UUID) -> None:
        self._watched.discard(site_id)
        task = asyncio.create_task(self._forget(site_id))
        self._unwatching.add(task)
        task.add_done_callback(self._unwatching.discard)

    async def _forget(self, site_id: uuid.UUID) -> None:
        try:
            async with self.db.write.begin() as conn:
                if site_id not in self._watched:  # not subscribed to again meanwhile
                    await conn.execute(_FORGET_SITE, {"site": site_id,
                                                      "process": self.process_id})
        except Exception:  # it expires anyway
            log.warning("live events: could not remove a subscription", exc_info=True)

    async def _refresh_loop(self) -> None:
        """Keeps this process's rows from expiring while it has subscribers (made again if
        they went), and removes the rows of processes that stopped without removing theirs."""
        while True:
            await asyncio.sleep(SUBSCRIPTION_TTL_US / 1e6 / 3)
            try:
                async with self.db.write.begin() as conn:
                    if self._watched:
                        await conn.execute(_WATCH, {"sites": sorted(self._watched, key=str),
                                                    "process": self.process_id,
                                                    "ttl": SUBSCRIPTION_TTL_US})
                    await conn.execute(_FORGET_EXPIRED)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live events: refreshing subscriptions failed", exc_info=True)

    async def _connection_loop(self) -> None:
        import asyncpg

        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self._dsn)
                closed = asyncio.Event()
                conn.add_termination_listener(lambda _conn: closed.set())
                await conn.add_listener(CHANNEL, self._on_notification)
                self._listening.set()
                await closed.wait()
                log.warning("live events: connection lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: keep trying
                log.warning("live events: connection lost (%r); reconnecting", exc)
            finally:
                self._listening.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _on_notification(self, _conn, _pid, _channel, payload: str) -> None:
        if not self.hub.has_subscribers():
            return  # every batch of every process is heard here: most go to no one
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


# how long a process's live_subscriptions row counts without being refreshed
SUBSCRIPTION_TTL_US = 60 * 1_000_000
_NOW_US = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"
_WATCH = text(f"""
INSERT INTO live_subscriptions (site_id, process_id, expires_at)
SELECT s.id, :process, {_NOW_US} + :ttl FROM sites s WHERE s.id = ANY(:sites)
ON CONFLICT (site_id, process_id) DO UPDATE SET expires_at = excluded.expires_at
""").bindparams(bindparam("sites", type_=ARRAY(Uuid)), bindparam("process", type_=Uuid))
_FORGET_SITE = text("DELETE FROM live_subscriptions WHERE site_id = :site "
                    "AND process_id = :process").bindparams(
    bindparam("site", type_=Uuid), bindparam("process", type_=Uuid))
_FORGET_PROCESS = text("DELETE FROM live_subscriptions WHERE process_id = :process").bindparams(
    bindparam("process", type_=Uuid))
_FORGET_EXPIRED = text(f"DELETE FROM live_subscriptions WHERE expires_at < {_NOW_US}")


def create_feed(db: Database, hub: LiveHub) -> LocalFeed | PostgresFeed:
    return LocalFeed(hub) if db.is_sqlite else PostgresFeed(hub, db)

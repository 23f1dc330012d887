"""This process's live subscribers, by site.

Delivery never waits: each subscriber has a bounded queue, and a subscriber whose queue is full
has fallen behind. It is then cut off: its queued and later events are dropped, the drop is
logged, and its stream ends with an error saying so (`Subscription.events` sends it as the
last `next` message, then `complete`), so the client knows to resubscribe and to re-read what
it missed. Ingestion is never slowed by a subscriber.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable

from server.errors import Unavailable
from server.stats.sessions import EventRow

log = logging.getLogger("goalpost.live")


class FellBehind(Unavailable):
    """The subscriber's queue overflowed: events were dropped."""


class Subscriber:
    def __init__(self, site_id: uuid.UUID, queue_size: int):
        self.site_id = site_id
        self.queue_size = queue_size
        self._rows: deque[EventRow] = deque()
        self._ready = asyncio.Event()
        self.dropped = 0  # events this subscriber will never see

    def offer(self, row: EventRow) -> bool:
        """Queue the event; False when the subscriber has fallen behind (its queue was full)."""
        if not self.dropped and len(self._rows) < self.queue_size:
            self._rows.append(row)
        else:
            self.dropped += 1 + len(self._rows)
            self._rows.clear()
        self._ready.set()
        return not self.dropped

    async def events(self) -> AsyncIterator[EventRow]:
        while True:
            if self.dropped:
                raise FellBehind(
                    f"live events dropped: this subscriber fell more than {self.queue_size} "
                    "events behind; subscribe again", retry_after=0)
            if self._rows:
                yield self._rows.popleft()
                continue
            self._ready.clear()
            await self._ready.wait()


class LiveHub:
    def __init__(self, *, queue_size: int = 1024):
        self.queue_size = queue_size
        self._by_site: dict[uuid.UUID, set[Subscriber]] = {}
        self.dropped = 0  # over every subscriber cut off in this process
        self.feed = None  # told when a site gains its first or loses its last subscriber

    async def watching(self, site_id: uuid.UUID) -> None:
        """Returns once events stored from now on reach this process's subscribers of the site
        (on PostgreSQL: the site's row in live_subscriptions is committed)."""
        if self.feed is not None:
            await self.feed.watch(site_id)

    def wants(self, site_id: uuid.UUID) -> bool:
        return site_id in self._by_site

    def has_subscribers(self) -> bool:
        return bool(self._by_site)

    def subscribe(self, site_id: uuid.UUID) -> Subscriber:
        subscriber = Subscriber(site_id, self.queue_size)
        self._by_site.setdefault(site_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscribers = self._by_site.get(subscriber.site_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._by_site[subscriber.site_id]
                if self.feed is not None:
                    self.feed.unwatch(subscriber.site_id)

    def deliver(self, site_id: uuid.UUID, rows: Iterable[EventRow]) -> None:
        subscribers = self._by_site.get(site_id)
        if not subscribers:
            return
        rows = list(rows)
        for subscriber in list(subscribers):
            for row in rows:
                if not subscriber.offer(row):
                    break
            if subscriber.dropped:
                # cut off: nothing more is queued for it; its stream ends with FellBehind
                self.unsubscribe(subscriber)
                self.dropped += subscriber.dropped
                log.warning("live subscriber of site %s fell behind: %d events dropped, "
                            "its subscription ends", site_id, subscriber.dropped)

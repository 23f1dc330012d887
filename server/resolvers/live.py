"""Subscription.events: the site's events as they are stored (server/live/)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator

import strawberry

from server.live.hub import LiveHub
from server.schema.context import Loaders
from server.schema.sessions import Event
from server.schema.sites import site_or_raise


async def events(info: strawberry.Info, site_id: strawberry.ID) -> AsyncGenerator[Event, None]:
    # checked before the stream starts, so a refusal is the protocol's `error` message
    site = await site_or_raise(info, site_id)
    return _stream(info, info.context.request.app.state.live, site.id)


async def _stream(info: strawberry.Info, hub: LiveHub, site_id: uuid.UUID
                  ) -> AsyncIterator[Event]:
    subscriber = hub.subscribe(site_id)
    try:
        async for row in subscriber.events():
            # the context lives as long as the WebSocket: fresh loaders per event, so an edited
            # or deleted goal is seen as the sessions query would see it
            info.context.loaders = Loaders(info.context.db)
            yield Event.of(row)
    finally:
        hub.unsubscribe(subscriber)

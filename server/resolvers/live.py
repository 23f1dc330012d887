"""Subscription.events: the site's events as they are stored (server/live/)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator

import strawberry

from server.errors import Unauthorized
from server.live.hub import LiveHub
from server.schema.context import Loaders, connection_authorization, identify_header
from server.schema.sessions import Event
from server.schema.sites import site_or_raise


async def events(info: strawberry.Info, site_id: strawberry.ID) -> AsyncGenerator[Event, None]:
    # checked before the stream starts, so a refusal is the protocol's `error` message
    site = await site_or_raise(info, site_id)
    return _stream(info, info.context.request.app.state.live, site.id)


# a revoked key stops receiving events within this long (one key lookup per interval at most)
RECHECK_SECONDS = 1.0


async def _stream(info: strawberry.Info, hub: LiveHub, site_id: uuid.UUID
                  ) -> AsyncIterator[Event]:
    subscriber = hub.subscribe(site_id)
    checked = time.monotonic()
    try:
        await hub.watching(site_id)
        async for row in subscriber.events():
            if time.monotonic() - checked > RECHECK_SECONDS:
                await _still_allowed(info, site_id)
                checked = time.monotonic()
            # the context lives as long as the WebSocket: fresh loaders per event, so an edited
            # or deleted goal is seen as the sessions query would see it
            info.context.loaders = Loaders(info.context.db)
            yield Event.of(row)
    finally:
        hub.unsubscribe(subscriber)


async def _still_allowed(info: strawberry.Info, site_id: uuid.UUID) -> None:
    """The connection's token still reads the site: a revoked key must not outlive its
    revocation on an open WebSocket either."""
    principal, _ = await identify_header(
        info.context.request, connection_authorization(info.context.connection_params))
    if principal is None or not principal.may_see(site_id):
        raise Unauthorized("the token has been revoked")

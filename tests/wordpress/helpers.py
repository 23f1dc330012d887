"""Waiting for what Goalpost stored, from the tests' own database connection."""

from __future__ import annotations

import asyncio
import time

from tests.support.store import stored_events


async def wait_for_events(db, site_id, predicate, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        events = await stored_events(db, site_id)
        if predicate(events):
            return events
        if time.monotonic() > deadline:
            brief = [{k: e[k] for k in ("type", "name", "url", "form_plugin", "form_id")}
                     for e in events]
            raise AssertionError(f"timed out waiting for {what}; stored: {brief}")
        await asyncio.sleep(0.1)


def of_type(events, kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


async def stored_event_keys(db, site_id) -> dict[str, object]:
    """The client event_id (idempotency key) → the id of the event stored under it."""
    from sqlalchemy import select

    from server.db.models import event_keys

    async with db.read.connect() as conn:
        rows = await conn.execute(select(event_keys.c.event_key, event_keys.c.event_id)
                                  .where(event_keys.c.site_id == site_id))
        return {r.event_key: r.event_id for r in rows}

"""rollup_hourly.sessions (sessions started per hour) is kept by the database's triggers on
`sessions`: new sessions, and a session whose start an earlier event moves into another hour,
leave the same counts as a rebuild from the sessions table."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from server.clock import from_datetime
from server.db.models import rollup_hourly
from server.clock import HOUR_US
from server.db.models import NIL_UUID
from server.ingest import rollups
from tests.api.graphql.conftest import Events


async def session_starts(db, site_id) -> dict[int, int]:
    c = rollup_hourly.c
    async with db.write.connect() as conn:
        return {hour: n for hour, n in await conn.execute(
            select(c.hour, c.sessions).where(c.site_id == site_id, c.goal_id == NIL_UUID,
                                             c.currency == "")) if n}


async def test_session_starts_follow_new_and_moved_sessions(client, site, db):
    sender = Events(client, site)
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - \
        timedelta(hours=5)
    await sender.send(at=hour + timedelta(minutes=5), visitor="a")
    await sender.send(at=hour + timedelta(minutes=15), visitor="a")
    await sender.send(at=hour + timedelta(minutes=10), visitor="b")
    h = from_datetime(hour)
    assert await session_starts(db, site.id) == {h: 2}
    # a late event 15 minutes before a's session: the session now starts in the hour before
    await sender.send(at=hour - timedelta(minutes=10), visitor="a")
    assert await session_starts(db, site.id) == {h - HOUR_US: 1, h: 1}
    kept = await session_starts(db, site.id)
    async with db.write.begin() as conn:
        await rollups.rebuild(conn, site.id)
    assert await session_starts(db, site.id) == kept

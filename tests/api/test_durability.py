"""A 202 is a stored event: it survives a hard kill of the server, and while the database is
unreachable the answer is 503 with Retry-After and nothing half-written."""

import asyncio
import sqlite3
import uuid

import httpx
from sqlalchemy.engine import make_url

from server.sites import service as sites
from tests.conftest import BROWSER_UA, make_settings, running_app
from tests.support.server_process import ServerProcess
from tests.support.store import count_events, stored_events
from tests.support.tcpproxy import proxy_in_front_of


async def test_every_202_survives_a_hard_kill(database_url, db, site):
    server = await asyncio.to_thread(ServerProcess(database_url).start)
    accepted: list[str] = []
    try:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=server.url, limits=limits,
                                     headers={"user-agent": BROWSER_UA}) as c:
            async def one(i: int):
                key = f"k-{i}"
                try:
                    r = await c.post("/api/event", json={
                        "site": site.domain, "name": "Purchase", "event_id": key,
                        "revenue": {"amount": "1.10", "currency": "EUR"},
                        "anonymous_id": f"v{i % 17}"},
                        # no pool timeout: 400 requests queue for 32 connections, and a
                        # loaded machine must not turn the wait into a lost request
                        timeout=httpx.Timeout(30, pool=None))
                except httpx.HTTPError:
                    return
                if r.status_code == 202:
                    accepted.append(key)
                    if len(accepted) == 150:
                        server.kill()  # mid-stream: more requests are in flight

            await asyncio.gather(*[one(i) for i in range(400)])
    finally:
        server.kill()
    assert len(accepted) >= 150
    stored = {e["name"]: e for e in await stored_events(db, site.id)}
    from sqlalchemy import select
    from server.db.models import event_keys
    async with db.read.connect() as conn:
        keys = set((await conn.execute(select(event_keys.c.event_key).where(
            event_keys.c.site_id == site.id))).scalars())
    missing = [k for k in accepted if k not in keys]
    assert missing == [], f"{len(missing)} accepted events were lost"
    assert await count_events(db, site.id) == len(keys)
    assert stored  # the events themselves, not only their keys


async def test_503_while_postgres_is_unreachable_then_recovers(postgres_url):
    proxy, via_proxy = await proxy_in_front_of(postgres_url)
    async with running_app(make_settings(via_proxy)) as (app, c):
        db = app.state.db
        site = await sites.create(db, domain=f"down-{uuid.uuid4().hex[:8]}.example")
        body = {"site": site.domain, "name": "Signup", "anonymous_id": "v1"}
        assert (await c.post("/api/event", json=body)).status_code == 202

        await proxy.stop()
        for _ in range(3):
            down = await c.post("/api/event", json=body | {"event_id": "during-outage"})
            assert down.status_code == 503, down.text
            assert int(down.headers["retry-after"]) >= 1
            assert down.json()["error"]["code"]

        await proxy.start()
        back = await c.post("/api/event", json=body | {"event_id": "after"})
        assert back.status_code == 202, back.text
        names = [e["name"] for e in await stored_events(db, site.id)]
        assert names == ["Signup", "Signup"]
        # the refused event was not half-written: its key is free and it stores now
        again = await c.post("/api/event", json=body | {"event_id": "during-outage"})
        assert again.status_code == 202
        assert await count_events(db, site.id) == 3
    await proxy.stop()


async def test_503_while_sqlite_is_locked_then_recovers(sqlite_url):
    async with running_app(make_settings(sqlite_url, sqlite_busy_timeout_ms=200)) as (app, c):
        db = app.state.db
        site = await sites.create(db, domain=f"locked-{uuid.uuid4().hex[:8]}.example")
        body = {"site": site.domain, "name": "Signup", "anonymous_id": "v1"}
        assert (await c.post("/api/event", json=body)).status_code == 202
        path = make_url(sqlite_url).database
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            down = await c.post("/api/event", json=body | {"event_id": "x"})
            assert down.status_code == 503, down.text
            assert int(down.headers["retry-after"]) >= 1
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert (await c.post("/api/event", json=body | {"event_id": "x"})).status_code == 202
        assert await count_events(db, site.id) == 2

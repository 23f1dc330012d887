"""Visitors and sessions: cookieless hashes, anonymous ids, the 30-minute rule, raw IPs."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from server.auth.keys import create_api_key
from tests.conftest import BROWSER_UA
from tests.support.store import all_stored_text, stored_events, stored_sessions

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def key(db, site):
    _, secret = await create_api_key(db, site_id=site.id, label="server")
    return {"authorization": f"Bearer {secret}"}


async def send_at(client, site, key, when, *, ip="192.0.2.1", ua=BROWSER_UA, path="/", **extra):
    body = {"site": site.domain, "url": f"https://{site.domain}{path}", "ip": ip,
            "user_agent": ua, "timestamp": when.isoformat()} | extra
    response = await client.post("/api/event", json=body, headers=key)
    assert response.status_code == 202, response.text


async def test_sessions_split_after_30_idle_minutes(client, site, key, db):
    for minutes in (0, 10, 40, 70):  # gaps of 10, 30, 30 minutes: one session
        await send_at(client, site, key, T0 + timedelta(minutes=minutes), path=f"/p{minutes}")
    await send_at(client, site, key, T0 + timedelta(minutes=100, seconds=1), path="/late")
    await send_at(client, site, key, T0 + timedelta(minutes=110), path="/later")
    sessions = await stored_sessions(db, site.id)
    assert len(sessions) == 2
    first, second = sessions
    assert first["entry_path"] == "/p0"
    assert (first["events"], first["pageviews"]) == (4, 4)
    assert second["entry_path"] == "/late"
    assert second["last_seen_at"] - second["started_at"] == 10 * 60 * 10**6 - 10**6
    events = await stored_events(db, site.id)
    assert [e["session_id"] for e in events] == [first["id"]] * 4 + [second["id"]] * 2
    assert len({e["visitor_id"] for e in events}) == 1


async def test_cookieless_visitor_is_ip_and_user_agent(client, site, key, db):
    await send_at(client, site, key, T0, ip="192.0.2.1")
    await send_at(client, site, key, T0 + timedelta(minutes=1), ip="192.0.2.1")
    await send_at(client, site, key, T0 + timedelta(minutes=2), ip="192.0.2.2")
    await send_at(client, site, key, T0 + timedelta(minutes=3), ip="192.0.2.1",
                  ua=BROWSER_UA.replace("131", "130"))
    events = await stored_events(db, site.id)
    visitors = [e["visitor_id"] for e in events]
    assert visitors[0] == visitors[1]
    assert len(set(visitors)) == 3
    assert len(await stored_sessions(db, site.id)) == 3


async def test_visitor_hash_differs_per_site_and_day(client, site, key, db):
    await send_at(client, site, key, T0)
    await send_at(client, site, key, T0 + timedelta(days=1))
    a, b = await stored_events(db, site.id)
    assert a["visitor_id"] != b["visitor_id"]


async def test_anonymous_id_wins_over_the_hash(client, site, key, db):
    await send_at(client, site, key, T0, ip="192.0.2.1", anonymous_id="u_abc")
    await send_at(client, site, key, T0 + timedelta(minutes=5), ip="192.0.2.99",
                  anonymous_id="u_abc")
    events = await stored_events(db, site.id)
    assert {e["visitor_id"] for e in events} == {"u_abc"}
    assert len(await stored_sessions(db, site.id)) == 1


async def test_browser_events_use_the_connection_address(client, site, db):
    for _ in range(3):
        r = await client.post("/api/event", json={"site": site.domain,
                                                  "url": f"https://{site.domain}/"})
        assert r.status_code == 202
    events = await stored_events(db, site.id)
    assert len({e["visitor_id"] for e in events}) == 1
    assert len(await stored_sessions(db, site.id)) == 1


async def test_raw_ip_is_never_stored(client, site, key, db):
    await send_at(client, site, key, T0, ip="198.51.100.231")
    await client.post("/api/event", json={"site": site.domain, "url": f"https://{site.domain}/"})
    text = await all_stored_text(db)
    assert "198.51.100.231" not in text
    assert "203.0.113.7" not in text  # the test client's own address


async def test_concurrent_first_events_of_one_visitor_make_one_session(client, site, key, db):
    await asyncio.gather(*[
        send_at(client, site, key, T0 + timedelta(seconds=i), ip="192.0.2.50") for i in range(30)
    ])
    sessions = await stored_sessions(db, site.id)
    assert len(sessions) == 1
    assert sessions[0]["events"] == 30


async def test_conversion_marks_the_session(client, site, key, db):
    from server.goals.service import create_goal

    await create_goal(db, site_id=site.id, name="Signup", type="CUSTOM_EVENT",
                      conditions=[("EVENT_NAME", "EQUALS", "signup")])
    await send_at(client, site, key, T0)
    assert not (await stored_sessions(db, site.id))[0]["has_converted"]
    await send_at(client, site, key, T0 + timedelta(minutes=1), name="Signup", type="custom")
    [session] = await stored_sessions(db, site.id)
    assert session["has_converted"]


async def test_a_session_goes_on_across_utc_midnight(client, site, key, db):
    """The cookieless hash changes with the day's salt; a session that began before midnight
    continues after it under yesterday's hash."""
    midnight = datetime(2026, 3, 11, tzinfo=timezone.utc)
    await send_at(client, site, key, midnight - timedelta(minutes=10), path="/before")
    await send_at(client, site, key, midnight + timedelta(minutes=5), path="/after")
    await send_at(client, site, key, midnight + timedelta(minutes=20), path="/later")
    # another visitor whose last event was long before midnight starts afresh
    await send_at(client, site, key, midnight - timedelta(hours=2), ip="192.0.2.77")
    await send_at(client, site, key, midnight + timedelta(minutes=1), ip="192.0.2.77")
    sessions = await stored_sessions(db, site.id)
    assert len(sessions) == 3
    ours = next(s for s in sessions if s["entry_path"] == "/before")
    assert ours["events"] == 3
    events = [e for e in await stored_events(db, site.id) if e["session_id"] == ours["id"]]
    assert len({e["visitor_id"] for e in events}) == 1
    # an hour into the new day, the same person is a new visitor of the new day
    await send_at(client, site, key, midnight + timedelta(hours=1), path="/next")
    last = (await stored_events(db, site.id))[-1]
    assert last["visitor_id"] != events[0]["visitor_id"]


async def test_the_new_days_salt_forgets_idle_visitors(db, site):
    """Session state idle for more than two days is deleted when a day's salt is made."""
    import uuid as uuid_
    from sqlalchemy import delete, select
    from server.clock import now_us
    from server.db.models import salts, visitors
    from server.clock import DAY_US
    from server.ingest.visitors import SaltStore

    day = now_us() // DAY_US
    async with db.write.begin() as conn:
        await conn.execute(delete(salts).where(salts.c.day == day + 1))
        await conn.execute(visitors.insert(), [
            {"site_id": site.id, "visitor_id": "idle", "session_id": uuid_.uuid4(),
             "last_seen_at": now_us() - 3 * DAY_US},
            {"site_id": site.id, "visitor_id": "recent", "session_id": uuid_.uuid4(),
             "last_seen_at": now_us() - DAY_US},
        ])
    store = SaltStore(db)
    await store.salt_for(day + 1)  # as if tomorrow had come
    await asyncio.gather(*store._tasks)
    async with db.read.connect() as conn:
        left = set((await conn.execute(select(visitors.c.visitor_id).where(
            visitors.c.site_id == site.id))).scalars())
    assert left == {"recent"}
    # salts of the day after tomorrow must not exist in a test database afterwards
    async with db.write.begin() as conn:
        await conn.execute(delete(salts).where(salts.c.day == day + 1))


async def test_a_backfilled_event_finds_its_own_session(client, site, key, db):
    """An event sent later with a timestamp before the visitor's current session joins the
    session it falls into, or starts its own, and never stretches the current one."""
    await send_at(client, site, key, T0, path="/morning")
    await send_at(client, site, key, T0 + timedelta(minutes=5), path="/morning-2")
    await send_at(client, site, key, T0 + timedelta(hours=3), path="/now")
    # late arrivals: one inside the morning session, one in between (a session of its own)
    await send_at(client, site, key, T0 + timedelta(minutes=20), path="/morning-late")
    await send_at(client, site, key, T0 + timedelta(hours=1, minutes=30), path="/noon")
    await send_at(client, site, key, T0 + timedelta(hours=1, minutes=40), path="/noon-2")
    # the visitor's current session still goes on
    await send_at(client, site, key, T0 + timedelta(hours=3, minutes=10), path="/now-2")
    sessions = {s["entry_path"]: s for s in await stored_sessions(db, site.id)}
    assert set(sessions) == {"/morning", "/noon", "/now"}
    assert sessions["/morning"]["events"] == 3
    assert sessions["/morning"]["last_seen_at"] == int(
        (T0 + timedelta(minutes=20)).timestamp()) * 10**6
    assert sessions["/noon"]["events"] == 2
    assert sessions["/now"]["events"] == 2
    assert sessions["/now"]["started_at"] == int((T0 + timedelta(hours=3)).timestamp()) * 10**6


async def test_event_ids_are_remembered_for_a_bounded_window(client, site, key, db):
    """The daily housekeeping forgets an event_id EVENT_KEY_DAYS after its event arrived
    (event_keys.created_at); younger ones still deduplicate."""
    from sqlalchemy import delete, update

    from server.clock import DAY_US, now_us
    from server.db.models import event_keys, salts
    from server.ingest.housekeeping import EVENT_KEY_DAYS
    from server.ingest.visitors import SaltStore

    for event_id in ("old-order", "new-order"):
        await send_at(client, site, key, T0, event_id=event_id)
    async with db.write.begin() as conn:
        await conn.execute(update(event_keys).where(
            event_keys.c.site_id == site.id, event_keys.c.event_key == "old-order"
        ).values(created_at=now_us() - EVENT_KEY_DAYS * DAY_US - 1))
    day = now_us() // DAY_US
    async with db.write.begin() as conn:
        await conn.execute(delete(salts).where(salts.c.day == day + 1))
    store = SaltStore(db)
    await store.salt_for(day + 1)  # as if tomorrow had come
    await asyncio.gather(*store._tasks)
    async with db.write.begin() as conn:
        await conn.execute(delete(salts).where(salts.c.day == day + 1))

    for event_id in ("old-order", "new-order"):
        await send_at(client, site, key, T0, event_id=event_id)
    # the forgotten id is a new event, the remembered one is not stored again
    assert len(await stored_events(db, site.id)) == 3

"""deleteSite and eraseVisitor: nothing of that site or visitor remains in any table of the
migrated database (found by introspection, partitions included), and the rollups' exact
counters equal a rebuild from what remains."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import inspect, select, text

from server.db.models import rollup_hourly
from server.ingest import rollups
from tests.api.graphql.conftest import Events, create_goal, hours_ago
from tests.api.graphql.test_reads import KPIS

DELETE_SITE = "mutation($id: ID!) { deleteSite(id: $id) }"
ERASE = ("mutation($s: ID!, $u: String, $a: String) { eraseVisitor(siteId: $s, userId: $u, "
         "anonymousId: $a) { events sessions } }")


async def tables_with(db, column: str) -> list[str]:
    async with db.write.connect() as conn:
        def names(sync):
            inspector = inspect(sync)
            return [t for t in inspector.get_table_names()
                    if column in {c["name"] for c in inspector.get_columns(t)}]
        return await conn.run_sync(names)


async def rows_where(db, table: str, condition: str, **params) -> int:
    async with db.write.connect() as conn:
        return (await conn.execute(text(f"SELECT count(*) FROM {table} WHERE {condition}"),
                                   params)).scalar_one()


def uid(db, value: uuid.UUID) -> str:
    """A UUID as each engine stores it (SQLite: 32 hex digits)."""
    return value.hex if db.is_sqlite else str(value)


async def counters(db, site_id) -> list[tuple]:
    c = rollup_hourly.c
    async with db.write.connect() as conn:
        return sorted(tuple(r) for r in await conn.execute(
            select(c.hour, c.goal_id, c.currency, c.events, c.pageviews, c.conversions,
                   c.revenue_micros, c.sessions).where(c.site_id == site_id))
            if any(r[3:]))


async def fill(admin, client, site, site_key=None):
    await create_goal(admin, site.id, "Buy")
    sender = Events(client, site)
    t = hours_ago(3)
    for visitor, user in (("a", None), ("b", "u1"), ("c", None), ("a", None)):
        extra = {"user_id": user} if user else {}
        await sender.send(at=t, visitor=visitor, event_id=f"{visitor}-{uuid.uuid4().hex}",
                          **extra)
        await sender.send(at=t.replace(second=30), visitor=visitor, name="Buy",
                          revenue={"amount": "3.25", "currency": "EUR"}, **extra)
    await sender.send(at=hours_ago(1), visitor="b", name="Buy",
                      revenue={"amount": "1.00", "currency": "USD"})  # b again, no user_id


async def test_delete_site_leaves_nothing_of_it(admin, as_token, client, site, site_key, db,
                                                caplog):
    await fill(admin, client, site)
    owned = await tables_with(db, "site_id")
    assert {"events", "sessions", "visitors", "event_keys", "goals", "rollup_hourly",
            "visitor_sketches", "api_keys"} <= set(owned)
    assert await rows_where(db, "events", "site_id = :s", s=uid(db, site.id)) == 9

    assert await as_token(site_key).code(DELETE_SITE, id=str(site.id)) == "FORBIDDEN"
    with caplog.at_level(logging.INFO, logger="goalpost.audit"):
        assert (await admin(DELETE_SITE, id=str(site.id)))["deleteSite"] == str(site.id)
    for table in owned:
        assert await rows_where(db, table, "site_id = :s", s=uid(db, site.id)) == 0, table
    assert await rows_where(db, "sites", "id = :s", s=uid(db, site.id)) == 0
    assert any("the admin deleted site" in r.getMessage() for r in caplog.records)
    assert await admin.code(DELETE_SITE, id=str(site.id)) == "NOT_FOUND"
    assert await admin.code(KPIS, s=str(site.id)) == "NOT_FOUND"


async def test_erase_visitor_removes_it_from_every_table(admin, as_token, client, site,
                                                         site_key, other_site, db, caplog):
    await fill(admin, client, site)
    before = (await admin(KPIS, s=str(site.id)))["kpis"]
    assert before["pageviews"] == 4 and before["conversions"] == 5

    assert await admin.code(ERASE, s=str(site.id)) == "BAD_USER_INPUT"
    assert await admin.code(ERASE, s=str(site.id), u="u1", a="a") == "BAD_USER_INPUT"
    assert await as_token(site_key).code(ERASE, s=str(other_site.id), a="a") == "FORBIDDEN"

    with caplog.at_level(logging.INFO, logger="goalpost.audit"):
        erased = (await as_token(site_key)(ERASE, s=str(site.id), a="a"))["eraseVisitor"]
        assert erased == {"events": 4, "sessions": 1}
        erased = (await admin(ERASE, s=str(site.id), u="u1"))["eraseVisitor"]
    # u1 was visitor b: b's later event without the user_id is b's too
    assert erased == {"events": 3, "sessions": 2}
    messages = [r.getMessage() for r in caplog.records if r.name == "goalpost.audit"]
    assert len(messages) == 2 and all("erased a visitor of site" in m for m in messages)
    assert not any("u1" in m for m in messages)  # the identifier erased is not logged

    s = uid(db, site.id)
    for table in await tables_with(db, "visitor_id"):
        assert await rows_where(db, table, "site_id = :s AND visitor_id IN ('a', 'b')",
                                s=s) == 0, table
    for table in await tables_with(db, "user_id"):
        assert await rows_where(db, table, "site_id = :s AND user_id = 'u1'", s=s) == 0, table
    assert await rows_where(db, "event_keys", "site_id = :s AND event_key NOT LIKE 'c-%'",
                            s=s) == 0
    assert await rows_where(db, "events", "site_id = :s", s=s) == 2  # c's

    after = (await admin(KPIS, s=str(site.id)))["kpis"]
    assert (after["pageviews"], after["conversions"], after["sessions"]) == (1, 1, 1)
    assert after["revenue"] == [{"amount": "3.25", "currency": "EUR"}]
    # the exact counters were decremented by exactly what went
    kept = await counters(db, site.id)
    async with db.write.begin() as conn:
        await rollups.rebuild(conn, site.id)
    assert await counters(db, site.id) == kept


async def test_an_erased_visitors_next_event_starts_afresh(admin, client, site, db):
    """The writer that stored the visitor knows its row (batch_store_pg.Known) and does not
    read it again: the row's erasure must still be seen."""
    sender = Events(client, site)
    for _ in range(2):
        await sender.send(visitor="z")
    erased = (await admin(ERASE, s=str(site.id), a="z"))["eraseVisitor"]
    assert erased == {"events": 2, "sessions": 1}
    await sender.send(visitor="z")
    s = uid(db, site.id)
    assert await rows_where(db, "events", "site_id = :s AND visitor_id = 'z'", s=s) == 1
    assert await rows_where(db, "sessions", "site_id = :s AND visitor_id = 'z' AND events = 1",
                            s=s) == 1
    assert await rows_where(db, "sessions", "site_id = :s", s=s) == 1


async def test_a_deleted_sites_known_visitor_is_refused(admin, client, site, db):
    """The domain is still known to the request's lookup for a while, and the writer knows the
    visitor: the write itself finds the site gone, and stores nothing."""
    await Events(client, site).send(visitor="y")
    assert (await admin(DELETE_SITE, id=str(site.id)))["deleteSite"] == str(site.id)
    answer = await client.post("/api/event", json={
        "site": site.domain, "url": f"https://{site.domain}/", "anonymous_id": "y"})
    assert answer.status_code == 404, answer.text
    # the answer for an unknown site (docs/ingestion.md), which it now is
    assert answer.json()["error"]["code"] == "unknown_site"
    for table in await tables_with(db, "site_id"):
        assert await rows_where(db, table, "site_id = :s", s=uid(db, site.id)) == 0, table

"""kpis, goalStats, sessions, timeseries and testEvent, with events stored through /api/event."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from server.sites import service as sites
from tests.api.graphql.conftest import Events, create_goal, hours_ago, iso
from tests.conftest import ADMIN_TOKEN

KPIS = ("query($s: ID!, $r: DateRange) { kpis(siteId: $s, range: $r) { visitors sessions "
        "pageviews conversions conversionRate revenue { amount currency } } }")
GOAL_STATS = ("query($s: ID!, $r: DateRange) { goalStats(siteId: $s, range: $r) { goal { name "
              "priority } conversions uniqueVisitors revenue { amount currency } } }")
SESSIONS = """
query($s: ID!, $r: DateRange, $f: SessionFilter, $first: Int, $after: String) {
  sessions(siteId: $s, range: $r, filter: $f, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id visitorId startedAt lastSeenAt entryPath referrer hasConverted
      events { id type name path occurredAt goal { name } revenue { amount currency } props } } }
  }
}"""


async def test_kpis_and_goal_stats(admin, site, events: Events):
    await create_goal(admin, site.id, "Purchase")
    await create_goal(admin, site.id, "Pricing", "PAGEVIEW",
                      [{"field": "PATH", "operator": "EQUALS", "value": "/pricing"}],
                      countsAsConversion=False)
    await create_goal(admin, site.id, "Never")
    t = hours_ago(5)
    await events.send(at=t, visitor="a", referrer="https://google.com/")
    await events.send(at=t + timedelta(minutes=1), visitor="a",
                      url=f"https://{site.domain}/pricing")
    await events.send(at=t + timedelta(minutes=2), visitor="a", name="Purchase",
                      revenue={"amount": "10.50", "currency": "usd"})
    await events.send(at=t + timedelta(minutes=3), visitor="b", name="Purchase",
                      revenue={"amount": "5", "currency": "EUR"})
    await events.send(at=t + timedelta(minutes=4), visitor="c", name="Other",
                      revenue={"amount": "1.25", "currency": "USD"})
    await events.send(at=t + timedelta(hours=2), visitor="a")  # a second session of "a"
    old = hours_ago(24 * 40)  # outside the default 30 days
    await events.send(at=old, visitor="z")

    kpis = (await admin(KPIS, s=str(site.id)))["kpis"]
    assert kpis == {
        "visitors": 3, "sessions": 4, "pageviews": 3, "conversions": 2,
        "conversionRate": 2 / 3 * 100,
        "revenue": [{"amount": "5.00", "currency": "EUR"}, {"amount": "11.75", "currency": "USD"}],
    }
    stats = (await admin(GOAL_STATS, s=str(site.id)))["goalStats"]
    assert stats == [
        {"goal": {"name": "Purchase", "priority": 1}, "conversions": 2, "uniqueVisitors": 2,
         "revenue": [{"amount": "5.00", "currency": "EUR"},
                     {"amount": "10.50", "currency": "USD"}]},
        {"goal": {"name": "Pricing", "priority": 2}, "conversions": 1, "uniqueVisitors": 1,
         "revenue": []},
        {"goal": {"name": "Never", "priority": 3}, "conversions": 0, "uniqueVisitors": 0,
         "revenue": []},
    ]
    # an explicit half-open range: [t+1min, t+3min) holds the pricing view and one purchase
    r = {"from": iso(t + timedelta(minutes=1)), "to": iso(t + timedelta(minutes=3))}
    kpis = (await admin(KPIS, s=str(site.id), r=r))["kpis"]
    assert (kpis["visitors"], kpis["sessions"], kpis["pageviews"], kpis["conversions"]) == \
        (1, 0, 1, 1)
    assert kpis["revenue"] == [{"amount": "10.50", "currency": "USD"}]
    wide = {"from": iso(old - timedelta(days=1)), "to": iso(datetime.now(timezone.utc))}
    assert (await admin(KPIS, s=str(site.id), r=wide))["kpis"]["visitors"] == 4
    bad = {"from": iso(t), "to": iso(t - timedelta(seconds=1))}
    assert await admin.code(KPIS, s=str(site.id), r=bad) == "BAD_USER_INPUT"


async def test_conversion_rate_without_visitors(admin, site):
    kpis = (await admin(KPIS, s=str(site.id)))["kpis"]
    assert kpis == {"visitors": 0, "sessions": 0, "pageviews": 0, "conversions": 0,
                    "conversionRate": 0.0, "revenue": []}
    assert (await admin(GOAL_STATS, s=str(site.id)))["goalStats"] == []


async def test_revenue_is_exact(admin, site, client):
    # 1000 x 0.01 USD (0.1 is not a binary fraction: a float sum drifts), plus other currencies
    at = hours_ago(1)
    bodies = [{"site": site.domain, "name": "Tip", "anonymous_id": f"v{i % 7}",
               "timestamp": iso(at), "revenue": {"amount": "0.01", "currency": "USD"}}
              for i in range(1000)]
    bodies += [{"site": site.domain, "name": "Buy", "anonymous_id": "w", "timestamp": iso(at),
                "revenue": {"amount": amount, "currency": currency}}
               for amount, currency in (("0.1", "EUR"), ("0.2", "EUR"), ("1234567.891234", "JPY"),
                                        ("-0.3", "EUR"), ("0.000001", "GBP"))]
    headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    for start in range(0, len(bodies), 100):
        answers = await asyncio.gather(*[client.post("/api/event", json=b, headers=headers)
                                         for b in bodies[start:start + 100]])
        assert all(a.status_code == 202 for a in answers)
    revenue = (await admin(KPIS, s=str(site.id)))["kpis"]["revenue"]
    # 0.1 + 0.2 - 0.3 is exactly zero (a refund): the currency stays listed
    assert revenue == [{"amount": "0.00", "currency": "EUR"},
                       {"amount": "0.000001", "currency": "GBP"},
                       {"amount": "1234567.891234", "currency": "JPY"},
                       {"amount": "10.00", "currency": "USD"}]


async def test_sessions_pagination_filters_and_events(admin, site, events: Events):
    purchase = await create_goal(admin, site.id, "Purchase")
    await create_goal(admin, site.id, "Soft", conditions=[
        {"field": "EVENT_NAME", "operator": "EQUALS", "value": "Soft"}], countsAsConversion=False)
    base = hours_ago(10)
    # 7 visitors, one session each, a minute apart; v2 and v5 buy, v3 does a soft goal
    for i in range(7):
        at = base + timedelta(minutes=i)
        await events.send(at=at, visitor=f"v{i}", url=f"https://{site.domain}/p{i}?q=1",
                          referrer="https://ref.example/")
        if i in (2, 5):
            await events.send(at=at + timedelta(seconds=5), visitor=f"v{i}", name="Purchase",
                              props={"plan": "pro", "seats": 3, "ratio": 1.50},
                              revenue={"amount": "9.99", "currency": "EUR"})
        if i == 3:
            await events.send(at=at + timedelta(seconds=5), visitor=f"v{i}", name="Soft")

    seen, after, pages = [], None, 0
    while True:
        conn = (await admin(SESSIONS, s=str(site.id), first=3, after=after))["sessions"]
        assert conn["totalCount"] == (7 if pages == 0 else 8)
        seen += [e["node"]["visitorId"] for e in conn["edges"]]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
        # a new session arriving between pages does not move the pages
        if pages == 1:
            await events.send(at=hours_ago(1), visitor="late")
    assert seen == [f"v{i}" for i in range(6, -1, -1)] and pages == 3

    first = (await admin(SESSIONS, s=str(site.id), first=1))["sessions"]
    node = first["edges"][0]["node"]
    assert node["visitorId"] == "late" and first["totalCount"] == 8

    conn = (await admin(SESSIONS, s=str(site.id), f={"converted": True}))["sessions"]
    assert [e["node"]["visitorId"] for e in conn["edges"]] == ["v5", "v2"]
    assert conn["totalCount"] == 2
    v5 = conn["edges"][0]["node"]
    assert v5["hasConverted"] and v5["entryPath"] == "/p5"
    assert v5["referrer"] == "https://ref.example/"
    assert [e["type"] for e in v5["events"]] == ["pageview", "custom"]
    buy = v5["events"][1]
    assert buy["goal"] == {"name": "Purchase"} and buy["name"] == "Purchase"
    assert buy["revenue"] == {"amount": "9.99", "currency": "EUR"}
    assert buy["props"] == {"plan": "pro", "seats": 3, "ratio": 1.50}
    assert v5["events"][0]["path"] == "/p5" and v5["events"][0]["goal"] is None

    conn = (await admin(SESSIONS, s=str(site.id), f={"converted": False}))["sessions"]
    assert conn["totalCount"] == 6
    conn = (await admin(SESSIONS, s=str(site.id), f={"goalId": purchase["id"]}))["sessions"]
    assert [e["node"]["visitorId"] for e in conn["edges"]] == ["v5", "v2"]
    conn = (await admin(SESSIONS, s=str(site.id),
                        f={"goalId": purchase["id"], "converted": False}))["sessions"]
    assert conn["totalCount"] == 0 and conn["edges"] == []
    r = {"from": iso(base + timedelta(minutes=1)), "to": iso(base + timedelta(minutes=3))}
    conn = (await admin(SESSIONS, s=str(site.id), r=r))["sessions"]
    assert [e["node"]["visitorId"] for e in conn["edges"]] == ["v2", "v1"]

    assert await admin.code(SESSIONS, s=str(site.id), first=101) == "BAD_USER_INPUT"
    assert await admin.code(SESSIONS, s=str(site.id), first=-1) == "BAD_USER_INPUT"
    assert await admin.code(SESSIONS, s=str(site.id), after="garbage!") == "BAD_USER_INPUT"
    assert await admin.code(SESSIONS, s=str(site.id), f={"goalId": "x"}) == "BAD_USER_INPUT"
    empty = (await admin(SESSIONS, s=str(site.id), first=0))["sessions"]
    assert empty["edges"] == [] and empty["totalCount"] == 8


TIMESERIES = ("query($s: ID!, $r: DateRange, $i: Interval!) { timeseries(siteId: $s, range: $r,"
              " interval: $i) { start end visitors conversions revenue { amount currency } } }")


async def test_timeseries_across_dst(admin, db, client):
    site = await sites.create(db, domain=f"dst{uuid.uuid4().hex[:12]}.example",
                              timezone="Europe/Berlin")
    events = Events(client, site)
    await create_goal(admin, site.id, "Purchase")
    # 2026-03-29: clocks go from 02:00 CET to 03:00 CEST (01:00 UTC); the day has 23 hours
    utc = timezone.utc
    await events.send(at=datetime(2026, 3, 28, 23, 30, tzinfo=utc), visitor="a")  # 29th 00:30 CET
    await events.send(at=datetime(2026, 3, 29, 0, 30, tzinfo=utc), visitor="b")   # 01:30 CET
    await events.send(at=datetime(2026, 3, 29, 1, 30, tzinfo=utc), visitor="b", name="Purchase",
                      revenue={"amount": "2.50", "currency": "EUR"})             # 03:30 CEST
    await events.send(at=datetime(2026, 3, 29, 21, 59, tzinfo=utc), visitor="c")  # 23:59 CEST
    await events.send(at=datetime(2026, 3, 29, 22, 0, tzinfo=utc), visitor="d")   # 30th 00:00
    r = {"from": "2026-03-28T00:00:00+01:00", "to": "2026-03-31T00:00:00+02:00"}
    days = (await admin(TIMESERIES, s=str(site.id), r=r, i="DAY"))["timeseries"]
    assert [(d["start"], d["end"], d["visitors"], d["conversions"]) for d in days] == [
        ("2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00", 0, 0),
        ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 3, 1),
        ("2026-03-30T00:00:00+02:00", "2026-03-31T00:00:00+02:00", 1, 0),
    ]
    assert days[1]["revenue"] == [{"amount": "2.50", "currency": "EUR"}]
    assert days[0]["revenue"] == []
    r = {"from": "2026-03-29T00:00:00+01:00", "to": "2026-03-29T05:00:00+02:00"}
    hours = (await admin(TIMESERIES, s=str(site.id), r=r, i="HOUR"))["timeseries"]
    assert [(h["start"], h["visitors"]) for h in hours] == [
        ("2026-03-29T00:00:00+01:00", 1), ("2026-03-29T01:00:00+01:00", 1),
        ("2026-03-29T03:00:00+02:00", 1), ("2026-03-29T04:00:00+02:00", 0)]
    # autumn: 2026-10-25 has 25 hours, 02:00-03:00 twice
    r = {"from": "2026-10-25T00:00:00+02:00", "to": "2026-10-26T00:00:00+01:00"}
    days = (await admin(TIMESERIES, s=str(site.id), r=r, i="DAY"))["timeseries"]
    assert [(d["start"], d["end"]) for d in days] == [
        ("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00")]
    hours = (await admin(TIMESERIES, s=str(site.id), r=r, i="HOUR"))["timeseries"]
    assert len(hours) == 25
    assert [h["start"] for h in hours[2:4]] == ["2026-10-25T02:00:00+02:00",
                                                 "2026-10-25T02:00:00+01:00"]
    assert await admin.code(TIMESERIES, s=str(site.id), i="HOUR",
                            r={"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}) \
        == "BAD_USER_INPUT"
    default = (await admin("query($s: ID!) { timeseries(siteId: $s) { start } }",
                           s=str(site.id)))["timeseries"]
    assert len(default) in (30, 31)


TEST_EVENT = """
query($s: ID!, $e: TestEventInput!) {
  testEvent(siteId: $s, event: $e) {
    goal { name }
    tried { goal { name priority } matched
            conditions { condition { field operator value } actual matched } }
  }
}"""


async def test_test_event_explains_and_stores_nothing(admin, site):
    await create_goal(admin, site.id, "Amazon", "CLICK", [
        {"field": "DOMAIN", "operator": "EQUALS", "value": "amazon.de"},
        {"field": "ASIN", "operator": "EQUALS", "value": "B000000000"}])
    await create_goal(admin, site.id, "Any click", "CLICK", [
        {"field": "LINK_TEXT", "operator": "CONTAINS", "value": "buy"}], matchLogic="ANY")
    await create_goal(admin, site.id, "Pro", "CUSTOM_EVENT", [
        {"field": "PROPERTY_VALUE", "operator": "EQUALS", "value": "3"}])
    result = (await admin(TEST_EVENT, s=str(site.id), e={
        "type": "click", "url": f"https://{site.domain}/p",
        "click": {"url": "https://www.Amazon.de/dp/B08N5WRWNW?tag=x", "text": "  Buy   now "}}
    ))["testEvent"]
    assert result["goal"] == {"name": "Any click"}
    amazon, any_click = result["tried"]
    assert amazon["goal"] == {"name": "Amazon", "priority": 1} and not amazon["matched"]
    assert [(c["actual"], c["matched"]) for c in amazon["conditions"]] == [
        ("amazon.de", True), ("B08N5WRWNW", False)]
    assert any_click["matched"]
    assert any_click["conditions"][0]["actual"] == "Buy now"
    # props: numbers compare as their JSON text, exactly as sent
    custom = (await admin(TEST_EVENT, s=str(site.id), e={
        "type": "custom", "name": "Signup", "props": {"seats": 3, "plan": "pro"}}))["testEvent"]
    assert custom["goal"] == {"name": "Pro"}
    assert custom["tried"][0]["conditions"][0]["actual"] == "3"
    # a literal with a fraction stays exact
    literal = await admin('query($s: ID!) { testEvent(siteId: $s, event: {type: "custom", '
                          'name: "x", props: {price: 1.50}}) { tried { conditions { actual } } } }',
                          s=str(site.id))
    assert literal["testEvent"]["tried"][0]["conditions"][0]["actual"] == "1.50"
    # no goal of that type: nothing tried
    none = (await admin(TEST_EVENT, s=str(site.id), e={"type": "pageview", "url": "/x"}))
    assert none["testEvent"] == {"goal": None, "tried": []}
    # the same field checks as ingestion
    for bad in ({"type": "nope"}, {"type": "custom"}, {"type": "click", "click": {"text": "x"}},
                {"type": "custom", "name": "__reserved"}, {"type": "form", "form": {"plugin": "x"}},
                {"type": "custom", "name": "x", "props": [1]}):
        assert await admin.code(TEST_EVENT, s=str(site.id), e=bad) == "BAD_USER_INPUT", bad
    # nothing was stored
    sessions = await admin("query($s: ID!) { sessions(siteId: $s) { totalCount } }",
                           s=str(site.id))
    assert sessions["sessions"]["totalCount"] == 0


async def test_form_test_event(admin, site):
    await create_goal(admin, site.id, "Contact", "FORM", [
        {"field": "PLUGIN", "operator": "EQUALS", "value": "cf7"},
        {"field": "FORM_ID", "operator": "EQUALS", "value": "123"},
        {"field": "PAGE_URL", "operator": "EQUALS", "value": "/contact"},
        {"field": "FORM_NAME", "operator": "IS_EMPTY"}])
    result = (await admin(TEST_EVENT, s=str(site.id), e={
        "type": "form", "url": f"https://{site.domain}/contact?x=1",
        "form": {"plugin": "cf7", "contactFormId": 123, "status": "mail_sent",
                 "inputs": [{"name": "email", "value": "secret@example.com"}]}}))["testEvent"]
    assert result["goal"] == {"name": "Contact"}
    assert [c["actual"] for c in result["tried"][0]["conditions"]] == ["cf7", "123", "/contact",
                                                                      None]


BY_SOURCE = ("query($s: ID!, $r: DateRange) { breakdown(siteId: $s, by: SOURCE, range: $r) { "
             "value visitors } }")


async def test_a_range_from_within_an_hour_finds_the_sessions_that_end_in_it(admin, site,
                                                                            events: Events):
    """Sessions are indexed by the hour of their last event, not the moment (migration 0010):
    a breakdown by source over a range that starts at 9:30 must still count the session from
    9:10 to 9:45 (its last event's hour, 9:00, is before the range) and leave out the one that
    ended at 9:20."""
    hour = hours_ago(5).replace(minute=0, second=0, microsecond=0)
    for minutes in (10, 25, 45):  # one session: 15 and 20 minutes apart
        await events.send(at=hour + timedelta(minutes=minutes), visitor="in",
                          referrer="https://www.google.com/" if minutes == 10 else None)
    await events.send(at=hour + timedelta(minutes=20), visitor="out",
                      referrer="https://www.bing.com/")
    r = {"from": iso(hour + timedelta(minutes=30)), "to": iso(hour + timedelta(hours=2))}
    assert (await admin(BY_SOURCE, s=str(site.id), r=r))["breakdown"] == [
        {"value": "Google", "visitors": 1}]

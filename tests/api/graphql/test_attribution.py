"""Contract §8 through /api/event and /graphql, on both databases: the attribution a session
records, breakdowns by every dimension (with and without goalId), filtered kpis / goalStats /
timeseries, cohorts, liveVisitors and who may read them. Every expected number is computed here
from the seeded sessions, not by the code under test."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from server.clock import DAY_US, HOUR_US, from_datetime, hour_of, now_us
from server.db.models import dimension_built, rollup_coverage
from server.db.models import sessions as sessions_table
from server.ingest import rollups
from server.stats import dimension_rollups
from tests.api.graphql.conftest import Events, create_goal, iso
from tests.support.hashing import count_hashes

CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
SAFARI_IPAD = ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
               "Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
CHROME_ANDROID_TABLET = ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, "
                         "like Gecko) Chrome/131.0.0.0 Safari/537.36")
FIREFOX_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7; rv:133.0) Gecko/20100101 "
               "Firefox/133.0")
SERVER_UA = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"

DIMENSIONS = ("SOURCE", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_TERM", "UTM_CONTENT",
              "ENTRY_PAGE", "BROWSER", "OS", "DEVICE")
CONVERSION_GOALS = {"Purchase", "Signup"}
DAY = datetime(2026, 10, 20, tzinfo=timezone.utc)  # the seeded sessions' day (UTC site)
RANGE = {"from": iso(DAY), "to": iso(DAY + timedelta(days=1))}

ROW = "value visitors conversions conversionRate revenue { amount currency }"
BREAKDOWN = ("query($s: ID!, $by: Dimension!, $r: DateRange, $g: ID, $f: [StatsFilter!], "
             "$n: Int) { breakdown(siteId: $s, by: $by, range: $r, goalId: $g, filters: $f, "
             f"first: $n) {{ {ROW} }} }}")
KPIS = ("query($s: ID!, $r: DateRange, $f: [StatsFilter!]) { kpis(siteId: $s, range: $r, "
        "filters: $f) { visitors sessions pageviews conversions conversionRate "
        "revenue { amount currency } } }")
GOAL_STATS = ("query($s: ID!, $r: DateRange, $f: [StatsFilter!]) { goalStats(siteId: $s, "
              "range: $r, filters: $f) { goal { name } conversions uniqueVisitors "
              "revenue { amount currency } } }")
TIMESERIES = ("query($s: ID!, $r: DateRange, $f: [StatsFilter!]) { timeseries(siteId: $s, "
              "range: $r, interval: DAY, filters: $f) { visitors conversions "
              "revenue { amount currency } } }")
SESSIONS = ("query($s: ID!, $r: DateRange) { sessions(siteId: $s, range: $r, first: 100) { "
            "edges { node { visitorId entryPath source utmSource utmMedium utmCampaign browser "
            "os device } } } }")


@dataclass
class Seeded:
    visitor: str
    start: timedelta  # after DAY
    referrer: str | None
    landing: str  # path and query of the first event
    ua: str
    expect: dict  # the attribution this session must record, by dimension
    # (name or None for a pageview, path, revenue (amount, currency) or None)
    more: list = field(default_factory=list)


def seeded(domain: str) -> list[Seeded]:
    return [
        Seeded("v1", timedelta(hours=1), "https://www.google.com/search?q=shoes",
               "/?utm_source=news&utm_medium=email&utm_campaign=spring", CHROME_WIN,
               {"SOURCE": "Google", "UTM_SOURCE": "news", "UTM_MEDIUM": "email",
                "UTM_CAMPAIGN": "spring", "BROWSER": "Chrome", "OS": "Windows",
                "DEVICE": "desktop"},
               [(None, "/pricing", None), ("Purchase", "/checkout", ("10.00", "USD"))]),
        Seeded("v2", timedelta(hours=1, minutes=5), "https://www.bing.com/", "/pricing",
               SAFARI_IPHONE,
               {"SOURCE": "Bing", "BROWSER": "Mobile Safari", "OS": "iOS", "DEVICE": "mobile"},
               [("Signup", "/pricing", None)]),
        Seeded("v3", timedelta(hours=2), "https://news.ycombinator.com/item?id=1",
               "/blog?utm_source=hn&utm_campaign=launch", SAFARI_IPAD,
               {"SOURCE": "Hacker News", "UTM_SOURCE": "hn", "UTM_CAMPAIGN": "launch",
                "BROWSER": "Mobile Safari", "OS": "iOS", "DEVICE": "tablet"},
               [("Purchase", "/blog", ("5.50", "EUR"))]),
        Seeded("v4", timedelta(hours=2, minutes=10), "https://t.co/xyz", "/", CHROME_ANDROID,
               {"SOURCE": "Twitter", "BROWSER": "Chrome Mobile", "OS": "Android",
                "DEVICE": "mobile"}),
        Seeded("v5", timedelta(hours=3), f"https://www.{domain}/other", "/pricing", FIREFOX_MAC,
               {"SOURCE": "Direct / None", "BROWSER": "Firefox", "OS": "Mac OS X",
                "DEVICE": "desktop"},
               [("Purchase", "/pricing", ("20.00", "USD")), ("Newsletter", "/pricing", None)]),
        Seeded("v6", timedelta(hours=3, minutes=30), None, "/", CHROME_WIN,
               {"SOURCE": "Direct / None", "BROWSER": "Chrome", "OS": "Windows",
                "DEVICE": "desktop"},
               [("Newsletter", "/", None), ("Tip", "/", ("2.00", "USD"))]),
        Seeded("v7", timedelta(hours=4), "https://blog.example.org/post",
               "/?utm_source=partner&utm_medium=referral&utm_term=shoes&utm_content=banner",
               CHROME_ANDROID_TABLET,
               {"SOURCE": "blog.example.org", "UTM_SOURCE": "partner", "UTM_MEDIUM": "referral",
                "UTM_TERM": "shoes", "UTM_CONTENT": "banner", "BROWSER": "Chrome",
                "OS": "Android", "DEVICE": "tablet"},
               [("Purchase", "/", ("7.25", "USD"))]),
        # v1 again, an hour after its first session ended: a second session from Bing
        Seeded("v1", timedelta(hours=5), "https://www.bing.com/", "/pricing", CHROME_WIN,
               {"SOURCE": "Bing", "BROWSER": "Chrome", "OS": "Windows", "DEVICE": "desktop"},
               [("Purchase", "/pricing", ("3.00", "USD"))]),
        # a server-side sender's user agent: no browser, os or device
        Seeded("v8", timedelta(hours=6), f"https://{domain}/", "/blog", SERVER_UA,
               {"SOURCE": "Direct / None"}, [("Signup", "/blog", None)]),
        # stored before attribution existed: every session column null (set below)
        Seeded("v9", timedelta(hours=7), "https://www.google.com/", "/old", CHROME_WIN,
               {"ENTRY_PAGE": "/old"}, [("Purchase", "/old", ("1.00", "GBP"))]),
    ]


async def seed(admin, db, site, events: Events) -> list[Seeded]:
    for name, convert in (("Purchase", True), ("Signup", True), ("Newsletter", False)):
        await create_goal(admin, site.id, name, countsAsConversion=convert)
    spec = seeded(site.domain)
    for s in spec:
        at = DAY + s.start
        await events.send(at=at, visitor=s.visitor, url=f"https://{site.domain}{s.landing}",
                          user_agent=s.ua, **({"referrer": s.referrer} if s.referrer else {}))
        for i, (name, path, revenue) in enumerate(s.more, start=1):
            body = {"url": f"https://{site.domain}{path}", "user_agent": s.ua}
            if name:
                body["name"] = name
            if revenue:
                body["revenue"] = {"amount": revenue[0], "currency": revenue[1]}
            await events.send(at=at + timedelta(minutes=i), visitor=s.visitor, **body)
    # a session from before migration 0005: nothing recorded (v9 is its only visitor)
    async with db.write.begin() as conn:
        await conn.execute(update(sessions_table)
                           .where(sessions_table.c.site_id == site.id,
                                  sessions_table.c.visitor_id == "v9")
                           .values(source=None, utm_source=None, utm_medium=None,
                                   utm_campaign=None, utm_term=None, utm_content=None,
                                   browser=None, os=None, device=None))
    return spec


async def cover_with_rollups(db, site, since: datetime | None = None,
                             dimensions: bool = True) -> None:
    """Backfill the site's hourly rollups (as `rollups.rebuild` does for old data), so reads of
    whole hours go through them, and (`dimensions`) build the dimension rollups as every
    server's maintenance does. `since`: they cover the site from then on (else from its first
    event's hour), as for a site whose first events came earlier."""
    async with db.write.begin() as conn:
        await rollups.rebuild(conn, site.id)
        if since is not None:
            await conn.execute(update(rollup_coverage).where(rollup_coverage.c.site_id == site.id)
                               .values(since_hour=from_datetime(since)))
    if dimensions:
        await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])


async def built_hours(db, site) -> int:
    async with db.read.connect() as conn:
        return len((await conn.execute(select(dimension_built.c.start).where(
            dimension_built.c.site_id == site.id, dimension_built.c.hours == 1))).all())


# --- the expected numbers, from the seed alone -------------------------------------------------

def value_of(s: Seeded, dimension: str):
    if dimension == "ENTRY_PAGE":
        return s.landing.split("?")[0]
    return s.expect.get(dimension)


def all_events(s: Seeded):
    """(kind, name, path, revenue) of the session's events in order."""
    yield "pageview", None, s.landing.split("?")[0], None
    for name, path, revenue in s.more:
        yield ("custom" if name else "pageview"), name, path, revenue


def money(pairs) -> list[dict]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for amount, currency in pairs:
        totals[currency] += Decimal(amount)
    return [{"amount": f"{totals[c]:.2f}", "currency": c} for c in sorted(totals)]


def counts(goal: str | None, name: str | None) -> bool:
    return name == goal if goal else name in CONVERSION_GOALS


def expected_rows(spec, dimension: str, goal: str | None, keep=lambda s: True) -> list[dict]:
    visitors: dict = defaultdict(set)
    conversions: dict = defaultdict(int)
    revenue: dict = defaultdict(list)
    for s in filter(keep, spec):
        for kind, name, path, rev in all_events(s):
            value = path if dimension == "PAGE" else value_of(s, dimension)
            if dimension != "PAGE" or kind == "pageview":
                visitors[value].add(s.visitor)
            if counts(goal, name):
                conversions[value] += 1
                if rev:
                    revenue[value].append(rev)
    rows = [{"value": v, "visitors": len(visitors.get(v, ())), "conversions": conversions[v],
             "conversionRate": (conversions[v] / len(visitors[v]) * 100 if visitors.get(v)
                                else 0.0),
             "revenue": money(revenue[v])} for v in visitors.keys() | conversions.keys()]
    return sorted(rows, key=lambda r: (-r["visitors"], r["value"] is None, r["value"] or ""))


def expected_kpis(spec, keep, page: str | None = None) -> dict:
    visitors, sessions = set(), 0
    pageviews = conversions = 0
    revenue = []
    for s in filter(keep, spec):
        evs = [e for e in all_events(s) if page is None or e[2] == page]
        if page is None or any(kind == "pageview" for kind, *_ in evs):
            sessions += 1
        for kind, name, path, rev in evs:
            if page is None or kind == "pageview":
                visitors.add(s.visitor)
            pageviews += kind == "pageview"
            conversions += name in CONVERSION_GOALS
            if rev:
                revenue.append(rev)
    return {"visitors": len(visitors), "sessions": sessions, "pageviews": pageviews,
            "conversions": conversions,
            "conversionRate": conversions / len(visitors) * 100 if visitors else 0.0,
            "revenue": money(revenue)}


def expected_goal_stats(spec, keep) -> list[dict]:
    out = []
    for goal in ("Purchase", "Signup", "Newsletter"):
        n, who, rev = 0, set(), []
        for s in filter(keep, spec):
            for kind, name, path, r in all_events(s):
                if name == goal:
                    n += 1
                    who.add(s.visitor)
                    if r:
                        rev.append(r)
        out.append({"goal": {"name": goal}, "conversions": n, "uniqueVisitors": len(who),
                    "revenue": money(rev)})
    return out


def having(dimension: str, value):
    return lambda s: value_of(s, dimension) == value


# --- tests -----------------------------------------------------------------------------------

async def test_sessions_record_attribution_of_their_first_event(admin, db, site, events):
    spec = await seed(admin, db, site, events)
    data = await admin(SESSIONS, s=str(site.id), r=RANGE)
    got = sorted((e["node"] for e in data["sessions"]["edges"]),
                 key=lambda n: (n["visitorId"], n["source"] or ""))
    want = sorted(({"visitorId": s.visitor, "entryPath": value_of(s, "ENTRY_PAGE"),
                    "source": s.expect.get("SOURCE"), "utmSource": s.expect.get("UTM_SOURCE"),
                    "utmMedium": s.expect.get("UTM_MEDIUM"),
                    "utmCampaign": s.expect.get("UTM_CAMPAIGN"),
                    "browser": s.expect.get("BROWSER"), "os": s.expect.get("OS"),
                    "device": s.expect.get("DEVICE")} for s in spec),
                  key=lambda n: (n["visitorId"], n["source"] or ""))
    assert got == want


@pytest.mark.parametrize("rolled", [False, True], ids=["events", "rollups"])
@pytest.mark.parametrize("goal", [None, "Purchase", "Newsletter"])
async def test_breakdown_of_every_dimension(admin, db, site, events, goal, rolled):
    spec = await seed(admin, db, site, events)
    if rolled:
        await cover_with_rollups(db, site)
    goal_id = None
    if goal:
        goals = (await admin("query($s: ID!) { goals(siteId: $s) { id name } }",
                             s=str(site.id)))["goals"]
        goal_id = next(g["id"] for g in goals if g["name"] == goal)
    for dimension in (*DIMENSIONS, "PAGE"):
        rows = (await admin(BREAKDOWN, s=str(site.id), by=dimension, r=RANGE, g=goal_id,
                            n=100))["breakdown"]
        assert rows == expected_rows(spec, dimension, goal), dimension
    # the seeded hours were built (by the maintenance, not the reads) or not at all
    assert await built_hours(db, site) == (len({(DAY + s.start).hour for s in spec})
                                           if rolled else 0)


async def test_breakdown_first_and_filters(admin, db, site, events):
    spec = await seed(admin, db, site, events)
    top = (await admin(BREAKDOWN, s=str(site.id), by="SOURCE", r=RANGE, n=2))["breakdown"]
    assert top == expected_rows(spec, "SOURCE", None)[:2]
    # filters: several hold together; value null selects sessions without one
    rows = (await admin(BREAKDOWN, s=str(site.id), by="SOURCE", r=RANGE,
                        f=[{"dimension": "DEVICE", "value": "desktop"},
                           {"dimension": "UTM_SOURCE", "value": None}]))["breakdown"]
    keep = lambda s: value_of(s, "DEVICE") == "desktop" and value_of(s, "UTM_SOURCE") is None
    assert rows == expected_rows(spec, "SOURCE", None, keep)
    assert [(r["value"], r["visitors"]) for r in rows] == [("Direct / None", 2), ("Bing", 1)]


@pytest.mark.parametrize("rolled", [False, True], ids=["events", "rollups"])
async def test_filtered_kpis_goal_stats_and_timeseries(admin, db, site, events, rolled):
    spec = await seed(admin, db, site, events)
    if rolled:
        await cover_with_rollups(db, site)
    cases = [
        ([{"dimension": "SOURCE", "value": "Bing"}], having("SOURCE", "Bing"), None),
        ([{"dimension": "DEVICE", "value": "desktop"}, {"dimension": "OS", "value": "Windows"}],
         lambda s: value_of(s, "DEVICE") == "desktop" and value_of(s, "OS") == "Windows", None),
        ([{"dimension": "SOURCE"}], having("SOURCE", None), None),
        ([{"dimension": "UTM_CAMPAIGN", "value": "nothing"}], lambda s: False, None),
        ([{"dimension": "PAGE", "value": "/pricing"}], lambda s: True, "/pricing"),
    ]
    for filters, keep, page in cases:
        kpis = (await admin(KPIS, s=str(site.id), r=RANGE, f=filters))["kpis"]
        assert kpis == expected_kpis(spec, keep, page), filters
        buckets = (await admin(TIMESERIES, s=str(site.id), r=RANGE, f=filters))["timeseries"]
        assert buckets == [{k: kpis[k] for k in ("visitors", "conversions", "revenue")}]
        if page is None:
            stats = (await admin(GOAL_STATS, s=str(site.id), r=RANGE, f=filters))["goalStats"]
            assert stats == expected_goal_stats(spec, keep), filters
    # without filters the unfiltered numbers are the same as a filter that keeps everything
    everything = (await admin(KPIS, s=str(site.id), r=RANGE))["kpis"]
    assert everything == expected_kpis(spec, lambda s: True)


async def test_dimension_rollups_follow_new_events(admin, db, site, events):
    spec = await seed(admin, db, site, events)
    await cover_with_rollups(db, site)
    partial = {"from": iso(DAY + timedelta(minutes=30)), "to": RANGE["to"]}
    for r in (RANGE, partial):
        before = (await admin(BREAKDOWN, s=str(site.id), by="SOURCE", r=r))["breakdown"]
        assert before == expected_rows(spec, "SOURCE", None, lambda s: DAY + s.start >=
                                       datetime.fromisoformat(r["from"]))
    # a late event (a server-side timestamp) in an hour built already, from a new visitor
    # coming from Bing: until the maintenance builds the hour again, reads take its events
    late = Seeded("v10", timedelta(hours=1, minutes=40), "https://www.bing.com/", "/late",
                  CHROME_WIN, {"SOURCE": "Bing"})
    await events.send(at=DAY + late.start, visitor="v10", url=f"https://{site.domain}/late",
                      referrer=late.referrer, user_agent=CHROME_WIN)
    after = (await admin(BREAKDOWN, s=str(site.id), by="SOURCE", r=RANGE))["breakdown"]
    assert after == expected_rows([*spec, late], "SOURCE", None)
    kpis = (await admin(KPIS, s=str(site.id), r=RANGE,
                        f=[{"dimension": "SOURCE", "value": "Bing"}]))["kpis"]
    assert kpis == expected_kpis([*spec, late], having("SOURCE", "Bing"))


async def test_building_the_dimension_rollups_hashes_each_visitor_once(admin, db, site,
                                                                       events, monkeypatch):
    """Hashing visitor ids is most of a build's time (minutes at 10M events when every event's
    visitor was hashed for each of the eleven dimensions): one hash per visitor, same rows."""
    spec = await seed(admin, db, site, events)
    await cover_with_rollups(db, site, dimensions=False)
    hashed = count_hashes(monkeypatch)
    await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])
    rows = (await admin(BREAKDOWN, s=str(site.id), by="DEVICE", r=RANGE))["breakdown"]
    assert rows == expected_rows(spec, "DEVICE", None)
    assert sorted(hashed) == sorted({s.visitor for s in spec})


async def test_a_build_hands_the_event_loop_back_as_it_tallies(db, site, events, monkeypatch):
    """The build runs inside a serving process: its requests must not wait for a whole hour's
    tally. Counted in tallied values between two turns of the loop, not in time."""
    for i in range(60):
        await events.send(at=DAY + timedelta(minutes=i % 50), visitor=f"t{i}",
                          url=f"https://{site.domain}/p{i}")
    await cover_with_rollups(db, site, dimensions=False)
    monkeypatch.setattr(dimension_rollups, "SLICE_ROWS", 4)
    tallied = [0]
    key = dimension_rollups._Tally.key

    def counted(self, *args):
        tallied[0] += 1
        return key(self, *args)

    monkeypatch.setattr(dimension_rollups._Tally, "key", counted)
    turns: list[int] = []
    build = asyncio.create_task(dimension_rollups.maintain(db, now_us(), site_ids=[site.id]))
    while not build.done():
        turns.append(tallied[0])
        await asyncio.sleep(0)
    assert (await build).hours_built >= 1
    assert tallied[0] > 60 * len(dimension_rollups.SESSION_COLUMNS)
    # at most 4 rows a slice, each row one value per session dimension (or one page)
    longest = max(b - a for a, b in zip(turns, turns[1:] + [tallied[0]]))
    assert 0 < longest <= 4 * len(dimension_rollups.SESSION_COLUMNS)


async def spans_built(db, site) -> dict[int, int]:
    """hours of a span (1 or 24) -> how many spans of that kind are built."""
    async with db.read.connect() as conn:
        rows = (await conn.execute(select(dimension_built.c.hours).where(
            dimension_built.c.site_id == site.id))).scalars().all()
    return {hours: rows.count(hours) for hours in set(rows)}


async def test_maintenance_builds_the_hours_and_merges_the_days(admin, db, site, events):
    """After the maintenance every read finds its rows built (and the whole day merged into
    day rows), and the answers stay those of the events; a late event makes its day stand
    down and its hour be read from the events, until the maintenance builds and merges again."""
    spec = await seed(admin, db, site, events)
    await cover_with_rollups(db, site, since=DAY, dimensions=False)
    done = await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])
    seeded_hours = len({(DAY + s.start).hour for s in spec})
    assert (done.hours_built, done.days_compacted) == (seeded_hours, 1)
    assert await spans_built(db, site) == {1: seeded_hours, 24: 1}
    nothing = dimension_rollups.Maintained()
    assert await dimension_rollups.maintain(db, now_us(), site_ids=[site.id]) == nothing

    async def check(spec) -> None:
        for dimension in (*DIMENSIONS, "PAGE"):
            for goal_id in (None, *[g["id"] for g in goals]):
                rows = (await admin(BREAKDOWN, s=str(site.id), by=dimension, r=RANGE,
                                    g=goal_id, n=100))["breakdown"]
                name = next((g["name"] for g in goals if g["id"] == goal_id), None)
                assert rows == expected_rows(spec, dimension, name), (dimension, name)
        for dimension, value in (("SOURCE", "Bing"), ("ENTRY_PAGE", "/pricing"),
                                 ("DEVICE", None), ("OS", "iOS")):
            kpis = (await admin(KPIS, s=str(site.id), r=RANGE,
                                f=[{"dimension": dimension, "value": value}]))["kpis"]
            assert kpis == expected_kpis(spec, having(dimension, value)), (dimension, value)

    goals = (await admin("query($s: ID!) { goals(siteId: $s) { id name } }",
                         s=str(site.id)))["goals"]
    await check(spec)
    assert await spans_built(db, site) == {1: seeded_hours, 24: 1}  # nothing built by reads
    late = Seeded("v10", timedelta(hours=9), "https://www.bing.com/", "/late", CHROME_WIN,
                  {"SOURCE": "Bing", "BROWSER": "Chrome", "OS": "Windows", "DEVICE": "desktop"},
                  [("Purchase", "/late", ("4.00", "USD"))])
    await events.send(at=DAY + late.start, visitor="v10", url=f"https://{site.domain}/late",
                      referrer=late.referrer, user_agent=CHROME_WIN)
    await events.send(at=DAY + late.start + timedelta(minutes=1), visitor="v10",
                      url=f"https://{site.domain}/late", user_agent=CHROME_WIN,
                      name="Purchase", revenue={"amount": "4.00", "currency": "USD"})
    await check([*spec, late])
    assert await spans_built(db, site) == {1: seeded_hours, 24: 1}  # reads build nothing
    done = await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])
    assert (done.hours_built, done.days_compacted) == (1, 1)
    assert await spans_built(db, site) == {1: seeded_hours + 1, 24: 1}
    await check([*spec, late])


async def test_whole_weeks_are_read_from_week_rows(admin, db, site, events):
    """A passed week (Monday to Monday, UTC) is merged from its days: a range over it reads
    one row per value, with the same answers; a late event in it sends the read back to its
    days and hours until the week is merged again."""
    monday = datetime(2026, 10, 26, tzinfo=timezone.utc)
    sources = ["https://www.google.com/", "https://www.bing.com/", None]
    sent = []
    for day in range(7):
        for i in range(day + 1):  # visitors return on later days: distinct visitors < events
            visitor, referrer = f"w{i}", sources[i % 3]
            await events.send(at=monday + timedelta(days=day, hours=i), visitor=visitor,
                              url=f"https://{site.domain}/d{day}", user_agent=CHROME_WIN,
                              **({"referrer": referrer} if referrer else {}))
            sent.append((visitor, referrer))
    await cover_with_rollups(db, site, since=monday, dimensions=False)
    done = await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])
    assert (done.days_compacted, done.weeks_compacted) == (7, 1)
    week = {"from": iso(monday), "to": iso(monday + timedelta(days=7))}
    start, end = from_datetime(monday), from_datetime(monday + timedelta(days=7))
    async with db.read.connect() as conn:
        read, stale = await dimension_rollups.spans(conn, site.id, start, end)
    assert read.runs == {dimension_rollups.WEEK: [(start, end)], dimension_rollups.HOUR: []}
    assert stale == []

    def expected(pairs):
        by_source = defaultdict(set)
        for visitor, referrer in pairs:
            source = {"https://www.google.com/": "Google",
                      "https://www.bing.com/": "Bing"}.get(referrer, "Direct / None")
            by_source[source].add(visitor)
        return sorted([(source, len(v)) for source, v in by_source.items()],
                      key=lambda row: (-row[1], row[0]))

    async def rows():
        found = (await admin(BREAKDOWN, s=str(site.id), by="SOURCE", r=week))["breakdown"]
        return [(r["value"], r["visitors"]) for r in found]

    assert await rows() == expected(sent) == [("Google", 3), ("Bing", 2), ("Direct / None", 2)]
    # a new visitor late in the week: the week's rows stand down
    await events.send(at=monday + timedelta(days=3, minutes=30), visitor="late",
                      url=f"https://{site.domain}/late", referrer="https://www.bing.com/",
                      user_agent=CHROME_WIN)
    async with db.read.connect() as conn:
        read, stale = await dimension_rollups.spans(conn, site.id, start, end)
    thursday = from_datetime(monday + timedelta(days=3))
    assert read.runs == {dimension_rollups.WEEK: [],
                         dimension_rollups.DAY: [(start, thursday),
                                                 (thursday + DAY_US, end)],
                         dimension_rollups.HOUR: [(thursday + HOUR_US, thursday + DAY_US)]}
    assert stale == [(thursday, thursday + HOUR_US)]  # read from its events meanwhile
    assert await rows() == expected([*sent, ("late", "https://www.bing.com/")])
    done = await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])
    assert (done.days_compacted, done.weeks_compacted) == (1, 1)
    async with db.read.connect() as conn:
        read, _ = await dimension_rollups.spans(conn, site.id, start, end)
    assert read.runs[dimension_rollups.WEEK] == [(start, end)]
    assert await rows() == expected([*sent, ("late", "https://www.bing.com/")])


async def test_a_breakdown_merges_the_sketches_of_its_top_values_only(admin, db, site, events,
                                                                      monkeypatch):
    """Pages ranked by pageviews (an upper bound of their visitors): the sketches of the
    values that can still make the top rows are merged, not those of every page."""
    visits = {f"/p{i}": 30 // i for i in range(1, 31)}  # /p1: 30 visitors ... /p30: 1
    for path, n in visits.items():
        for v in range(n):
            await events.send(at=DAY + timedelta(hours=1, seconds=v), visitor=f"{path}-{v}",
                              url=f"https://{site.domain}{path}")
    await cover_with_rollups(db, site)
    await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])
    merged: list[int] = []
    original = dimension_rollups.sketches

    async def counting(conn, site_id, dimension, spans, hashes):
        merged.extend(hashes)
        return await original(conn, site_id, dimension, spans, hashes)

    monkeypatch.setattr(dimension_rollups, "sketches", counting)
    rows = (await admin(BREAKDOWN, s=str(site.id), by="PAGE", r=RANGE, n=2))["breakdown"]
    assert [(r["value"], r["visitors"]) for r in rows] == [("/p1", 30), ("/p2", 15)]
    assert len(merged) < len(visits)
    merged.clear()
    rows = (await admin(BREAKDOWN, s=str(site.id), by="PAGE", r=RANGE, n=100))["breakdown"]
    assert [(r["value"], r["visitors"]) for r in rows] == sorted(
        visits.items(), key=lambda item: (-item[1], item[0]))
    assert len(merged) == len(visits)


async def test_a_breakdown_of_another_range_reuses_its_statements(admin, db, site, events):
    """The rollups' statements are made once per shape (how many runs of each span length),
    their values bound at each read: a breakdown over another range of the same shape makes
    none, and reads that range's rows."""
    for day, path in ((DAY, "/first"), (DAY + timedelta(days=1), "/second")):
        await events.send(at=day + timedelta(hours=1), visitor=f"v{path}",
                          url=f"https://{site.domain}{path}")
    await cover_with_rollups(db, site)
    await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])
    made = (dimension_rollups._wanted_and_built_statement, dimension_rollups._totals_statement,
            dimension_rollups._sketches_statement, dimension_rollups._counters_statement)
    for statement in made:  # another test's reads of these days must not have made them
        statement.cache_clear()

    def hours(day: int) -> dict:  # that day's event's hour and the next: one run of hour rows
        at = DAY + timedelta(days=day, hours=1)
        return {"from": iso(at), "to": iso(at + timedelta(hours=2))}

    first = (await admin(BREAKDOWN, s=str(site.id), by="PAGE", r=hours(0)))["breakdown"]
    before = [statement.cache_info().misses for statement in made]
    second = (await admin(BREAKDOWN, s=str(site.id), by="PAGE", r=hours(1)))["breakdown"]
    assert [statement.cache_info().misses for statement in made] == before
    assert [(r["value"], r["visitors"]) for r in first] == [("/first", 1)]
    assert [(r["value"], r["visitors"]) for r in second] == [("/second", 1)]


async def test_a_breakdown_past_its_first_candidates_counts_their_conversions(admin, db, site,
                                                                             events):
    """Twelve pages seen by one visitor in three hours rank first by their bound (their hours'
    visitors added up: 3) and fill the first batch of candidates (n + 10); the pages after them,
    two visitors and a purchase each, are merged and their conversions read past that batch."""
    await create_goal(admin, site.id, "Purchase")
    for k in range(12):
        for hour in range(3):
            await events.send(at=DAY + timedelta(hours=hour, minutes=k), visitor=f"loyal{k}",
                              url=f"https://{site.domain}/loyal{k:02}")
    for i in range(15):
        for v in range(2):
            await events.send(at=DAY + timedelta(hours=3, minutes=i, seconds=v),
                              visitor=f"p{i}-{v}", url=f"https://{site.domain}/p{i:02}")
        await events.send(at=DAY + timedelta(hours=3, minutes=i, seconds=30), visitor=f"p{i}-0",
                          url=f"https://{site.domain}/p{i:02}", name="Purchase",
                          revenue={"amount": "1.50", "currency": "EUR"})
    await cover_with_rollups(db, site, since=DAY)
    rows = (await admin(BREAKDOWN, s=str(site.id), by="PAGE", r=RANGE, n=1))["breakdown"]
    assert rows == [{"value": "/p00", "visitors": 2, "conversions": 1, "conversionRate": 50.0,
                     "revenue": [{"amount": "1.50", "currency": "EUR"}]}]
    rows = (await admin(BREAKDOWN, s=str(site.id), by="PAGE", r=RANGE, n=27))["breakdown"]
    assert [(r["value"], r["visitors"], r["conversions"]) for r in rows] == [
        *[(f"/p{i:02}", 2, 1) for i in range(15)], *[(f"/loyal{k:02}", 1, 0) for k in range(12)]]


async def test_an_erased_visitor_leaves_the_dimension_rollups(admin, db, site, events):
    """Erasure drops the built marks of the hours it touched: even when new events bring an
    hour's counters back to what they were, its rows are built again without the visitor."""
    spec = await seed(admin, db, site, events)
    await cover_with_rollups(db, site)
    await dimension_rollups.maintain(db, now_us(), site_ids=[site.id])
    erase = ("mutation($s: ID!, $a: String) { eraseVisitor(siteId: $s, anonymousId: $a) "
             "{ events sessions } }")
    assert (await admin(erase, s=str(site.id), a="v1"))["eraseVisitor"] == {
        "events": 5, "sessions": 2}
    # v11 brings back hour 1's counters exactly: two pageviews and a purchase, one session
    again = Seeded("v11", timedelta(hours=1), None, "/", FIREFOX_MAC,
                   {"SOURCE": "Direct / None", "BROWSER": "Firefox", "OS": "Mac OS X",
                    "DEVICE": "desktop"},
                   [(None, "/pricing", None), ("Purchase", "/checkout", ("10.00", "USD"))])
    at = DAY + again.start
    await events.send(at=at, visitor="v11", url=f"https://{site.domain}/", user_agent=FIREFOX_MAC)
    await events.send(at=at + timedelta(minutes=1), visitor="v11",
                      url=f"https://{site.domain}/pricing", user_agent=FIREFOX_MAC)
    await events.send(at=at + timedelta(minutes=2), visitor="v11",
                      url=f"https://{site.domain}/checkout", user_agent=FIREFOX_MAC,
                      name="Purchase", revenue={"amount": "10.00", "currency": "USD"})
    left = [s for s in spec if s.visitor != "v1"] + [again]
    for dimension in ("SOURCE", "BROWSER", "PAGE"):
        rows = (await admin(BREAKDOWN, s=str(site.id), by=dimension, r=RANGE,
                            n=100))["breakdown"]
        assert rows == expected_rows(left, dimension, None), dimension


async def test_page_filter_goal_stats(admin, db, site, events):
    await seed(admin, db, site, events)
    stats = (await admin(GOAL_STATS, s=str(site.id), r=RANGE,
                         f=[{"dimension": "PAGE", "value": "/pricing"}]))["goalStats"]
    # goal events whose page was /pricing: v5's Purchase and Newsletter, v1's second Purchase,
    # v2's Signup
    assert stats == [
        {"goal": {"name": "Purchase"}, "conversions": 2, "uniqueVisitors": 2,
         "revenue": [{"amount": "23.00", "currency": "USD"}]},
        {"goal": {"name": "Signup"}, "conversions": 1, "uniqueVisitors": 1, "revenue": []},
        {"goal": {"name": "Newsletter"}, "conversions": 1, "uniqueVisitors": 1, "revenue": []},
    ]


COHORT = ("query($s: ID!, $g: ID!, $r: DateRange, $d: Int) { cohort(siteId: $s, goalId: $g, "
          "range: $r, days: $d) { goal { name } days converted { visitors revenue { amount "
          "currency } revenuePerVisitor { amount currency } } others { visitors revenue { "
          "amount currency } revenuePerVisitor { amount currency } } } }")


async def test_cohort_revenue_within_the_window(admin, db, site, events):
    purchase = await create_goal(admin, site.id, "Purchase")
    base = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0,
                                              microsecond=0) - timedelta(days=60)
    h = lambda hours: base + timedelta(hours=hours)

    async def send(at, anon, user=None, amount=None, currency="USD"):
        body = {"user_id": user} if user else {}
        if amount:
            body.update(name="Purchase", revenue={"amount": amount, "currency": currency})
        await events.send(at=at, visitor=anon, **body)

    # u1: converts on day 1; revenue on day 1, day 5 (inside 30 days), day 40 (outside)
    await send(h(1), "c1", "u1")
    await send(h(2), "c1", "u1", "10.00")
    await send(h(3), "c1", "u1", "1001", "JPY")
    await send(h(5 * 24), "c1b", "u1", "4.00")
    await send(h(40 * 24), "c1c", "u1", "100.00")
    # u2: two browsers (anonymous ids), one person; buys only after the range: "others"
    await send(h(24), "c2a", "u2")
    await send(h(48), "c2b", "u2")
    await send(h(84), "c2b", "u2", "8.00", "EUR")
    # an anonymous visitor without revenue
    await send(h(25), "c3")
    # u4: converts on day 3; a purchase 31 days after its first event is outside
    await send(h(48), "c4", "u4")
    await send(h(49), "c4", "u4", "6.01")
    await send(h(48 + 31 * 24), "c4", "u4", "1.00")
    r = {"from": iso(base), "to": iso(base + timedelta(days=3))}

    got = (await admin(COHORT, s=str(site.id), g=purchase["id"], r=r))["cohort"]
    assert got == {
        "goal": {"name": "Purchase"}, "days": 30,
        # 20.01 USD / 2 = 10.005 -> 10.00 (half-even), 1001 JPY / 2 = 500.5 -> 500
        "converted": {"visitors": 2,
                      "revenue": [{"amount": "1001.00", "currency": "JPY"},
                                  {"amount": "20.01", "currency": "USD"}],
                      "revenuePerVisitor": [{"amount": "500", "currency": "JPY"},
                                            {"amount": "10.00", "currency": "USD"}]},
        "others": {"visitors": 2, "revenue": [{"amount": "8.00", "currency": "EUR"}],
                   "revenuePerVisitor": [{"amount": "4.00", "currency": "EUR"}]},
    }
    got = (await admin(COHORT, s=str(site.id), g=purchase["id"], r=r, d=2))["cohort"]
    assert got["days"] == 2
    # 16.01 / 2 = 8.005 -> 8.00; u2's purchase 60 hours after its first event is outside
    assert got["converted"]["revenue"] == [{"amount": "1001.00", "currency": "JPY"},
                                           {"amount": "16.01", "currency": "USD"}]
    assert got["converted"]["revenuePerVisitor"] == [{"amount": "500", "currency": "JPY"},
                                                     {"amount": "8.00", "currency": "USD"}]
    assert got["others"] == {"visitors": 2, "revenue": [], "revenuePerVisitor": []}
    assert await admin.code(COHORT, s=str(site.id), g=purchase["id"], r=r, d=0) \
        == "BAD_USER_INPUT"


async def test_live_visitors(admin, site, events):
    await events.send(visitor="now-1")
    await events.send(visitor="now-1", url=f"https://{site.domain}/again")
    await events.send(visitor="now-2")
    await events.send(visitor="earlier", at=datetime.now(timezone.utc) - timedelta(minutes=6))
    query = "query($s: ID!) { liveVisitors(siteId: $s) }"
    assert (await admin(query, s=str(site.id)))["liveVisitors"] == 2


async def test_a_site_key_reads_only_its_site(admin, as_token, site, site_key, other_site,
                                              events):
    goal = await create_goal(admin, site.id, "Purchase")
    await events.send(visitor="k", referrer="https://www.google.com/")
    key = as_token(site_key)
    mine = (await key(BREAKDOWN, s=str(site.id), by="SOURCE"))["breakdown"]
    assert [r["value"] for r in mine] == ["Google"]
    assert (await key("query($s: ID!) { liveVisitors(siteId: $s) }", s=str(site.id))) \
        == {"liveVisitors": 1}
    for query, extra in ((BREAKDOWN, {"by": "SOURCE"}), (KPIS, {"f": [{"dimension": "OS"}]}),
                         (COHORT, {"g": goal["id"]}),
                         ("query($s: ID!) { liveVisitors(siteId: $s) }", {})):
        assert await key.code(query, s=str(other_site.id), **extra) == "FORBIDDEN"
    # another site's goal through one's own site is not found
    other_goal = await create_goal(admin, other_site.id, "Theirs")
    assert await key.code(COHORT, s=str(site.id), g=other_goal["id"]) == "NOT_FOUND"


async def test_each_server_builds_the_passed_hours_every_minute(database_url, site, db):
    """GOALPOST_DIMENSION_BUILD_SECONDS: every server builds the hours that have passed, so a
    read finds them built."""
    import asyncio

    from tests.conftest import make_settings, running_app

    at = datetime.now(timezone.utc) - timedelta(hours=2)
    settings = make_settings(database_url, dimension_build_seconds=0.2)
    async with running_app(settings) as (_, client):
        await Events(client, site).send(at=at, visitor="a")
        # the writer rolled it up; its site's rollups say so from the next hour on: earlier
        async with db.write.begin() as conn:
            await conn.execute(update(rollup_coverage).where(rollup_coverage.c.site_id == site.id)
                               .values(since_hour=hour_of(from_datetime(at))))
        for _ in range(100):
            if await spans_built(db, site):
                break
            await asyncio.sleep(0.1)
    assert (await spans_built(db, site)).get(1) == 1

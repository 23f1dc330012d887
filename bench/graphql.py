"""Benchmark of the GraphQL reads on PostgreSQL: python bench/graphql.py [--events N]

Creates a throwaway database (at GOALPOST_BENCH_POSTGRES_URL, default the test server's
GOALPOST_TEST_POSTGRES_URL / postgres@127.0.0.1:5432), migrates it, and loads one site with
1M events over the last 30 days with COPY (asyncpg copy_records_to_table):

* ~300k visitors; sessions of a geometric number of events (mean ~2.5) a few seconds to
  minutes apart; a share of returning visitors with several sessions;
* session starts follow a daily curve; paths are Zipf-distributed over 2,000 pages;
* event mix: pageviews, outbound clicks, form submissions, custom events; ~3 % of sessions
  buy ("Purchase", revenue in USD / EUR / GBP), some sign up; events carry the goal ids the
  matcher would have recorded and sessions `has_converted` consistent with them;
* derived data (rollups, if any) built the way ingestion maintains it (server.stats.rollups).

Then, through the real endpoint (the ASGI app with its lifespan, over httpx), the median of
kpis, goalStats and the first sessions page (20 sessions with their events and goals), next to
the same numbers computed by one hand-written SQL query each over the raw events, in the same
run. The database is dropped at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named graphql.py: run as a script, its folder must not shadow the graphql package
sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import asyncio
import functools
import os
import statistics
import time
import uuid

import asyncpg
import httpx
import numpy as np

from asgi_lifespan import LifespanManager  # noqa: E402

from server.app import create_app  # noqa: E402
from server.clock import DAY_US, US  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import SESSION_ATTRIBUTION  # noqa: E402
from server.settings import Settings  # noqa: E402

ADMIN_URL = os.environ.get("GOALPOST_BENCH_POSTGRES_URL") or os.environ.get(
    "GOALPOST_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TOKEN = "bench-admin-token"
ROUNDS = int(os.environ.get("GOALPOST_BENCH_ROUNDS", "21"))


def iso(us: int) -> str:
    from server.clock import to_datetime
    return to_datetime(us).isoformat()


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def with_database(url: str, name: str) -> str:
    return url.rpartition("/")[0] + "/" + name


# ----------------------------------------------------------------------------- data


def uuids(n: int, rng: np.random.Generator) -> list[uuid.UUID]:
    raw = rng.bytes(16 * n)
    return [uuid.UUID(bytes=raw[i:i + 16]) for i in range(0, 16 * n, 16)]


def generate(n_events: int, site_id: uuid.UUID, goals: dict[str, uuid.UUID], now_us: int,
             seed: int = 7):
    """(session records, event records) for COPY, consistent with each other."""
    rng = np.random.default_rng(seed)
    n_sessions = int(n_events / 2.5)
    n_visitors = int(n_events * 0.3)
    # events per session: geometric, mean 2.5, adjusted to exactly n_events in total
    sizes = rng.geometric(0.4, n_sessions)
    while (total := int(sizes.sum())) != n_events:
        if total < n_events:
            np.add.at(sizes, rng.integers(0, n_sessions, n_events - total), 1)
        else:
            big = np.nonzero(sizes > 1)[0]
            sizes[rng.choice(big, size=min(total - n_events, len(big)), replace=False)] -= 1
    # visitors: every visitor has a session; the rest of the sessions are returning visitors
    visitor_of = np.concatenate([np.arange(n_visitors),
                                 rng.integers(0, n_visitors // 5, n_sessions - n_visitors)])
    rng.shuffle(visitor_of)
    # session starts over 30 days with a daily curve (more in the afternoon)
    day = rng.integers(0, 30, n_sessions)
    hour = rng.choice(24, n_sessions, p=_hour_curve())
    offset = (day * 24 + hour) * 3600 + rng.integers(0, 3600, n_sessions)
    start = now_us - 30 * DAY_US + offset.astype(np.int64) * US
    order = np.argsort(start)
    start, sizes, visitor_of = start[order], sizes[order], visitor_of[order]

    n_paths = 2000
    path_rank = np.minimum(rng.zipf(1.3, total), n_paths) - 1
    paths = ["/"] + [f"/page/{i}" for i in range(1, n_paths)]
    gaps = rng.integers(5, 300, total).astype(np.int64) * US
    kind = rng.random(total)
    buyer = rng.random(n_sessions) < 0.03
    signer = rng.random(n_sessions) < 0.02
    currency = rng.choice(["USD", "EUR", "GBP"], n_sessions, p=[0.6, 0.3, 0.1])
    price = rng.integers(100, 20000, n_sessions) * 10_000  # 1.00 .. 199.99 in micros
    referrers = [None, "https://www.google.com/", "https://news.ycombinator.com/",
                 "https://t.co/x"]
    sources = ["Direct / None", "Google", "Hacker News", "Twitter"]
    ref_of = rng.integers(0, 4, n_sessions)
    # UTM-tagged landings (a tenth of the sessions) and the clients of server/ingest/attribution
    campaigns = [(None, None, None), ("news", "email", "spring"), ("partner", "referral", "launch"),
                 ("google", "cpc", "brand")]
    campaign_of = np.where(rng.random(n_sessions) < 0.1, rng.integers(1, 4, n_sessions), 0)
    clients = [("Chrome", "Windows", "desktop"), ("Mobile Safari", "iOS", "mobile"),
               ("Chrome Mobile", "Android", "mobile"), ("Safari", "Mac OS X", "desktop"),
               ("Firefox", "Windows", "desktop"), ("Mobile Safari", "iOS", "tablet"),
               (None, None, None)]
    client_of = rng.choice(len(clients), n_sessions, p=[0.35, 0.25, 0.2, 0.08, 0.06, 0.04, 0.02])
    session_ids = uuids(n_sessions, rng)
    event_ids = uuids(total, rng)

    sessions, events = [], []
    e = 0
    for s in range(n_sessions):
        sid = session_ids[s]
        visitor = f"v{visitor_of[s]:07d}"
        at = int(start[s])
        n = int(sizes[s])
        converted = False
        pageviews = 0
        first_path = paths[path_rank[e]]
        for j in range(n):
            if j:
                at += int(gaps[e])
            path = paths[path_rank[e]]
            k = kind[e]
            goal_id = None
            conversion = False
            name = click_url = form_plugin = form_id = revenue = cur = None
            if j == n - 1 and buyer[s]:
                typ, name, goal_id, conversion = "custom", "Purchase", goals["Purchase"], True
                revenue, cur = int(price[s]), str(currency[s])
            elif j == n - 1 and signer[s]:
                typ, form_plugin, form_id = "form", "cf7", "12"
                goal_id, conversion = goals["Signup"], True
            elif j == 0 or k < 0.8:
                typ = "pageview"
                pageviews += 1
                if path == "/page/1":  # the pricing page
                    goal_id = goals["Pricing"]
            elif k < 0.9:
                typ, click_url = "click", "https://www.amazon.de/dp/B08N5WRWNW"
                goal_id = goals["Amazon"]
            elif k < 0.93:
                typ, form_plugin, form_id = "form", "html", "newsletter"
            else:
                typ, name = "custom", "Scroll"
            converted = converted or conversion
            events.append((site_id, event_ids[e], sid, visitor, None, at, typ, name,
                           f"https://bench.example{path}", path, None, click_url, None, None,
                           None, None, form_id, form_plugin, None, None, revenue, cur, goal_id,
                           conversion))
            e += 1
        utm = campaigns[campaign_of[s]]
        sessions.append((site_id, sid, visitor, int(start[s]), at, first_path,
                         referrers[ref_of[s]], converted, n, pageviews, sources[ref_of[s]],
                         utm[0], utm[1], utm[2], None, None, *clients[client_of[s]]))
    return sessions, events


def _hour_curve():
    curve = np.array([2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2],
                     dtype=float)
    return curve / curve.sum()


# ----------------------------------------------------------------------------- queries

KPIS = ("query($s: ID!, $r: DateRange) { kpis(siteId: $s, range: $r) { visitors sessions pageviews conversions "
        "conversionRate revenue { amount currency } } }")
GOAL_STATS = ("query($s: ID!, $r: DateRange) { goalStats(siteId: $s, range: $r) { goal { id name priority } conversions "
              "uniqueVisitors revenue { amount currency } } }")
SESSIONS = """query($s: ID!, $r: DateRange) { sessions(siteId: $s, range: $r, first: 20) { totalCount
  pageInfo { hasNextPage endCursor }
  edges { cursor node { id visitorId startedAt lastSeenAt entryPath referrer hasConverted
    events { id type name path occurredAt props revenue { amount currency } goal { id name } } } }
} }"""

SQL_KPIS = """
SELECT count(DISTINCT visitor_id), count(*) FILTER (WHERE type = 'pageview'),
       count(*) FILTER (WHERE is_conversion),
       (SELECT count(*) FROM sessions WHERE site_id = $1 AND started_at >= $2 AND started_at < $3),
       (SELECT json_agg(json_build_object('c', c, 'm', m)) FROM (
          SELECT revenue_currency c, sum(revenue_micros) m FROM events
          WHERE site_id = $1 AND occurred_at >= $2 AND occurred_at < $3
            AND revenue_currency IS NOT NULL GROUP BY 1) r)
FROM events WHERE site_id = $1 AND occurred_at >= $2 AND occurred_at < $3"""
SQL_GOAL_STATS = """
SELECT g.id, g.name, g.priority, count(e.id), count(DISTINCT e.visitor_id),
       (SELECT json_agg(json_build_object('c', c, 'm', m)) FROM (
          SELECT revenue_currency c, sum(revenue_micros) m FROM events r
          WHERE r.site_id = $1 AND r.goal_id = g.id AND r.occurred_at >= $2
            AND r.occurred_at < $3 AND r.revenue_currency IS NOT NULL GROUP BY 1) x)
FROM goals g LEFT JOIN events e ON e.site_id = g.site_id AND e.goal_id = g.id
     AND e.occurred_at >= $2 AND e.occurred_at < $3
WHERE g.site_id = $1 GROUP BY g.id, g.name, g.priority ORDER BY g.priority"""
SQL_SESSIONS = """
WITH page AS (
  SELECT * FROM sessions WHERE site_id = $1 AND started_at >= $2 AND started_at < $3
  ORDER BY started_at DESC, id DESC LIMIT 21)
SELECT p.*, (SELECT count(*) FROM sessions WHERE site_id = $1 AND started_at >= $2
                                                 AND started_at < $3),
       (SELECT json_agg(json_build_object('id', e.id, 'type', e.type, 'name', e.name,
                 'path', e.path, 'at', e.occurred_at, 'props', e.props,
                 'rev', e.revenue_micros, 'cur', e.revenue_currency, 'goal', g.name)
                 ORDER BY e.occurred_at)
          FROM events e LEFT JOIN goals g ON g.site_id = e.site_id AND g.id = e.goal_id
          WHERE e.site_id = $1 AND e.session_id = p.id)
FROM page p ORDER BY p.started_at DESC, p.id DESC"""

# contract §8: breakdowns and filtered kpis, each beside one hand-written query of the same numbers
ROW = "value visitors conversions conversionRate revenue { amount currency }"
BREAKDOWNS = {
    "breakdown SOURCE": ("SOURCE", None),
    "breakdown SOURCE goal": ("SOURCE", "Purchase"),
    "breakdown DEVICE": ("DEVICE", None),
    "breakdown UTM_CAMPAIGN": ("UTM_CAMPAIGN", None),
    "breakdown PAGE": ("PAGE", None),
}
BREAKDOWN = ("query($s: ID!, $r: DateRange, $by: Dimension!, $g: ID) { breakdown(siteId: $s, "
             f"range: $r, by: $by, goalId: $g) {{ {ROW} }} }}")
FILTERED = {
    "kpis SOURCE=Google": [{"dimension": "SOURCE", "value": "Google"}],
    "kpis DEVICE=mobile, UTM_CAMPAIGN=null": [{"dimension": "DEVICE", "value": "mobile"},
                                               {"dimension": "UTM_CAMPAIGN", "value": None}],
}
KPIS_FILTERED = ("query($s: ID!, $r: DateRange, $f: [StatsFilter!]) { kpis(siteId: $s, range: $r, "
                 "filters: $f) { visitors sessions pageviews conversions conversionRate "
                 "revenue { amount currency } } }")
# $4: the goal (NULL: every conversion goal); rows as breakdown returns them
SQL_BREAKDOWN_SESSION = """
SELECT s.{column} AS value, count(DISTINCT e.visitor_id) AS visitors,
       count(*) FILTER (WHERE CASE WHEN $4::uuid IS NULL THEN e.is_conversion
                                   ELSE e.goal_id = $4 END) AS conversions,
       (SELECT json_agg(json_build_object('c', c, 'm', m)) FROM (
          SELECT r.revenue_currency c, sum(r.revenue_micros) m FROM events r
          JOIN sessions rs ON rs.site_id = r.site_id AND rs.id = r.session_id
          WHERE r.site_id = $1 AND r.occurred_at >= $2 AND r.occurred_at < $3
            AND rs.{column} IS NOT DISTINCT FROM s.{column} AND r.revenue_currency IS NOT NULL
            AND CASE WHEN $4::uuid IS NULL THEN r.is_conversion ELSE r.goal_id = $4 END
          GROUP BY 1) x) AS revenue
FROM events e JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id
WHERE e.site_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3
GROUP BY s.{column} ORDER BY 2 DESC, 1 NULLS LAST LIMIT 20"""
SQL_BREAKDOWN_PAGE = """
SELECT e.path AS value, count(DISTINCT e.visitor_id) FILTER (WHERE e.type = 'pageview'),
       count(*) FILTER (WHERE CASE WHEN $4::uuid IS NULL THEN e.is_conversion
                                   ELSE e.goal_id = $4 END),
       (SELECT json_agg(json_build_object('c', c, 'm', m)) FROM (
          SELECT r.revenue_currency c, sum(r.revenue_micros) m FROM events r
          WHERE r.site_id = $1 AND r.occurred_at >= $2 AND r.occurred_at < $3
            AND r.path IS NOT DISTINCT FROM e.path AND r.revenue_currency IS NOT NULL
            AND CASE WHEN $4::uuid IS NULL THEN r.is_conversion ELSE r.goal_id = $4 END
          GROUP BY 1) x)
FROM events e WHERE e.site_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3
GROUP BY e.path ORDER BY 2 DESC, 1 NULLS LAST LIMIT 20"""
SQL_KPIS_FILTERED = """
SELECT count(DISTINCT e.visitor_id), count(*) FILTER (WHERE e.type = 'pageview'),
       count(*) FILTER (WHERE e.is_conversion),
       (SELECT count(*) FROM sessions s WHERE s.site_id = $1 AND s.started_at >= $2
          AND s.started_at < $3 AND {session_where}),
       (SELECT json_agg(json_build_object('c', c, 'm', m)) FROM (
          SELECT r.revenue_currency c, sum(r.revenue_micros) m FROM events r
          JOIN sessions s ON s.site_id = r.site_id AND s.id = r.session_id
          WHERE r.site_id = $1 AND r.occurred_at >= $2 AND r.occurred_at < $3
            AND r.revenue_currency IS NOT NULL AND {session_where} GROUP BY 1) x)
FROM events e JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id
WHERE e.site_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND {session_where}"""
SESSION_COLUMN = {"SOURCE": "source", "DEVICE": "device", "UTM_CAMPAIGN": "utm_campaign"}


def sql_session_where(filters) -> str:
    parts = []
    for f in filters:
        column = SESSION_COLUMN[f["dimension"]]
        parts.append(f"s.{column} IS NULL" if f["value"] is None
                     else f"s.{column} = '{f['value']}'")
    return " AND ".join(parts)


def money_of(json_text) -> list[dict]:
    import json
    from server.money import to_decimal

    rows = json.loads(json_text) if json_text else []
    return [{"amount": str(to_decimal(r["m"])), "currency": r["c"]}
            for r in sorted(rows, key=lambda r: r["c"])]


async def median_ms(fn, rounds: int = ROUNDS) -> float:
    for _ in range(2):
        await fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


# ----------------------------------------------------------------------------- run


async def main(n_events: int) -> None:
    name = f"goalpost_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(plain(ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = with_database(ADMIN_URL, name)
    try:
        await asyncio.to_thread(upgrade, url)
        await run(url, n_events)
    finally:
        admin = await asyncpg.connect(plain(ADMIN_URL))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run(url: str, n_events: int) -> None:
    from server.db.engine import create_database
    from server.goals import service as goals
    from server.sites import service as sites
    from server.stats import rollups

    db = create_database(url)
    site = await sites.create(db, domain="bench.example", timezone="Europe/Berlin")
    ids = {}
    for goal_name, typ, conds in (
            ("Purchase", "CUSTOM_EVENT", [("EVENT_NAME", "EQUALS", "Purchase")]),
            ("Signup", "FORM", [("FORM_ID", "EQUALS", "12")]),
            ("Amazon", "CLICK", [("DOMAIN", "EQUALS", "amazon.de")]),
            ("Pricing", "PAGEVIEW", [("PATH", "EQUALS", "/page/1")])):
        g = await goals.create_goal(db, site_id=site.id, name=goal_name, type=typ,
                                    conditions=conds,
                                    counts_as_conversion=goal_name in ("Purchase", "Signup"))
        ids[goal_name] = g.id
    await db.dispose()

    now = time.time_ns() // 1000
    t0 = time.perf_counter()
    sessions, events = generate(n_events, site.id, ids, now)
    t1 = time.perf_counter()
    conn = await asyncpg.connect(plain(url))
    await conn.copy_records_to_table("sessions", records=sessions, columns=[
        "site_id", "id", "visitor_id", "started_at", "last_seen_at", "entry_path", "referrer",
        "has_converted", "events", "pageviews", *SESSION_ATTRIBUTION])
    await conn.copy_records_to_table("events", records=events, columns=[
        "site_id", "id", "session_id", "visitor_id", "user_id", "occurred_at", "type", "name",
        "url", "path", "referrer", "click_url", "click_domain", "click_text", "click_asin",
        "form_name", "form_id", "form_plugin", "form_page_url", "props", "revenue_micros",
        "revenue_currency", "goal_id", "is_conversion"])
    t2 = time.perf_counter()
    db = create_database(url)
    async with db.write.begin() as sa_conn:
        await rollups.rebuild(sa_conn, site.id)
    await db.dispose()
    await conn.execute("VACUUM ANALYZE")
    t3 = time.perf_counter()
    print(f"data: {len(events):,} events, {len(sessions):,} sessions, "
          f"{len({e[3] for e in events}):,} visitors; generated in {t1 - t0:.1f}s, "
          f"COPY {t2 - t1:.1f}s, rollups + analyze {t3 - t2:.1f}s")

    start, end = now - 30 * DAY_US, now + 1
    sql = {
        "kpis": lambda: conn.fetch(SQL_KPIS, site.id, start, end),
        "goalStats": lambda: conn.fetch(SQL_GOAL_STATS, site.id, start, end),
        "sessions": lambda: conn.fetch(SQL_SESSIONS, site.id, start, end),
    }
    app = create_app(Settings(database_url=url, admin_token=TOKEN, rate_limit=0.0))
    async with LifespanManager(app, startup_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test",
                                     headers={"authorization": f"Bearer {TOKEN}"},
                                     timeout=60) as client:
            async def call(query, **variables):
                answer = await client.post("/graphql", json={"query": query, "variables": {
                    "s": str(site.id), "r": {"from": iso(start), "to": iso(end)},
                    **variables}})
                body = answer.json()
                assert "errors" not in body, body["errors"]
                return body

            gql = {"kpis": lambda: call(KPIS), "goalStats": lambda: call(GOAL_STATS),
                   "sessions": lambda: call(SESSIONS)}
            # the two ways agree
            k = (await call(KPIS))["data"]["kpis"]
            row = (await sql["kpis"]())[0]
            assert (k["pageviews"], k["conversions"], k["sessions"]) == \
                (row[1], row[2], row[3]), (k, row)
            print(f"kpis: {k}")
            print(f"visitors: exact {row[0]:,}, GraphQL {k['visitors']:,} "
                  f"({(k['visitors'] - row[0]) / row[0] * 100:+.3f} %)")
            stats = (await call(GOAL_STATS))["data"]["goalStats"]
            exact = {r[1]: r for r in await sql["goalStats"]()}
            for g in stats:
                e = exact[g["goal"]["name"]]
                assert g["conversions"] == e[3], (g, e)
                print(f"goal {g['goal']['name']}: conversions {g['conversions']:,}, unique "
                      f"visitors {g['uniqueVisitors']:,} vs exact {e[4]:,}")
            for name, (by, goal) in BREAKDOWNS.items():
                variables = {"by": by, "g": str(ids[goal]) if goal else None}
                gql[name] = functools.partial(call, BREAKDOWN, **variables)
                text = SQL_BREAKDOWN_PAGE if by == "PAGE" else \
                    SQL_BREAKDOWN_SESSION.format(column=SESSION_COLUMN.get(by, by.lower()))
                sql[name] = functools.partial(conn.fetch, text, site.id, start, end,
                                              ids[goal] if goal else None)
                rows = {r["value"]: r for r in (await gql[name]())["data"]["breakdown"]}
                exact = {r[0]: r for r in await sql[name]()}
                # the same values, conversions and revenue; visitors estimated from sketches
                # where the dimension is rolled up (order may then differ among near-equals)
                assert rows.keys() == exact.keys() or by in ("PAGE",), (name, rows, exact)
                errors = []
                for value, row in rows.items():
                    if value not in exact:
                        continue
                    e = exact[value]
                    assert (row["conversions"], row["revenue"]) == (e[2], money_of(e[3])), \
                        (name, row, e)
                    errors.append(abs(row["visitors"] - e[1]) / max(e[1], 1) * 100)
                print(f"{name}: {len(rows)} rows, visitors within {max(errors):.3f} % of exact")
            for name, filters in FILTERED.items():
                gql[name] = functools.partial(call, KPIS_FILTERED, f=filters)
                sql[name] = functools.partial(conn.fetch, SQL_KPIS_FILTERED.format(
                    session_where=sql_session_where(filters)), site.id, start, end)
                k = (await gql[name]())["data"]["kpis"]
                row = (await sql[name]())[0]
                assert (k["pageviews"], k["conversions"], k["sessions"], k["revenue"]) == \
                    (row[1], row[2], row[3], money_of(row[4])), (name, k, row)
                print(f"{name}: visitors {k['visitors']:,} vs exact {row[0]:,}")
            print("breakdowns and filtered kpis: counts and money equal the SQL's")
            width = max(map(len, gql))
            print(f"{'read':<{width}} {'GraphQL ms':>11} {'one SQL ms':>11}")
            for key in gql:
                g_ms = await median_ms(gql[key])
                s_ms = await median_ms(sql[key])
                print(f"{key:<{width}} {g_ms:>11.1f} {s_ms:>11.1f}", flush=True)
    await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(main(args.events))

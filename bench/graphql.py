"""Benchmark of the GraphQL reads on PostgreSQL: python bench/graphql.py [--events N]

Creates a throwaway database (at GOALPOST_BENCH_POSTGRES_URL, default the test server's
GOALPOST_TEST_POSTGRES_URL / postgres@127.0.0.1:5432), migrates it, and generates inside
PostgreSQL one site with N events (default 1M, made to scale to 10M) over the last 30 days:

* visitors 0.3 x N; sessions of a geometric number of events (mean 2.5) 5 s to 5 min apart; a
  share of returning visitors with several sessions;
* session starts follow a daily curve; paths are Zipf-like over 2,000 pages;
* event mix: pageviews, outbound clicks, form submissions, custom events; ~3 % of sessions
  buy ("Purchase", revenue in USD / EUR / GBP), some sign up; events carry the goal ids the
  matcher would have recorded and sessions `has_converted` consistent with them;
* the rollups rebuilt from them (server.ingest.rollups.rebuild), as ingestion would have kept them.

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
import os
import statistics
import time
import uuid
from types import SimpleNamespace

import asyncpg
import httpx

from asgi_lifespan import LifespanManager  # noqa: E402

from server.app import create_app  # noqa: E402
from server.clock import DAY_US  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.settings import Settings  # noqa: E402

ADMIN_URL = os.environ.get("GOALPOST_BENCH_POSTGRES_URL") or os.environ.get(
    "GOALPOST_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TOKEN = "bench-admin-token"
ROUNDS = 21


def iso(us: int) -> str:
    from server.clock import to_datetime
    return to_datetime(us).isoformat()


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def with_database(url: str, name: str) -> str:
    return url.rpartition("/")[0] + "/" + name


# ----------------------------------------------------------------------------- data
# Generated set-wise inside PostgreSQL (10M events in minutes, not hours of Python): one row
# per session in an unlogged scratch table, its events by generate_series, then the sessions
# aggregated from their events so that both agree.

CURVE = (2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2)
HOURS = "ARRAY[" + ",".join(str(h) for h, w in enumerate(CURVE) for _ in range(w)) + "]"
N_PATHS = 2000
# a Zipf-like rank 1..N_PATHS: rank 1 is "/", rank k "/page/<k-1>"; "/page/1" is the pricing page
PATH = "(CASE WHEN r.rank = 1 THEN '/' ELSE '/page/' || (r.rank - 1) END)"
RANK = f"floor(exp(power(random(), 2.5) * ln({N_PATHS})))::int"


def id_from(us: str) -> str:
    """A UUIDv7-shaped id from a time in microseconds: time-ordered like the server's ids."""
    return (f"(lpad(to_hex(({us}) / 1000), 12, '0') || '7' || "
            f"substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid")


def generation_sql(n_events: int, site_id: uuid.UUID, goals: dict[str, uuid.UUID],
                   now_us: int) -> list[str]:
    n_sessions = max(1, int(n_events / 2.5))
    n_visitors = max(5, int(n_events * 0.3))
    site = f"'{site_id}'::uuid"
    g = {k: f"'{v}'::uuid" for k, v in goals.items()}
    first = now_us - 30 * DAY_US
    return [
        "SET work_mem = '256MB'",
        "SELECT setseed(0.7)",
        f"""CREATE UNLOGGED TABLE bench_sessions AS
        SELECT *, {id_from('started_at')} AS id FROM (
          SELECT CASE WHEN g <= {n_visitors} THEN g
                      ELSE 1 + floor(random() * {n_visitors // 5})::int END AS visitor,
                 1 + floor(ln(1 - random()) / ln(0.6))::int AS size,
                 {first} + ((floor(random() * 30)::bigint * 24
                   + ({HOURS})[1 + floor(random() * {sum(CURVE)})::int]) * 3600
                   + floor(random() * 3600)::bigint) * 1000000 AS started_at,
                 (5 + floor(random() * 295))::bigint * 1000000 AS gap,
                 random() < 0.03 AS buyer, random() < 0.02 AS signer,
                 (ARRAY['USD','USD','USD','USD','USD','USD','EUR','EUR','EUR','GBP'])
                   [1 + floor(random() * 10)::int] AS currency,
                 (100 + floor(random() * 19900))::bigint * 10000 AS price,
                 (ARRAY[NULL, 'https://www.google.com/', 'https://news.ycombinator.com/',
                        'https://t.co/x'])[1 + floor(random() * 4)::int] AS referrer,
                 {RANK} AS rank
          FROM generate_series(1, {n_sessions}) g) s
        WHERE started_at < {now_us}
        ORDER BY started_at""",
        f"""INSERT INTO events (site_id, id, session_id, visitor_id, occurred_at, type, name, url,
                                path, click_url, form_id, form_plugin, revenue_micros,
                                revenue_currency, goal_id, is_conversion)
        SELECT {site}, {id_from('at')}, session_id, visitor_id, at,
               CASE kind WHEN 'buy' THEN 'custom' WHEN 'scroll' THEN 'custom'
                         WHEN 'signup' THEN 'form' WHEN 'newsletter' THEN 'form' ELSE kind END,
               CASE kind WHEN 'buy' THEN 'Purchase' WHEN 'scroll' THEN 'Scroll' END,
               'https://bench.example' || path, path,
               CASE WHEN kind = 'click' THEN 'https://www.amazon.de/dp/B08N5WRWNW' END,
               CASE kind WHEN 'signup' THEN '12' WHEN 'newsletter' THEN 'newsletter' END,
               CASE kind WHEN 'signup' THEN 'cf7' WHEN 'newsletter' THEN 'html' END,
               CASE WHEN kind = 'buy' THEN price END, CASE WHEN kind = 'buy' THEN currency END,
               CASE WHEN kind = 'buy' THEN {g["Purchase"]} WHEN kind = 'signup' THEN {g["Signup"]}
                    WHEN kind = 'click' THEN {g["Amazon"]}
                    WHEN kind = 'pageview' AND path = '/page/1' THEN {g["Pricing"]} END,
               kind IN ('buy', 'signup')
        FROM (
          SELECT s.id AS session_id, 'v' || lpad(s.visitor::text, 8, '0') AS visitor_id,
                 s.started_at + e.j * s.gap AS at, s.price, s.currency,
                 CASE WHEN e.j = 0 THEN {PATH.replace("r.rank", "s.rank")}
                      ELSE {PATH.replace("r.rank", RANK)} END AS path,
                 CASE WHEN e.j = s.size - 1 AND s.buyer THEN 'buy'
                      WHEN e.j = s.size - 1 AND s.signer THEN 'signup'
                      WHEN e.j = 0 OR e.r < 0.8 THEN 'pageview'
                      WHEN e.r < 0.9 THEN 'click'
                      WHEN e.r < 0.93 THEN 'newsletter'
                      ELSE 'scroll' END AS kind
          FROM bench_sessions s
          CROSS JOIN LATERAL (SELECT j, random() AS r FROM generate_series(0, s.size - 1) j) e
        ) x""",
        f"""INSERT INTO sessions (site_id, id, visitor_id, started_at, last_seen_at, entry_path,
                                  referrer, has_converted, events, pageviews)
        SELECT {site}, s.id, 'v' || lpad(s.visitor::text, 8, '0'), s.started_at,
               s.started_at + (s.size - 1) * s.gap, {PATH.replace("r.rank", "s.rank")},
               s.referrer, a.converted, s.size, a.pageviews
        FROM bench_sessions s JOIN (
          SELECT session_id, bool_or(is_conversion) AS converted,
                 count(*) FILTER (WHERE type = 'pageview') AS pageviews
          FROM events WHERE site_id = {site} GROUP BY session_id) a ON a.session_id = s.id""",
        "DROP TABLE bench_sessions",
    ]


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


async def median_ms(fn, rounds: int) -> float:
    for _ in range(2):
        await fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


# ----------------------------------------------------------------------------- run


async def main(n_events: int, keep: bool, database: str | None, rounds: int) -> None:
    """database: measure an existing bench database (from --keep) instead of making one."""
    name = database or f"goalpost_bench_{uuid.uuid4().hex[:10]}"
    url = with_database(ADMIN_URL, name)
    if database is None:
        admin = await asyncpg.connect(plain(ADMIN_URL))
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
    try:
        if database is None:
            await asyncio.to_thread(upgrade, url)
            await generate(url, n_events)
        await measure(url, rounds)
    finally:
        if keep or database:
            print(f"kept: --database {name}")
        else:
            admin = await asyncpg.connect(plain(ADMIN_URL))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def generate(url: str, n_events: int) -> None:
    from server.db.engine import create_database
    from server.goals import service as goals
    from server.sites import service as sites
    from server.ingest import rollups

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
    conn = await asyncpg.connect(plain(url))
    for statement in generation_sql(n_events, site.id, ids, now):
        await conn.execute(statement)
    # the generation's "now", for measuring a kept database later over the same range
    await conn.execute("INSERT INTO app_config (key, value) VALUES ('bench_now', $1)", str(now))
    t1 = time.perf_counter()
    db = create_database(url)
    async with db.write.begin() as sa_conn:
        await rollups.rebuild(sa_conn, site.id)
    async with db.write.begin() as sa_conn:  # as the daily maintenance would have
        await rollups.compact_days(sa_conn, now)
    await db.dispose()
    await conn.execute("VACUUM ANALYZE")
    t2 = time.perf_counter()
    counts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM events) e, (SELECT count(*) FROM sessions) s, "
        "(SELECT count(DISTINCT visitor_id) FROM sessions) v, "
        "pg_size_pretty(pg_database_size(current_database())) size")
    print(f"data: {counts['e']:,} events, {counts['s']:,} sessions, {counts['v']:,} visitors "
          f"({counts['size']}); generated in SQL in {t1 - t0:.0f}s, rollups + analyze "
          f"{t2 - t1:.0f}s", flush=True)
    await conn.close()


async def measure(url: str, rounds: int) -> None:
    conn = await asyncpg.connect(plain(url))
    now = int(await conn.fetchval("SELECT value FROM app_config WHERE key = 'bench_now'"))
    site = SimpleNamespace(id=await conn.fetchval(
        "SELECT id FROM sites WHERE domain = 'bench.example'"))
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
            async def call(query):
                answer = await client.post("/graphql", json={"query": query, "variables": {
                    "s": str(site.id), "r": {"from": iso(start), "to": iso(end)}}})
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
            print(f"{'read':<10} {'GraphQL ms':>11} {'one SQL ms':>11}")
            for key in ("kpis", "goalStats", "sessions"):
                g_ms = await median_ms(gql[key], rounds)
                s_ms = await median_ms(sql[key], rounds)
                print(f"{key:<10} {g_ms:>11.1f} {s_ms:>11.1f}")
    await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure a database kept by an earlier --keep run")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="timed calls per read")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.keep, args.database, args.rounds))

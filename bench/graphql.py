"""Benchmark of the GraphQL reads on PostgreSQL: python bench/graphql.py [--events N] [--keep]
                                              [--database NAME] [--rounds R]

Creates a throwaway database (at GOALPOST_BENCH_POSTGRES_URL, default the test server's
GOALPOST_TEST_POSTGRES_URL / postgres@127.0.0.1:5432), migrates it, and generates inside
PostgreSQL one site with N events (default 1M, made to scale to 10M) over the last 30 days:

* visitors 0.3 x N; sessions of a geometric number of events (mean 2.5) 5 s to 5 min apart; a
  share of returning visitors with several sessions;
* session starts follow a daily curve; paths are Zipf-like over 2,000 pages;
* sessions carry the attribution the breakdowns read: a source from their referrer, UTM
  fields on a tenth of them, browser / OS / device from a few clients, their entry path;
* event mix: pageviews, outbound clicks, form submissions, custom events; ~3 % of sessions
  buy ("Purchase", revenue in USD / EUR / GBP), some sign up; events carry the goal ids the
  matcher would have recorded and sessions `has_converted` consistent with them;
* the rollups rebuilt from them (server.ingest.rollups.rebuild), the days compacted and the
  dimension rollups built (server/stats/dimension_rollups.py `maintain`), as ingestion and
  every server's maintenance would have kept them over the month.

Then, through the real endpoint (the ASGI app as `goalpost serve` makes it, on uvloop, over
httpx): kpis, goalStats, the first sessions page (20 sessions with their events and goals), a
breakdown by every dimension (and one for a goal) and one filtered kpis, each beside one
hand-written SQL query over the raw events and sessions computing the same numbers, in the same
run. Per read: the first call (with --cold the dimension rollups are dropped first: breakdowns
then read the events, as on a server whose maintenance has not built them yet), the median of
the later calls (the reads taking turns, one call each per round, all before any SQL), and
the SQL's median (each of --rounds calls, fewer once they took 10 s: the SQL at 10M events
takes up to a minute a call). The two agree on every
count and sum (checked; any difference is printed and makes the exit status 1); visitor counts
read from sketches are HyperLogLog estimates, printed with their error.

The database is dropped at the end unless --keep; --database measures a kept one again (its
dimension rollups built already, unless --cold drops them first).
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named graphql.py: run as a script, its folder must not shadow the graphql package
sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import asyncio
import functools
import json
import os
import statistics
import time
import uuid

import asyncpg
import httpx

from asgi_lifespan import LifespanManager  # noqa: E402

from server.cli import create_serving_app  # noqa: E402
from server.clock import DAY_US, HOUR_US  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import SESSION_ATTRIBUTION  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.stats.breakdown import DIMENSIONS, PAGE, SESSION_COLUMNS  # noqa: E402
from server.stats.dimension_rollups import ROLLED  # noqa: E402

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


# attribution as server/ingest/attribution.py derives it: the source named after the referrer,
# the campaigns of a tenth of the sessions, a few clients (shares in percent)
REFERRERS = (None, "https://www.google.com/", "https://news.ycombinator.com/", "https://t.co/x")
SOURCES = ("Direct / None", "Google", "Hacker News", "Twitter")
UTM_SOURCES = (None, "news", "partner", "google")
UTM_MEDIUMS = (None, "email", "referral", "cpc")
CAMPAIGNS = (None, "spring", "launch", "brand")
BROWSERS = ("Chrome", "Mobile Safari", "Chrome Mobile", "Safari", "Firefox", "Mobile Safari", None)
SYSTEMS = ("Windows", "iOS", "Android", "Mac OS X", "Windows", "iOS", None)
DEVICES = ("desktop", "mobile", "mobile", "desktop", "desktop", "tablet", None)
CLIENT_SHARES = (35, 25, 20, 8, 6, 4, 2)
CLIENT = "ARRAY[" + ",".join(str(i) for i, n in enumerate(CLIENT_SHARES) for _ in range(n)) + "]"
assert sum(CLIENT_SHARES) == 100


def pick(values: tuple, index: str) -> str:
    """The SQL of values[index] (0-based)."""
    items = ", ".join("NULL" if v is None else "'" + v + "'" for v in values)
    return f"(ARRAY[{items}]::text[])[1 + {index}]"


ATTRIBUTION = {  # sessions column -> its value in SQL over bench_sessions s
    "source": pick(SOURCES, "s.referrer_no"), "utm_source": pick(UTM_SOURCES, "s.campaign"),
    "utm_medium": pick(UTM_MEDIUMS, "s.campaign"), "utm_campaign": pick(CAMPAIGNS, "s.campaign"),
    "utm_term": "NULL", "utm_content": "NULL", "browser": pick(BROWSERS, "s.client"),
    "os": pick(SYSTEMS, "s.client"), "device": pick(DEVICES, "s.client")}
assert set(ATTRIBUTION) == set(SESSION_ATTRIBUTION)


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
                 floor(random() * {len(REFERRERS)})::int AS referrer_no,
                 CASE WHEN random() < 0.1 THEN 1 + floor(random() * {len(CAMPAIGNS) - 1})::int
                      ELSE 0 END AS campaign,
                 ({CLIENT})[1 + floor(random() * 100)::int] AS client,
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
        f"""INSERT INTO sessions (site_id, id, visitor_id, started_at, last_seen_at,
                                  last_seen_hour, entry_path, referrer, has_converted, events,
                                  pageviews, {", ".join(ATTRIBUTION)})
        SELECT {site}, s.id, 'v' || lpad(s.visitor::text, 8, '0'), s.started_at,
               s.started_at + (s.size - 1) * s.gap,
               s.started_at + (s.size - 1) * s.gap - (s.started_at + (s.size - 1) * s.gap)
                 % {HOUR_US}, {PATH.replace("r.rank", "s.rank")},
               {pick(REFERRERS, "s.referrer_no")}, a.converted, s.size, a.pageviews,
               {", ".join(ATTRIBUTION.values())}
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
BREAKDOWN = ("query($s: ID!, $r: DateRange, $by: Dimension!, $g: ID) { breakdown(siteId: $s, "
             "range: $r, by: $by, goalId: $g) { value visitors conversions conversionRate "
             "revenue { amount currency } } }")
KPIS_FILTERED = ("query($s: ID!, $r: DateRange, $f: [StatsFilter!]) { kpis(siteId: $s, range: $r, "
                 "filters: $f) { visitors sessions pageviews conversions conversionRate "
                 "revenue { amount currency } } }")
# the breakdowns measured: (dimension, goal name or None); every dimension, and one for a goal
BREAKDOWNS = [*((d, None) for d in DIMENSIONS), ("SOURCE", "Purchase")]
FILTER = {"dimension": "SOURCE", "value": "Google"}

# the hand-written queries: $1 site, [$2, $3) the range
MONEY_JSON = "json_agg(json_build_object('currency', c, 'micros', m))"
SQL_KPIS = f"""
SELECT count(DISTINCT visitor_id) AS visitors,
       count(*) FILTER (WHERE type = 'pageview') AS pageviews,
       count(*) FILTER (WHERE is_conversion) AS conversions,
       (SELECT count(*) FROM sessions WHERE site_id = $1 AND started_at >= $2
          AND started_at < $3) AS sessions,
       (SELECT {MONEY_JSON} FROM (
          SELECT revenue_currency c, sum(revenue_micros) m FROM events
          WHERE site_id = $1 AND occurred_at >= $2 AND occurred_at < $3
            AND revenue_currency IS NOT NULL GROUP BY 1) r) AS revenue
FROM events WHERE site_id = $1 AND occurred_at >= $2 AND occurred_at < $3"""
SQL_GOAL_STATS = f"""
SELECT g.name, count(e.id) AS conversions, count(DISTINCT e.visitor_id) AS visitors,
       (SELECT {MONEY_JSON} FROM (
          SELECT revenue_currency c, sum(revenue_micros) m FROM events r
          WHERE r.site_id = $1 AND r.goal_id = g.id AND r.occurred_at >= $2
            AND r.occurred_at < $3 AND r.revenue_currency IS NOT NULL GROUP BY 1) x) AS revenue
FROM goals g LEFT JOIN events e ON e.site_id = g.site_id AND e.goal_id = g.id
     AND e.occurred_at >= $2 AND e.occurred_at < $3
WHERE g.site_id = $1 GROUP BY g.id, g.name, g.priority ORDER BY g.priority"""
SQL_SESSIONS = """
WITH page AS (
  SELECT * FROM sessions WHERE site_id = $1 AND started_at >= $2 AND started_at < $3
  ORDER BY started_at DESC, id DESC LIMIT 21)
SELECT p.*, (SELECT count(*) FROM sessions WHERE site_id = $1 AND started_at >= $2
                                                 AND started_at < $3) AS total,
       (SELECT json_agg(json_build_object('id', e.id, 'type', e.type, 'name', e.name,
                 'path', e.path, 'at', e.occurred_at, 'props', e.props,
                 'rev', e.revenue_micros, 'cur', e.revenue_currency, 'goal', g.name)
                 ORDER BY e.occurred_at)
          FROM events e LEFT JOIN goals g ON g.site_id = e.site_id AND g.id = e.goal_id
          WHERE e.site_id = $1 AND e.session_id = p.id) AS events
FROM page p ORDER BY p.started_at DESC, p.id DESC"""
# $4: the goal (NULL: every goal counting as a conversion); the top 20 rows as breakdown returns
# them: most visitors first, then by value in code point order, the null row last among equals.
# {value}: the session's column, or the event's path (whose visitors are those of its pageviews).
SQL_BREAKDOWN = f"""
WITH grouped AS (
  SELECT {{value}} AS value, e.revenue_currency AS c, grouping(e.revenue_currency) AS whole,
         count(DISTINCT e.visitor_id){{visitors_of}} AS visitors,
         count(*) FILTER (WHERE {{counted}}) AS conversions,
         sum(e.revenue_micros) FILTER (WHERE {{counted}}) AS m
  FROM events e {{join}}
  WHERE e.site_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3
  GROUP BY GROUPING SETS (({{value}}), ({{value}}, e.revenue_currency)))
SELECT w.value, w.visitors, w.conversions,
       (SELECT {MONEY_JSON} FROM grouped r
        WHERE r.whole = 0 AND r.value IS NOT DISTINCT FROM w.value AND r.m IS NOT NULL) AS revenue
FROM grouped w WHERE w.whole = 1
ORDER BY w.visitors DESC, w.value COLLATE "C" NULLS LAST LIMIT 20"""
COUNTED = "CASE WHEN $4::uuid IS NULL THEN e.is_conversion ELSE e.goal_id = $4 END"
JOIN_SESSIONS = "JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id"
SQL_KPIS_FILTERED = f"""
SELECT count(DISTINCT e.visitor_id) AS visitors,
       count(*) FILTER (WHERE e.type = 'pageview') AS pageviews,
       count(*) FILTER (WHERE e.is_conversion) AS conversions,
       (SELECT count(*) FROM sessions s WHERE s.site_id = $1 AND s.started_at >= $2
          AND s.started_at < $3 AND s.{{column}} = $4) AS sessions,
       (SELECT {MONEY_JSON} FROM (
          SELECT r.revenue_currency c, sum(r.revenue_micros) m FROM events r
          JOIN sessions s ON s.site_id = r.site_id AND s.id = r.session_id
          WHERE r.site_id = $1 AND r.occurred_at >= $2 AND r.occurred_at < $3
            AND r.revenue_currency IS NOT NULL AND s.{{column}} = $4 GROUP BY 1) x) AS revenue
FROM events e {JOIN_SESSIONS}
WHERE e.site_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND s.{{column}} = $4"""


def sql_breakdown(by: str) -> str:
    if by == PAGE:
        return SQL_BREAKDOWN.format(value="e.path", join="", counted=COUNTED,
                                    visitors_of=" FILTER (WHERE e.type = 'pageview')")
    return SQL_BREAKDOWN.format(value=f"s.{SESSION_COLUMNS[by]}", join=JOIN_SESSIONS,
                                counted=COUNTED, visitors_of="")


# ----------------------------------------------------------------------------- checks
# Each takes the GraphQL answer's data and the SQL's rows and returns (a note, the differences
# in what must be exact).

def money_of(json_text) -> list[dict]:
    from server.money import to_decimal

    pairs = json.loads(json_text) if json_text else []
    return [{"amount": str(to_decimal(p["micros"])), "currency": p["currency"]}
            for p in sorted(pairs, key=lambda p: p["currency"])]


def error(estimate: int, exact: int) -> float:
    """Relative error in percent."""
    return (estimate - exact) / exact * 100 if exact else float(estimate != 0) * 100


def check_kpis(k: dict, rows) -> tuple[str, list[str]]:
    row = rows[0]
    exact = {"sessions": row["sessions"], "pageviews": row["pageviews"],
             "conversions": row["conversions"], "revenue": money_of(row["revenue"])}
    return (f"visitors {k['visitors']:,} vs {row['visitors']:,} "
            f"({error(k['visitors'], row['visitors']):+.2f} %)",
            [f"{name}: {k[name]} vs {want}" for name, want in exact.items() if k[name] != want])


def check_goal_stats(stats: list, rows) -> tuple[str, list[str]]:
    exact = {row["name"]: row for row in rows}
    problems, errors = [], []
    for s in stats:
        row = exact.pop(s["goal"]["name"], None)
        if row is None:
            problems.append(f"goal {s['goal']['name']} not in SQL")
            continue
        if (s["conversions"], s["revenue"]) != (row["conversions"], money_of(row["revenue"])):
            problems.append(f"{s['goal']['name']}: {s} vs {dict(row)}")
        errors.append(error(s["uniqueVisitors"], row["visitors"]))
    problems += [f"goal {name} not in GraphQL" for name in exact]
    return f"uniqueVisitors within {max(map(abs, errors), default=0):.2f} %", problems


def check_sessions(page: dict, rows) -> tuple[str, list[str]]:
    problems = []
    if rows and page["totalCount"] != rows[0]["total"]:
        problems.append(f"totalCount {page['totalCount']} vs {rows[0]['total']}")
    if page["pageInfo"]["hasNextPage"] != (len(rows) > 20):
        problems.append("hasNextPage")
    got = [(e["node"]["id"], sorted(x["id"] for x in e["node"]["events"])) for e in page["edges"]]
    want = [(str(r["id"]), sorted(x["id"] for x in json.loads(r["events"] or "[]")))
            for r in rows[:20]]
    if got != want:
        problems.append("the page's sessions or their events differ")
    return f"{len(got)} sessions of {page['totalCount']:,}", problems


def check_breakdown(by: str):
    estimated = by in ROLLED  # visitors from the dimension rollups' sketches

    def check(found: list, rows) -> tuple[str, list[str]]:
        exact = {row["value"]: row for row in rows}
        problems, errors = [], []
        for r in found:
            row = exact.get(r["value"])
            if row is None:
                if not estimated:
                    problems.append(f"{r['value']!r} not in SQL's top 20")
                continue
            if (r["conversions"], r["revenue"]) != (row["conversions"], money_of(row["revenue"])):
                problems.append(f"{r['value']!r}: {r} vs {dict(row)}")
            if not estimated and r["visitors"] != row["visitors"]:
                problems.append(f"{r['value']!r}: visitors {r['visitors']} vs {row['visitors']}")
            errors.append(error(r["visitors"], row["visitors"]))
        if not estimated and [r["value"] for r in found] != list(exact):
            problems.append("rows or their order differ")
        note = (f"{len(found)} rows, visitors within {max(map(abs, errors), default=0):.2f} %"
                if estimated else f"{len(found)} rows, exact")
        return note, problems
    return check


# ----------------------------------------------------------------------------- timing


async def timed(fn) -> tuple[object, float]:
    t0 = time.perf_counter()
    result = await fn()
    return result, (time.perf_counter() - t0) * 1000


async def median_ms(fn, rounds: int, times: list[float] | None = None) -> tuple[float, int]:
    """(the median, of how many calls) of `rounds` calls (`times`: ones already made); calls of
    seconds (the hand-written SQL at 10M events takes up to a minute) stop once they took over
    10 s together."""
    times = list(times or [])
    while len(times) < rounds and sum(times) <= 10_000:
        times.append((await timed(fn))[1])
    return statistics.median(times), len(times)


# ----------------------------------------------------------------------------- run


async def main(n_events: int, keep: bool, database: str | None, rounds: int, cold: bool) -> bool:
    """database: measure an existing bench database (from --keep) instead of making one.
    Returns whether GraphQL and SQL agreed everywhere."""
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
        return await measure(url, rounds, cold)
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
    from server.stats import dimension_rollups

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
    print(f"generated in SQL in {t1 - t0:.0f} s", flush=True)
    db = create_database(url)
    async with db.write.begin() as sa_conn:
        await rollups.rebuild(sa_conn, site.id)
    t2 = time.perf_counter()
    async with db.write.begin() as sa_conn:  # as the daily maintenance would have
        await rollups.compact_days(sa_conn, now)
    t3 = time.perf_counter()
    built = await dimension_rollups.maintain(db, now)  # as every server's maintenance would have
    await db.dispose()
    t4 = time.perf_counter()
    await conn.execute("VACUUM ANALYZE")
    t5 = time.perf_counter()
    counts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM sessions) AS sessions, "
        "(SELECT count(DISTINCT visitor_id) FROM sessions) AS visitors, "
        "pg_size_pretty(pg_database_size(current_database())) AS size")
    print(f"data: {counts['events']:,} events, {counts['sessions']:,} sessions, "
          f"{counts['visitors']:,} visitors ({counts['size']}); rollups.rebuild {t2 - t1:.0f} s, "
          f"compact_days {t3 - t2:.0f} s, dimension rollups {t4 - t3:.0f} s ({built.hours_built} "
          f"hours, {built.days_compacted} days), vacuum analyze {t5 - t4:.0f} s", flush=True)
    await conn.close()


async def measure(url: str, rounds: int, cold: bool) -> bool:
    """cold: drop the dimension rollups first, so that the reads take the events.
    Returns whether GraphQL and SQL agreed everywhere."""
    conn = await asyncpg.connect(plain(url))
    now = int(await conn.fetchval("SELECT value FROM app_config WHERE key = 'bench_now'"))
    site_id = await conn.fetchval("SELECT id FROM sites WHERE domain = 'bench.example'")
    goals = {row["name"]: row["id"] for row in await conn.fetch(
        "SELECT name, id FROM goals WHERE site_id = $1", site_id)}
    if cold:
        tables = ("dimension_built", "dimension_sketches", "dimension_counters", "dimension_totals")
        for table in tables:
            await conn.execute(f"DELETE FROM {table} WHERE site_id = $1", site_id)
        await conn.execute(f"VACUUM ANALYZE {', '.join(tables)}")
    built = await conn.fetchval(
        "SELECT count(*) FROM dimension_built WHERE site_id = $1 AND hours = 1", site_id)
    print(f"dimension rollups: {'built before this run' if built else 'none: reads take events'}"
          f" ({built} hours)")
    start, end = now - 30 * DAY_US, now + 1
    # the rollups were built by generate(): a server's background builds would only compete
    # with the reads measured
    # the app as `goalpost serve` runs it (its garbage collector tuned after start-up)
    app = create_serving_app(Settings(database_url=url, admin_token=TOKEN, rate_limit=0.0,
                                      dimension_build_seconds=0.0))
    agreed = True
    async with LifespanManager(app, startup_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test",
                                     headers={"authorization": f"Bearer {TOKEN}"},
                                     timeout=600) as client:
            async def call(query, field, **variables):
                answer = await client.post("/graphql", json={"query": query, "variables": {
                    "s": str(site_id), "r": {"from": iso(start), "to": iso(end)},
                    **variables}})
                body = answer.json()
                assert "errors" not in body, body["errors"]
                return body["data"][field]

            def sql(text, *args):
                return functools.partial(conn.fetch, text, site_id, start, end, *args)

            reads = [  # name, GraphQL, SQL, check
                ("kpis", functools.partial(call, KPIS, "kpis"), sql(SQL_KPIS), check_kpis),
                ("goalStats", functools.partial(call, GOAL_STATS, "goalStats"),
                 sql(SQL_GOAL_STATS), check_goal_stats),
                ("sessions", functools.partial(call, SESSIONS, "sessions"), sql(SQL_SESSIONS),
                 check_sessions)]
            for by, goal in BREAKDOWNS:
                reads.append((f"breakdown {by}" + (f" goal {goal}" if goal else ""),
                              functools.partial(call, BREAKDOWN, "breakdown", by=by,
                                                g=str(goals[goal]) if goal else None),
                              sql(sql_breakdown(by), goals.get(goal)), check_breakdown(by)))
            reads.append((f"kpis {FILTER['dimension']}={FILTER['value']}",
                          functools.partial(call, KPIS_FILTERED, "kpis", f=[FILTER]),
                          sql(SQL_KPIS_FILTERED.format(
                              column=SESSION_COLUMNS[FILTER["dimension"]]), FILTER["value"]),
                          check_kpis))
            width = max(len(name) for name, *_ in reads)
            print(f"load average at start: {os.getloadavg()}", flush=True)
            print(f"{'read':<{width}} {'first ms':>9} {'GraphQL ms':>15} {'one SQL ms':>15}  "
                  f"check (ms: median (calls))", flush=True)
            # Every GraphQL call before any SQL: a hand-written query scans the 10M events for
            # up to a minute, which leaves the machine busy and the caches turned over, and is
            # no part of a read's cost. The reads take turns, one call each per round, so that
            # a slow minute of the host falls on all of them alike, not on one read's calls.
            answers, first_ms = [], []
            for _, gql, _, _ in reads:
                answer, ms = await timed(gql)
                answers.append(answer)
                first_ms.append(ms)
            calls: list[list[float]] = [[] for _ in reads]
            for _ in range(rounds):
                for times, (_, gql, _, _) in zip(calls, reads):
                    times.append((await timed(gql))[1])
            for (name, _, query, check), answer, ms, times in zip(reads, answers, first_ms,
                                                                  calls):
                rows, sql_ms = await timed(query)
                note, problems = check(answer, rows)
                s_ms, s_n = await median_ms(query, rounds, [sql_ms])
                print(f"{name:<{width}} {ms:>9.1f} {statistics.median(times):>10.1f} "
                      f"({len(times):>2}) {s_ms:>10.1f} ({s_n:>2})  "
                      f"{'DIFFERENT: ' + '; '.join(problems) if problems else note}", flush=True)
                agreed = agreed and not problems
            print(f"load average at end: {os.getloadavg()}", flush=True)
    await conn.close()
    return agreed


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure a database kept by an earlier --keep run")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="timed calls per read")
    parser.add_argument("--cold", action="store_true",
                        help="with --database: drop the dimension rollups, so reads take the "
                             "events, as before a server's maintenance has built them")
    args = parser.parse_args()
    # the event loop `goalpost serve` answers on: uvicorn takes uvloop (uvicorn[standard])
    import uvloop
    sys.exit(0 if uvloop.run(main(args.events, args.keep, args.database, args.rounds, args.cold))
             else 1)

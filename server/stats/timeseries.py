"""Visitors, conversions and revenue per day or hour, in the site's time zone.

Bucket boundaries are computed in Python with zoneinfo, so they fall on local midnights / local
hour marks on both sides of a DST change: a local day is 23 or 25 hours long around one, and the
hour that a spring-forward skips does not exist. The first bucket is the one containing
`range.start` and the last the one containing the instant before `range.end`; only events inside
the range are counted, even when the first and last buckets stick out of it. Every bucket is
returned, empty ones included (zeros, no revenue).

Per bucket: visitors = distinct visitor_id of its events; conversions = its events with
is_conversion; revenue = the sum of all its events' revenue, per currency (the same definitions
as the KPIs). One statement for the counts and one for revenue, whatever the number of buckets
(at most MAX_BUCKETS, more is BAD_USER_INPUT): the boundaries are sent as one parameter, unpacked
into a derived table and joined by range.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, bindparam, case, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from server.clock import to_datetime, from_datetime
from server.db.engine import Database
from server.db.models import events
from server.errors import InvalidInput
from server.stats.breakdown import Filter, Scope
from server.stats.kpis import Money, money_totals
from server.stats.ranges import Range

MAX_BUCKETS = 2000
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime  # in the site's time zone
    end: datetime
    visitors: int = 0
    conversions: int = 0
    revenue: list[Money] = field(default_factory=list)


def _floor(instant: datetime, tz: ZoneInfo, interval: str) -> datetime:
    local = instant.astimezone(tz)
    if interval == "DAY":
        # local midnight of that date; a midnight skipped by DST maps to the transition instant
        return datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(timezone.utc)
    floored = local.replace(minute=0, second=0, microsecond=0)
    return floored.astimezone(timezone.utc)


def _next(boundary: datetime, tz: ZoneInfo, interval: str) -> datetime:
    if interval == "DAY":
        local = boundary.astimezone(tz)
        nxt = datetime(local.year, local.month, local.day, tzinfo=tz) + timedelta(days=1)
        candidate = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).astimezone(timezone.utc)
    else:
        candidate = _floor(boundary + HOUR, tz, interval)
    return candidate if candidate > boundary else boundary + HOUR


def bucket_bounds(r: Range, tz_name: str, interval: str) -> list[tuple[datetime, datetime]]:
    """[(start, end)] as aware UTC datetimes covering [r.start, r.end)."""
    if interval not in ("DAY", "HOUR"):
        raise InvalidInput("interval must be DAY or HOUR", field="interval")
    if r.end <= r.start:
        return []
    tz = ZoneInfo(tz_name)
    end = to_datetime(r.end)
    start = _floor(to_datetime(r.start), tz, interval)
    out = []
    while start < end:
        nxt = _next(start, tz, interval)
        out.append((start, nxt))
        if len(out) > MAX_BUCKETS:
            raise InvalidInput(f"at most {MAX_BUCKETS} buckets: use a shorter range or DAY",
                               field="range")
        start = nxt
    return out


def _bucket_table(db: Database, edges: list[tuple[int, int, int]]):
    """(i, b_start, b_end) rows as a derived table from one bound parameter, unpacked by the
    database (json_each on SQLite, unnest on PostgreSQL). A UNION ALL of one-row SELECTs, as
    before, took seconds to compile and plan at a thousand buckets, and SQLite refuses one of
    more than 500 terms (SQLITE_MAX_COMPOUND_SELECT)."""
    columns = dict(i=Integer, b_start=BigInteger, b_end=BigInteger)
    if db.is_sqlite:
        table = text("SELECT CAST(key AS INTEGER) AS i, json_extract(value, '$[0]') AS b_start, "
                     "json_extract(value, '$[1]') AS b_end FROM json_each(:bounds)").bindparams(
            bounds=json.dumps([[s, e] for _, s, e in edges]))
    else:
        table = text("SELECT (n - 1)::integer AS i, b_start, b_end FROM unnest(:starts, :ends) "
                     "WITH ORDINALITY AS b(b_start, b_end, n)").bindparams(
            bindparam("starts", [s for _, s, _ in edges], type_=ARRAY(BigInteger)),
            bindparam("ends", [e for _, _, e in edges], type_=ARRAY(BigInteger)))
    return table.columns(**columns).subquery("buckets")


async def timeseries(db: Database, *, site_id: uuid.UUID, tz_name: str, range: Range,
                     interval: str, filters: tuple[Filter, ...] = (),
                     goal_id: uuid.UUID | None = None) -> list[Bucket]:
    """`filters`: as in server/stats/breakdown.py (a PAGE filter counts the visitors of its
    pageviews). `goal_id`: only the events that recorded that goal, each a conversion of it (as
    in goalStats), visitors those who recorded it."""
    bounds = bucket_bounds(range, tz_name, interval)
    if not bounds:
        return []
    tz = ZoneInfo(tz_name)
    edges = [(i, max(from_datetime(s), range.start), min(from_datetime(e), range.end))
             for i, (s, e) in enumerate(bounds)]
    buckets = _bucket_table(db, edges)
    join = (events.c.occurred_at >= buckets.c.b_start) & (events.c.occurred_at < buckets.c.b_end)
    scope = Scope(site_id, range, filters)
    where = scope.events_where()
    visitor = events.c.visitor_id
    if scope.visitors_by_events():
        visitor = case((events.c.type == "pageview", events.c.visitor_id))
    converted = case((events.c.is_conversion, 1), else_=0)
    if goal_id is not None:
        where = [*where, events.c.goal_id == goal_id]
        converted = case((events.c.goal_id == goal_id, 1), else_=0)
    counts = (
        select(buckets.c.i, func.count(visitor.distinct()),
               func.coalesce(func.sum(converted), 0))
        .select_from(scope.source()).join(buckets, join).where(*where).group_by(buckets.c.i)
    )
    revenue = (
        select(buckets.c.i, events.c.revenue_currency, func.sum(events.c.revenue_micros))
        .select_from(scope.source()).join(buckets, join)
        .where(*where, events.c.revenue_currency.is_not(None))
        .group_by(buckets.c.i, events.c.revenue_currency)
    )
    async with db.replica.connect() as conn:
        count_rows = {int(i): (int(v), int(c)) for i, v, c in await conn.execute(counts)}
        money: dict[int, list] = {}
        for i, currency, micros in await conn.execute(revenue):
            money.setdefault(int(i), []).append((currency, micros))
    out = []
    for i, (s, e) in enumerate(bounds):
        v, c = count_rows.get(i, (0, 0))
        out.append(Bucket(s.astimezone(tz), e.astimezone(tz), v, c,
                          money_totals(money.get(i, []))))
    return out

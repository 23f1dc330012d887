"""Site KPIs and per-goal stats over a half-open time range [start, end).

Definitions (also in the GraphQL descriptions):

* visitors    - distinct `visitor_id` among the site's events that occurred in the range;
* sessions    - sessions that *started* in the range;
* pageviews   - pageview events that occurred in the range;
* conversions - events in the range that matched a goal counting as a conversion at the time
                they arrived (`events.is_conversion`);
* conversion rate - conversions / visitors x 100, 0 when there are no visitors (can exceed 100
                when visitors convert more than once);
* revenue     - the sum of the revenue of *every* event in the range that carried revenue
                (whether or not it matched a goal), one exact amount per currency; amounts are
                never converted between currencies. A currency whose amounts sum to zero (a
                refund) is still listed.

Goal stats, for every goal of the site (priority order, zeros included), over the events in the
range that recorded that goal at ingestion:

* conversions    - how many such events (completions of the goal, also for a goal that does
                   not count as a conversion);
* uniqueVisitors - distinct visitors among them;
* revenue        - the sum of their revenue, per currency.

Speed and exactness: the whole hours of the range that the hourly rollups cover
(server/stats/rollups.py) are read from them, the rest from the events. Counts and money are
exact either way (money is summed as integer millionths and returned as Decimal through
`server.money.to_decimal`, no float). Distinct visitors are exact when the range holds no
covered whole hour, and otherwise estimated from HyperLogLog sketches: relative standard error
0.81 % (in practice exact up to a few thousand visitors).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, func, select

from server.db.engine import Database
from server.db.models import events, rollup_hourly, sessions
from server.goals import service as goals_service
from server.goals.service import GoalRecord
from server.money import to_decimal
from server.db import hll
from server.stats import rollups
from server.stats.ranges import Range, in_ranges


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Kpis:
    visitors: int
    sessions: int
    pageviews: int
    conversions: int
    revenue: list[Money]

    @property
    def conversion_rate(self) -> float:
        if self.visitors == 0:
            return 0.0
        return self.conversions / self.visitors * 100


@dataclass(frozen=True, slots=True)
class GoalStats:
    goal: GoalRecord
    conversions: int = 0
    unique_visitors: int = 0
    revenue: list[Money] = field(default_factory=list)


def money_totals(rows) -> list[Money]:
    """(currency, micros) rows -> Money sorted by currency (summing repeated currencies)."""
    totals: dict[str, int] = defaultdict(int)
    for currency, micros in rows:
        if micros is not None:
            totals[currency] += int(micros)
    return [Money(to_decimal(m), c) for c, m in sorted(totals.items())]


async def kpis(db: Database, *, site_id: uuid.UUID, range: Range) -> Kpis:
    async with db.replica.connect() as conn:
        rolled, raw = rollups.split(range.start, range.end, await rollups.coverage(conn, site_id))
        pageviews = conversions = started = 0
        money_rows: list[tuple[str, int]] = []
        blobs: list[bytes] = []
        if rolled is not None:
            h = rollup_hourly.c
            for currency, pv, conv, micros, n_started in await conn.execute(
                    select(h.currency, func.sum(h.pageviews), func.sum(h.conversions),
                           func.sum(h.revenue_micros), func.sum(h.sessions))
                    .where(h.site_id == site_id, h.goal_id == rollups.NIL_UUID,
                           h.hour >= rolled[0], h.hour < rolled[1])
                    .group_by(h.currency)):
                if currency == "":
                    pageviews += int(pv or 0)
                    conversions += int(conv or 0)
                    started += int(n_started or 0)
                else:
                    money_rows.append((currency, micros))
            blobs = (await rollups.sketches(conn, site_id, *rolled, site_wide=True)
                     ).get(rollups.NIL_UUID, [])
        where = (events.c.site_id == site_id) & in_ranges(events.c.occurred_at, raw) \
            if raw else None
        if raw:
            started += await count_sessions_started(conn, site_id, raw)
        visitors = 0
        if where is not None:
            columns = [
                func.coalesce(func.sum(case((events.c.type == "pageview", 1), else_=0)), 0),
                func.coalesce(func.sum(case((events.c.is_conversion, 1), else_=0)), 0),
            ]
            if rolled is None:  # exact; otherwise estimated below from sketches + raw ids
                columns.append(func.count(events.c.visitor_id.distinct()))
            row = (await conn.execute(select(*columns).where(where))).one()
            pageviews, conversions = pageviews + int(row[0]), conversions + int(row[1])
            if rolled is None:
                visitors = int(row[2])
            money_rows += (await conn.execute(
                select(events.c.revenue_currency, func.sum(events.c.revenue_micros))
                .where(where, events.c.revenue_currency.is_not(None))
                .group_by(events.c.revenue_currency))).all()
        if rolled is not None:
            extra = []
            if where is not None:
                extra = (await conn.execute(
                    select(events.c.visitor_id).distinct().where(where))).scalars().all()
            visitors = hll.estimate(hll.merged(blobs, extra))
    return Kpis(visitors=visitors, sessions=started, pageviews=pageviews,
                conversions=conversions, revenue=money_totals(money_rows))


async def count_sessions_started(conn, site_id: uuid.UUID, ranges: list[tuple[int, int]]
                                 ) -> int:
    return int((await conn.execute(
        select(func.count()).select_from(sessions)
        .where(sessions.c.site_id == site_id, in_ranges(sessions.c.started_at, ranges))
    )).scalar_one())


async def sessions_started(conn, site_id: uuid.UUID, range: Range) -> int:
    """Sessions that started in the range: whole covered hours from rollup_hourly.sessions,
    the rest counted in `sessions`."""
    rolled, raw = rollups.split(range.start, range.end, await rollups.coverage(conn, site_id))
    total = await count_sessions_started(conn, site_id, raw) if raw else 0
    if rolled is not None:
        h = rollup_hourly.c
        total += int((await conn.execute(
            select(func.coalesce(func.sum(h.sessions), 0))
            .where(h.site_id == site_id, h.goal_id == rollups.NIL_UUID, h.currency == "",
                   h.hour >= rolled[0], h.hour < rolled[1]))).scalar_one())
    return total


async def goal_stats(db: Database, *, site_id: uuid.UUID, range: Range,
                     goals: list[GoalRecord] | None = None) -> list[GoalStats]:
    """`goals`: the site's goals in priority order when the caller has them already."""
    if goals is None:
        goals = await goals_service.list_goals(db, site_id=site_id)
    if not goals:
        return []
    counts: dict[uuid.UUID, int] = defaultdict(int)
    exact_visitors: dict[uuid.UUID, int] = {}
    money: dict[uuid.UUID, list[tuple[str, int]]] = defaultdict(list)
    blobs: dict[uuid.UUID, list[bytes]] = defaultdict(list)
    raw_ids: dict[uuid.UUID, list[str]] = defaultdict(list)
    async with db.replica.connect() as conn:
        rolled, raw = rollups.split(range.start, range.end, await rollups.coverage(conn, site_id))
        if rolled is not None:
            h = rollup_hourly.c
            for goal_id, currency, n, micros in await conn.execute(
                    select(h.goal_id, h.currency, func.sum(h.events), func.sum(h.revenue_micros))
                    .where(h.site_id == site_id, h.goal_id != rollups.NIL_UUID,
                           h.hour >= rolled[0], h.hour < rolled[1])
                    .group_by(h.goal_id, h.currency)):
                if currency == "":
                    counts[goal_id] += int(n or 0)
                else:
                    money[goal_id].append((currency, micros))
            blobs = await rollups.sketches(conn, site_id, *rolled, site_wide=False)
        if raw:
            where = ((events.c.site_id == site_id) & in_ranges(events.c.occurred_at, raw)
                     & events.c.goal_id.is_not(None))
            columns = [events.c.goal_id, func.count()]
            if rolled is None:  # exact; otherwise estimated below from sketches + raw ids
                columns.append(func.count(events.c.visitor_id.distinct()))
            for row in await conn.execute(
                    select(*columns).where(where).group_by(events.c.goal_id)):
                counts[row[0]] += int(row[1])
                if rolled is None:
                    exact_visitors[row[0]] = int(row[2])
            for goal_id, currency, micros in await conn.execute(
                    select(events.c.goal_id, events.c.revenue_currency,
                           func.sum(events.c.revenue_micros))
                    .where(where, events.c.revenue_currency.is_not(None))
                    .group_by(events.c.goal_id, events.c.revenue_currency)):
                money[goal_id].append((currency, micros))
            if rolled is not None:
                for goal_id, visitor in await conn.execute(
                        select(events.c.goal_id, events.c.visitor_id).distinct().where(where)):
                    raw_ids[goal_id].append(visitor)
    out = []
    for goal in goals:
        if rolled is None:
            visitors = exact_visitors.get(goal.id, 0)
        else:
            visitors = hll.estimate(hll.merged(blobs.get(goal.id, ()),
                                                       raw_ids.get(goal.id, ())))
        out.append(GoalStats(goal, counts.get(goal.id, 0), visitors,
                             money_totals(money.get(goal.id, []))))
    return out

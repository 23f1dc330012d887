"""Site KPIs and per-goal stats over a half-open time range [start, end).

Definitions (also in the GraphQL docstrings):

* visitors    - distinct `visitor_id` among the site's events that occurred in the range;
* sessions    - sessions that *started* in the range;
* pageviews   - pageview events that occurred in the range;
* conversions - events in the range that matched a goal counting as a conversion at the time
                they arrived (`events.is_conversion`);
* conversion rate - conversions / visitors x 100, 0 when there are no visitors (can exceed 100
                when visitors convert more than once);
* revenue     - the sum of the revenue of *every* event in the range that carried revenue
                (whether or not it matched a goal), one exact amount per currency; amounts are
                never converted between currencies.

Goal stats, for every goal of the site (priority order, zeros included), over the events in the
range that recorded that goal at ingestion:

* conversions    - how many such events (completions of the goal);
* uniqueVisitors - distinct visitors among them;
* revenue        - the sum of their revenue, per currency.

Money is summed as integer millionths in SQL (exact on SQLite and PostgreSQL) and returned as
Decimal through `server.money.to_decimal`; no float is involved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, func, select

from server.db.engine import Database
from server.db.models import events, sessions
from server.goals import service as goals_service
from server.goals.service import GoalRecord
from server.money import to_decimal
from server.stats.ranges import Range


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


def money_list(rows) -> list[Money]:
    """(currency, micros) rows -> Money sorted by currency. A currency whose amounts sum to
    zero (e.g. a refund) is kept: it had revenue events."""
    return [Money(to_decimal(int(micros)), currency)
            for currency, micros in sorted(rows) if micros is not None]


def _in_range(column, r: Range):
    return (column >= r.start) & (column < r.end)


async def kpis(db: Database, *, site_id: uuid.UUID, range: Range) -> Kpis:
    where = (events.c.site_id == site_id) & _in_range(events.c.occurred_at, range)
    sessions_started = (
        select(func.count()).select_from(sessions)
        .where(sessions.c.site_id == site_id, _in_range(sessions.c.started_at, range))
        .scalar_subquery()
    )
    totals = select(
        func.count(events.c.visitor_id.distinct()).label("visitors"),
        func.coalesce(func.sum(case((events.c.type == "pageview", 1), else_=0)), 0)
        .label("pageviews"),
        func.coalesce(func.sum(case((events.c.is_conversion, 1), else_=0)), 0)
        .label("conversions"),
        sessions_started.label("sessions"),
    ).where(where)
    revenue = (
        select(events.c.revenue_currency, func.sum(events.c.revenue_micros))
        .where(where, events.c.revenue_currency.is_not(None))
        .group_by(events.c.revenue_currency)
    )
    async with db.read.connect() as conn:
        row = (await conn.execute(totals)).one()
        money = money_list((await conn.execute(revenue)).all())
    return Kpis(visitors=int(row.visitors), sessions=int(row.sessions),
                pageviews=int(row.pageviews), conversions=int(row.conversions), revenue=money)


async def goal_stats(db: Database, *, site_id: uuid.UUID, range: Range) -> list[GoalStats]:
    goals = await goals_service.list_goals(db, site_id=site_id)
    if not goals:
        return []
    where = ((events.c.site_id == site_id) & _in_range(events.c.occurred_at, range)
             & events.c.goal_id.is_not(None))
    counts = (
        select(events.c.goal_id, func.count().label("n"),
               func.count(events.c.visitor_id.distinct()).label("visitors"))
        .where(where).group_by(events.c.goal_id)
    )
    revenue = (
        select(events.c.goal_id, events.c.revenue_currency, func.sum(events.c.revenue_micros))
        .where(where, events.c.revenue_currency.is_not(None))
        .group_by(events.c.goal_id, events.c.revenue_currency)
    )
    async with db.read.connect() as conn:
        by_goal = {r.goal_id: r for r in await conn.execute(counts)}
        money: dict[uuid.UUID, list[tuple[str, int]]] = {}
        for goal_id, currency, micros in await conn.execute(revenue):
            money.setdefault(goal_id, []).append((currency, micros))
    out = []
    for goal in goals:
        row = by_goal.get(goal.id)
        out.append(GoalStats(goal, int(row.n) if row else 0, int(row.visitors) if row else 0,
                             money_list(money.get(goal.id, []))))
    return out

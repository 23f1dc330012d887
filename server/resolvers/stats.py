"""kpis, goalStats, timeseries, breakdown, cohort, liveVisitors: the numbers come from
server.stats."""

from __future__ import annotations

import strawberry

from server.errors import NotFound
from server.schema.common import DateRange, given, money_list, to_range
from server.schema.goals import Goal
from server.schema.permissions import parse_gid
from server.schema.sites import site_or_raise
from server.schema.stats import (
    BreakdownRow,
    Cohort,
    CohortComparison,
    Dimension,
    GoalStats,
    Interval,
    Kpis,
    StatsFilter,
    TimeseriesBucket,
)
from server.stats import breakdown as breakdown_stats
from server.stats import cohort as cohort_stats
from server.stats import kpis as kpi_stats
from server.stats import timeseries as timeseries_stats

Filters = list[StatsFilter] | None


def _filters(filters: Filters) -> tuple[breakdown_stats.Filter, ...]:
    return tuple(f.to_filter() for f in given(filters) or ())


async def kpis(info: strawberry.Info, site_id: strawberry.ID,
               range: DateRange | None = strawberry.UNSET,
               filters: Filters = strawberry.UNSET) -> Kpis:
    db = info.context.db
    r = to_range(range)
    chosen = _filters(filters)
    site = await site_or_raise(info, site_id)
    if chosen:
        k = await breakdown_stats.filtered_kpis(db, site_id=site.id, range=r, filters=chosen)
    else:
        k = await kpi_stats.kpis(db, site_id=site.id, range=r)
    return Kpis(visitors=k.visitors, sessions=k.sessions, pageviews=k.pageviews,
                conversions=k.conversions, conversion_rate=k.conversion_rate,
                revenue=money_list(k.revenue))


async def goal_stats(info: strawberry.Info, site_id: strawberry.ID,
                     range: DateRange | None = strawberry.UNSET,
                     filters: Filters = strawberry.UNSET) -> list[GoalStats]:
    db = info.context.db
    r = to_range(range)
    chosen = _filters(filters)
    site = await site_or_raise(info, site_id)
    goals = await info.context.loaders.goals_of_site.load(site.id)
    if chosen:
        stats = await breakdown_stats.filtered_goal_stats(db, site_id=site.id, range=r,
                                                          goals=goals, filters=chosen)
    else:
        stats = await kpi_stats.goal_stats(db, site_id=site.id, range=r, goals=goals)
    return [GoalStats(goal=Goal.of(s.goal), conversions=s.conversions,
                      unique_visitors=s.unique_visitors, revenue=money_list(s.revenue))
            for s in stats]


async def timeseries(info: strawberry.Info, site_id: strawberry.ID,
                     range: DateRange | None = strawberry.UNSET,
                     interval: Interval = Interval.DAY,
                     filters: Filters = strawberry.UNSET,
                     goal_id: strawberry.ID | None = strawberry.UNSET) -> list[TimeseriesBucket]:
    """Visitors, conversions and revenue per day or hour of the site's time zone, empty
    buckets included (at most 2000 buckets). With goalId: only the events that recorded that
    goal (conversions: how many; visitors: who), as goalStats counts them."""
    db = info.context.db
    r = to_range(range)
    chosen = _filters(filters)
    site = await site_or_raise(info, site_id)
    goal = given(goal_id)
    buckets = await timeseries_stats.timeseries(
        db, site_id=site.id, tz_name=site.timezone, range=r, interval=interval.value,
        filters=chosen, goal_id=None if goal is None else parse_gid(goal, "goalId"))
    return [TimeseriesBucket(start=b.start, end=b.end, visitors=b.visitors,
                             conversions=b.conversions, revenue=money_list(b.revenue))
            for b in buckets]


async def breakdown(info: strawberry.Info, site_id: strawberry.ID, by: Dimension,
                    range: DateRange | None = strawberry.UNSET,
                    goal_id: strawberry.ID | None = strawberry.UNSET,
                    filters: Filters = strawberry.UNSET,
                    first: int | None = breakdown_stats.DEFAULT_ROWS) -> list[BreakdownRow]:
    """Visitors, conversions, conversion rate and revenue per value of a dimension, most
    visitors first (then by value); sessions without a value form the row with value null."""
    r = to_range(range)
    goal = given(goal_id)
    chosen = _filters(filters)
    site = await site_or_raise(info, site_id)
    rows = await breakdown_stats.breakdown(
        info.context.db, site_id=site.id, by=by.value, range=r,
        goal_id=None if goal is None else parse_gid(goal, "goalId"), filters=chosen,
        first=first)
    return [BreakdownRow.of(row) for row in rows]


async def cohort(info: strawberry.Info, site_id: strawberry.ID, goal_id: strawberry.ID,
                 range: DateRange | None = strawberry.UNSET,
                 days: int | None = cohort_stats.DEFAULT_DAYS) -> CohortComparison:
    """The people who recorded the goal in the range against the others of the range, with
    their revenue within `days` after their first event in the range."""
    r = to_range(range)
    goal_uuid = parse_gid(goal_id, "goalId")
    site = await site_or_raise(info, site_id)
    goal = await info.context.loaders.goal.load(goal_uuid)
    if goal is None or goal.site_id != site.id:
        raise NotFound("no such goal on this site", field="goalId")
    c = await cohort_stats.cohort(info.context.db, site_id=site.id, goal_id=goal.id, range=r,
                                  days=days)
    return CohortComparison(goal=Goal.of(goal), days=c.days, converted=Cohort.of(c.converted),
                            others=Cohort.of(c.others))


async def live_visitors(info: strawberry.Info, site_id: strawberry.ID) -> int:
    """Distinct visitors with an event in the last five minutes."""
    site = await site_or_raise(info, site_id)
    return await cohort_stats.live_visitors(info.context.db, site_id=site.id)

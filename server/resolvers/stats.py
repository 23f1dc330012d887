"""kpis, goalStats, timeseries: the numbers come from server.stats."""

from __future__ import annotations

import strawberry

from server.schema.common import DateRange, given, money_list, to_range
from server.schema.permissions import parse_gid
from server.schema.goals import Goal
from server.schema.sites import site_or_raise
from server.schema.stats import GoalStats, Interval, Kpis, TimeseriesBucket
from server.stats import kpis as kpi_stats
from server.stats import timeseries as timeseries_stats


async def kpis(info: strawberry.Info, site_id: strawberry.ID,
               range: DateRange | None = strawberry.UNSET) -> Kpis:
    db = info.context.db
    r = to_range(range)
    site = await site_or_raise(info, site_id)
    k = await kpi_stats.kpis(db, site_id=site.id, range=r)
    return Kpis(visitors=k.visitors, sessions=k.sessions, pageviews=k.pageviews,
                conversions=k.conversions, conversion_rate=k.conversion_rate,
                revenue=money_list(k.revenue))


async def goal_stats(info: strawberry.Info, site_id: strawberry.ID,
                     range: DateRange | None = strawberry.UNSET) -> list[GoalStats]:
    db = info.context.db
    r = to_range(range)
    site = await site_or_raise(info, site_id)
    stats = await kpi_stats.goal_stats(
        db, site_id=site.id, range=r,
        goals=await info.context.loaders.goals_of_site.load(site.id))
    return [GoalStats(goal=Goal.of(s.goal), conversions=s.conversions,
                      unique_visitors=s.unique_visitors, revenue=money_list(s.revenue))
            for s in stats]


async def timeseries(info: strawberry.Info, site_id: strawberry.ID,
                     range: DateRange | None = strawberry.UNSET,
                     interval: Interval = Interval.DAY,
                     goal_id: strawberry.ID | None = strawberry.UNSET) -> list[TimeseriesBucket]:
    """Visitors, conversions and revenue per day or hour of the site's time zone, empty
    buckets included (at most 2000 buckets). With goalId: only the events that recorded that
    goal (conversions: how many; visitors: who), as goalStats counts them."""
    db = info.context.db
    r = to_range(range)
    site = await site_or_raise(info, site_id)
    goal = given(goal_id)
    buckets = await timeseries_stats.timeseries(
        db, site_id=site.id, tz_name=site.timezone, range=r, interval=interval.value,
        goal_id=None if goal is None else parse_gid(goal, "goalId"))
    return [TimeseriesBucket(start=b.start, end=b.end, visitors=b.visitors,
                             conversions=b.conversions, revenue=money_list(b.revenue))
            for b in buckets]

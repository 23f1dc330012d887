"""KPIs, goal stats and the time series. Definitions: server/stats/kpis.py."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from server.schema.common import Money, given, money_list
from server.schema.goals import Goal
from server.stats import breakdown as breakdown_stats
from server.stats import cohort as cohort_stats


@strawberry.type(description=(
    "Over a half-open range [from, to). visitors: distinct visitors with an event in the range; "
    "sessions: sessions started in the range; pageviews: pageview events in the range; "
    "conversions: events in the range that matched a goal counting as a conversion; "
    "revenue: the sum of the revenue of every event in the range that carried revenue, one "
    "exact amount per currency."))
class Kpis:
    visitors: int
    sessions: int
    pageviews: int
    conversions: int
    conversion_rate: float = strawberry.field(
        description="conversions / visitors x 100; 0 when there are no visitors.")
    revenue: list[Money] = strawberry.field(description="One entry per currency.")


@strawberry.type(description=(
    "Over the events in the range that recorded the goal: conversions = how many, "
    "uniqueVisitors = distinct visitors among them, revenue = their revenue per currency."))
class GoalStats:
    goal: Goal
    conversions: int
    unique_visitors: int
    revenue: list[Money]


@strawberry.enum
class Interval(enum.Enum):
    DAY = "DAY"
    HOUR = "HOUR"


@strawberry.type(description=(
    "One day or hour of the site's time zone: [start, end). Only events inside the requested "
    "range count, also in a first or last bucket that sticks out of it."))
class TimeseriesBucket:
    start: dt.datetime = strawberry.field(description="In the site's time zone.")
    end: dt.datetime
    visitors: int
    conversions: int
    revenue: list[Money]



Dimension = strawberry.enum(
    enum.Enum("Dimension", {d: d for d in breakdown_stats.DIMENSIONS}),
    description=("What a breakdown groups by: the session's attribution, fixed by its first "
                 "event (SOURCE, UTM_*, ENTRY_PAGE, BROWSER, OS, DEVICE), or PAGE, the path of "
                 "a pageview."))


@strawberry.input(description=(
    "Events of sessions whose dimension has this value (PAGE: events on that path). Several "
    "filters all hold; values are compared exactly."))
class StatsFilter:
    dimension: Dimension
    value: str | None = strawberry.field(
        default=strawberry.UNSET, description='null: the sessions without a value ("(none)").')

    def to_filter(self) -> breakdown_stats.Filter:
        return breakdown_stats.Filter(self.dimension.value, given(self.value))


@strawberry.type(description=(
    "visitors as in kpis; conversions: events that recorded the goal (goalId) or any "
    "conversion goal; conversionRate: conversions / visitors x 100; revenue: that of those "
    "events. PAGE rows: visitors with a pageview of that path, conversions and revenue of the "
    "goal events whose page was that path."))
class BreakdownRow:
    value: str | None = strawberry.field(description="null: the sessions without a value.")
    visitors: int
    conversions: int
    conversion_rate: float
    revenue: list[Money]

    @classmethod
    def of(cls, row: breakdown_stats.Row) -> "BreakdownRow":
        return cls(value=row.value, visitors=row.visitors, conversions=row.conversions,
                   conversion_rate=row.conversion_rate, revenue=money_list(row.revenue))


@strawberry.type(description=(
    "A group of people (user_id, else anonymous_id, else the daily visitor hash, which cannot "
    "follow anyone past a day) and their revenue within `days` after their first event in the "
    "range."))
class Cohort:
    visitors: int
    revenue: list[Money]
    revenue_per_visitor: list[Money] = strawberry.field(
        description="revenue / visitors, rounded half-even to the currency's minor unit.")

    @classmethod
    def of(cls, group: cohort_stats.Cohort) -> "Cohort":
        return cls(visitors=group.visitors, revenue=money_list(group.revenue),
                   revenue_per_visitor=money_list(group.revenue_per_visitor))


@strawberry.type(description=(
    "converted: the people who recorded the goal in the range; others: the people of the range "
    "who did not."))
class CohortComparison:
    goal: Goal
    days: int
    converted: Cohort
    others: Cohort

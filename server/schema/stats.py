"""KPIs, goal stats and the time series. Definitions: server/stats/kpis.py."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from server.schema.common import Money
from server.schema.goals import Goal


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


"""Types and inputs shared by several features: Money, DateRange, PageInfo."""

from __future__ import annotations

import datetime as dt
import decimal

import strawberry

from server.stats import kpis as kpi_stats
from server.stats.ranges import Range, resolve_range


@strawberry.type(description="An exact amount of one currency.")
class Money:
    amount: decimal.Decimal
    currency: str = strawberry.field(description="ISO 4217 code, upper case.")

    @classmethod
    def of(cls, money: kpi_stats.Money) -> "Money":
        return cls(amount=money.amount, currency=money.currency)


def money_list(items: list[kpi_stats.Money]) -> list[Money]:
    return [Money.of(m) for m in items]


@strawberry.input(description="Half-open [from, to). Omitted: the last 30 days up to now.")
class DateRange:
    from_: dt.datetime = strawberry.field(name="from")
    to: dt.datetime


def given(value):
    """An omitted argument or input field (strawberry.UNSET) is None; anything else as is."""
    return None if value is strawberry.UNSET else value


def to_range(value: DateRange | None) -> Range:
    if given(value) is None:
        return resolve_range()
    return resolve_range(value.from_, value.to)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

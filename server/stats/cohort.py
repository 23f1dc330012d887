"""Cohorts (contract §8) and live visitors.

Cohort: the people who recorded a goal in the range against the people of the range who did
not, with each group's revenue within `days` after each person's first event in the range (the
window may reach past the range's end). A person is the event's `user_id`, else its visitor id
(the `anonymous_id`, else the daily visitor hash, which cannot follow anyone past a day).
Revenue is that of every event carrying revenue, as in kpis, exact per currency;
revenuePerVisitor is it divided by the group's people, rounded half-even to the currency's ISO
4217 minor unit (the `iso4217` package; a currency without one keeps our six places).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from iso4217 import Currency
from sqlalchemy import case, func, select

from server.clock import now_us
from server.db.engine import Database
from server.db.models import events
from server.errors import InvalidInput
from server.money import PLACES
from server.stats.kpis import Money, money_totals
from server.stats.ranges import DAY_US, Range

DEFAULT_DAYS = 30
MAX_DAYS = 366
LIVE_US = 5 * 60 * 1_000_000


@dataclass(frozen=True, slots=True)
class Cohort:
    visitors: int
    revenue: list[Money]

    @property
    def revenue_per_visitor(self) -> list[Money]:
        if not self.visitors:
            return []
        return [Money(per_visitor(m.amount, self.visitors, m.currency), m.currency)
                for m in self.revenue]


@dataclass(frozen=True, slots=True)
class Comparison:
    days: int
    converted: Cohort
    others: Cohort


def minor_unit(currency: str) -> int:
    try:
        exponent = Currency[currency].exponent
    except KeyError:
        return PLACES
    return PLACES if exponent is None else exponent


def per_visitor(amount: Decimal, visitors: int, currency: str) -> Decimal:
    """amount / visitors, rounded half-even to the currency's minor unit (exact: amounts have at
    most six places, far inside Decimal's 28 digits)."""
    return (amount / visitors).quantize(Decimal(1).scaleb(-minor_unit(currency)),
                                        rounding=ROUND_HALF_EVEN)


async def cohort(db: Database, *, site_id: uuid.UUID, goal_id: uuid.UUID, range: Range,
                 days: int | None = DEFAULT_DAYS) -> Comparison:
    days = DEFAULT_DAYS if days is None else days
    if days < 1 or days > MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}", field="days")
    window = days * DAY_US
    person = func.coalesce(events.c.user_id, events.c.visitor_id)
    people = (
        select(person.label("person"), func.min(events.c.occurred_at).label("first_at"),
               func.max(case((events.c.goal_id == goal_id, 1), else_=0)).label("converted"))
        .where(events.c.site_id == site_id, events.c.occurred_at >= range.start,
               events.c.occurred_at < range.end)
        .group_by(person)
        .subquery("people")
    )
    paid = (
        select(person.label("person"), events.c.occurred_at.label("at"),
               events.c.revenue_currency.label("currency"),
               events.c.revenue_micros.label("micros"))
        .where(events.c.site_id == site_id, events.c.occurred_at >= range.start,
               events.c.occurred_at < range.end + window,
               events.c.revenue_currency.is_not(None))
        .subquery("paid")
    )
    revenue = (
        select(people.c.converted, paid.c.currency, func.sum(paid.c.micros))
        .select_from(people)
        .join(paid, (paid.c.person == people.c.person) & (paid.c.at >= people.c.first_at)
              & (paid.c.at < people.c.first_at + window))
        .group_by(people.c.converted, paid.c.currency)
    )
    async with db.read.connect() as conn:
        counts = {int(c): int(n) for c, n in await conn.execute(
            select(people.c.converted, func.count()).group_by(people.c.converted))}
        money: dict[int, list] = {0: [], 1: []}
        for converted, currency, micros in await conn.execute(revenue):
            money[int(converted)].append((currency, micros))
    return Comparison(days, Cohort(counts.get(1, 0), money_totals(money[1])),
                      Cohort(counts.get(0, 0), money_totals(money[0])))


async def live_visitors(db: Database, *, site_id: uuid.UUID, now: int | None = None) -> int:
    """Distinct visitors with an event in the last five minutes."""
    since = (now_us() if now is None else now) - LIVE_US
    async with db.read.connect() as conn:
        return int((await conn.execute(
            select(func.count(events.c.visitor_id.distinct()))
            .where(events.c.site_id == site_id, events.c.occurred_at >= since))).scalar_one())

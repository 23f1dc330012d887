"""Breakdowns and filters by attribution (contract §8), over a half-open range [start, end).

Dimensions: the session's attribution (SOURCE, UTM_*, ENTRY_PAGE, BROWSER, OS, DEVICE: fixed by
its first event, server/ingest/attribution.py) and PAGE (the path of an event).

* A filter on a session dimension selects the events of the sessions with that value (`value`
  None: the sessions without one); a PAGE filter selects the events whose path is that value,
  and its visitors are the visitors with a pageview of that path. Several filters all hold.
* Per breakdown row: `visitors` - distinct visitors with an event in the range in that group (as
  in kpis); `conversions` - the group's events that recorded the goal (`goal_id`), or any goal
  counting as a conversion (without it); `revenue` - the revenue of those events, per currency.
  PAGE rows: visitors with a pageview of that path, conversions and revenue of the goal events
  whose page was that path. Rows come most visitors first, then by value (the null row last
  among equals).

Everything is exact (count(DISTINCT) and integer sums). Visitors of session dimensions are
counted on the sessions table: a session with its first and last event inside the range has an
event in it; only sessions crossing an end of the range are checked against their events.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from collections import defaultdict

import numpy as np
import orjson
from sqlalchemy import and_, case, exists, func, or_, select

from server.clock import hour_of
from server.db import hll
from server.db.engine import Database
from server.db.models import events, sessions
from server.errors import InvalidInput
from server.stats import dimension_rollups, rollups
from server.stats.kpis import GoalStats, Kpis, Money, money_totals
from server.stats.ranges import Range, in_ranges

# the session dimensions' columns and PAGE (the event's path): dimension_rollups' own
SESSION_COLUMNS, PAGE = dimension_rollups.SESSION_COLUMNS, dimension_rollups.PAGE
DIMENSIONS = ("SOURCE", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_TERM", "UTM_CONTENT",
              "ENTRY_PAGE", PAGE, "BROWSER", "OS", "DEVICE")
DEFAULT_ROWS = 20
MAX_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Filter:
    dimension: str
    value: str | None


@dataclass(frozen=True, slots=True)
class Row:
    value: str | None
    visitors: int
    conversions: int
    revenue: list[Money] = field(default_factory=list)

    @property
    def conversion_rate(self) -> float:
        return self.conversions / self.visitors * 100 if self.visitors else 0.0


def _equals(column, value: str | None):
    return column.is_(None) if value is None else column == value


class Scope:
    """The events (and sessions) that a site, a range and filters select."""

    def __init__(self, site_id: uuid.UUID, r: Range, filters: tuple[Filter, ...] | list = ()):
        for f in filters:
            if f.dimension not in DIMENSIONS:
                raise InvalidInput(f"unknown dimension {f.dimension!r}", field="filters")
        self.site_id, self.range = site_id, r
        self.session = [_equals(sessions.c[SESSION_COLUMNS[f.dimension]], f.value)
                        for f in filters if f.dimension != PAGE]
        self.pages = [f.value for f in filters if f.dimension == PAGE]

    def joins_sessions(self, by: str | None = None) -> bool:
        return bool(self.session) or (by is not None and by != PAGE)

    def source(self, by: str | None = None):
        if not self.joins_sessions(by):
            return events
        return events.join(sessions, and_(sessions.c.site_id == events.c.site_id,
                                          sessions.c.id == events.c.session_id))

    def events_where(self, by: str | None = None,
                     ranges: list[tuple[int, int]] | None = None) -> list:
        """`ranges`: parts of the range instead of all of it."""
        parts = [(self.range.start, self.range.end)] if ranges is None else ranges
        joined = self.joins_sessions(by)
        when = [and_(events.c.occurred_at >= a, events.c.occurred_at < b,
                     # implied (a session spans its events), and they let PostgreSQL hash-join
                     # the few sessions of a recent hour instead of looking each event's up
                     *(_sessions_overlapping(a, b) if joined else ()))
                for a, b in parts]
        where = [events.c.site_id == self.site_id, when[0] if len(when) == 1 else or_(*when),
                 *self.session, *(_equals(events.c.path, page) for page in self.pages)]
        if joined:
            where.append(sessions.c.site_id == self.site_id)
        return where

    def visitors_by_events(self) -> bool:
        """With a PAGE filter the visitors are those of its pageviews: counted on events."""
        return bool(self.pages)

    def sessions_where(self) -> list:
        """Sessions in scope with at least one event in the range."""
        r = self.range
        inside = and_(sessions.c.started_at >= r.start, sessions.c.last_seen_at < r.end)
        has_event = exists().where(events.c.site_id == sessions.c.site_id,
                                   events.c.session_id == sessions.c.id,
                                   events.c.occurred_at >= r.start, events.c.occurred_at < r.end)
        return [sessions.c.site_id == self.site_id, *_sessions_overlapping(r.start, r.end),
                *self.session, or_(inside, has_event)]


def _sessions_overlapping(start: int, end: int) -> tuple:
    """Sessions with a moment in [start, end). The sessions index is by the hour of their last
    event (models.py says why), not by the moment: the hour's bound finds them, the moment's
    keeps the right ones."""
    return (sessions.c.last_seen_hour >= hour_of(start), sessions.c.last_seen_at >= start,
            sessions.c.started_at < end)


def dimension_column(by: str):
    return events.c.path if by == PAGE else sessions.c[SESSION_COLUMNS[by]]


# conversions and revenue: the events of the partial index ix_events_site_id_occurred_at_money,
# written as its predicate so that both databases use it
MONEY = or_(events.c.is_conversion, events.c.revenue_currency.is_not(None))


def counted(goal_id: uuid.UUID | None):
    """The events a breakdown counts as conversions."""
    if goal_id is not None:
        return events.c.goal_id == goal_id
    return and_(MONEY, events.c.is_conversion)


async def _rollup_spans(conn, site_id: uuid.UUID, r: Range):
    """(the rows standing for the range's whole covered hours or None, the raw rest: its
    partial hours, and the hours whose rows are not built yet)."""
    rolled, raw = rollups.split(r.start, r.end, await rollups.coverage(conn, site_id))
    if rolled is None:
        return None, raw
    spans, stale = await dimension_rollups.spans(conn, site_id, *rolled)
    return spans, _merged_runs(raw + stale)


def _merged_runs(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted(runs):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


async def breakdown(db: Database, *, site_id: uuid.UUID, by: str, range: Range,
                    goal_id: uuid.UUID | None = None, filters: tuple[Filter, ...] = (),
                    first: int | None = DEFAULT_ROWS) -> list[Row]:
    first = DEFAULT_ROWS if first is None else first
    if by not in DIMENSIONS:
        raise InvalidInput(f"unknown dimension {by!r}", field="by")
    if first < 0 or first > MAX_ROWS:
        raise InvalidInput(f"first must be between 0 and {MAX_ROWS}", field="first")
    scope = Scope(site_id, range, filters)
    column = dimension_column(by)
    async with db.replica.connect() as conn:
        spans, raw = None, None
        if not filters:
            spans, raw = await _rollup_spans(conn, site_id, range)
        if spans is not None:
            return await _rolled_breakdown(db, conn, scope, by, column, spans, raw, goal_id,
                                           first)
        seen = await _visitors_by_value(conn, scope, by, column)
        conversions, money = await _raw_conversions(conn, scope, by, column, None, goal_id)
    rows = [Row(value, seen.get(value, 0), conversions.get(value, 0),
                money_totals(money.get(value, [])))
            for value in seen.keys() | conversions.keys()]
    rows.sort(key=_order)
    return rows[:first]


def _order(row: Row):
    return (-row.visitors, row.value is None, row.value or "")


async def _raw_conversions(conn, scope: Scope, by: str, column, raw, goal_id):
    """value -> conversions, value -> [(currency, micros)] of the goal events of the range (or
    of its raw parts)."""
    conversions: dict[str | None, int] = defaultdict(int)
    money: dict[str | None, list] = defaultdict(list)
    for value, currency, n, micros in await conn.execute(
            select(column, events.c.revenue_currency, func.count(),
                   func.sum(events.c.revenue_micros))
            .select_from(scope.source(by))
            .where(*scope.events_where(by, raw), counted(goal_id))
            .group_by(column, events.c.revenue_currency)):
        conversions[value] += int(n)
        if currency is not None:
            money[value].append((currency, micros))
    return conversions, money


@dataclass
class _RawPart:
    """A rolled-up read's raw ends: per value hash, the visitors (with a pageview for PAGE) and
    the counted goal events."""
    values: dict[int, str | None] = field(default_factory=dict)
    visitors: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    conversions: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    converted: dict[int, list] = field(default_factory=lambda: defaultdict(list))

    def hash_of(self, value: str | None) -> int:
        h = dimension_rollups.value_hash(value)
        self.values[h] = value
        return h


async def _raw_part(db: Database, scope: Scope, by: str, column, raw, goal_id) -> _RawPart:
    """The raw ends' visitors per value, and their counted goal events, on a connection of
    their own: the read of the rollups goes on meanwhile (PostgreSQL runs the two at once)."""
    part = _RawPart()
    if not raw:
        return part
    async with db.replica.connect() as conn:
        # one row per value with its visitors as one list (with a pageview, for PAGE): a row
        # per value and visitor cost this read twice the CPU in Python (9.7 ms against 4.3 for
        # a 10M PAGE breakdown's 5,051 raw events)
        visitors = _distinct_list(conn, events.c.visitor_id)
        if by == PAGE:
            visitors = visitors.filter(events.c.type == "pageview")
        rows = await conn.execute(
            select(column, visitors).select_from(scope.source(by))
            .where(*scope.events_where(by, raw)).group_by(column))
        conversions, money = await _raw_conversions(conn, scope, by, column, raw, goal_id)
    lists = _lists(conn)
    for value, seen in rows:
        h = part.hash_of(value)
        if seen:
            part.visitors[h] = lists(seen)
    for value, n in conversions.items():
        part.conversions[part.hash_of(value)] += n
    for value, pairs in money.items():
        part.converted[part.hash_of(value)] += [(currency, int(m)) for currency, m in pairs]
    return part


def _distinct_list(conn, column):
    """An aggregate of the distinct values of a column as one list, in the database's way."""
    if conn.dialect.name == "postgresql":
        return func.array_agg(column.distinct())
    return func.json_group_array(column.distinct())


def _lists(conn):
    """Reads `_distinct_list`'s aggregate as a Python list."""
    return list if conn.dialect.name == "postgresql" else orjson.loads


def _ranked(bounds: np.ndarray) -> np.ndarray:
    """Positions by bound, highest first, ties in their order."""
    return np.argsort(-bounds, kind="stable")


def _bounds(summed: np.ndarray, part: _RawPart) -> tuple[list[int], list[int]]:
    """(every value hash, the bound of its visitors), highest bound first: the rollups' bounds
    and the raw ends' visitors added up, a value of the raw ends only (goal events) being one
    too. In numpy: a month of pages holds thousands of values, of which a few dozen are ever
    looked at."""
    hashes = summed["value_hash"]
    bounds = summed["visitors"].copy()
    raw = {h: len(part.visitors.get(h, ())) for h in (*part.visitors, *part.values)}
    extra: dict[int, int] = {}
    if raw:
        added = np.fromiter(raw.values(), dtype=np.int64, count=len(raw))
        at, rolled = dimension_rollups.positions(
            summed, np.fromiter(raw, dtype=np.int64, count=len(raw)))
        bounds[at[rolled]] += added[rolled]  # each hash once: no repeated positions
        extra = {h: n for (h, n), r in zip(raw.items(), rolled.tolist()) if not r}
    hashes = np.concatenate([hashes, np.fromiter(extra, dtype=np.int64, count=len(extra))])
    bounds = np.concatenate([bounds, np.fromiter(extra.values(), dtype=np.int64,
                                                 count=len(extra))])
    order = _ranked(bounds)
    return hashes[order].tolist(), bounds[order].tolist()


async def _rolled_breakdown(db: Database, conn, scope: Scope, by: str, column, spans, raw,
                            goal_id, first: int) -> list[Row]:
    """The top rows from the dimension rollups (and the raw ends of the range). Values are
    taken in order of an exact upper bound of their visitors (their hours' distinct visitors
    added up, and the raw ends' visitors), and their sketches merged, until the next bound is
    below the `first`-th best estimate found: no value left can enter the rows."""
    site_id = scope.site_id
    raw_part = asyncio.create_task(_raw_part(db, scope, by, column, raw, goal_id))
    try:
        summed = await dimension_rollups.totals(conn, site_id, by, spans)
        # the likely top values' sketches while the raw ends are read
        chunk = max(first, 1) + 10
        likely = summed["value_hash"][_ranked(summed["visitors"])[:chunk]].tolist() \
            if first else []
        blobs, values = await dimension_rollups.sketches(conn, site_id, by, spans, likely)
        money = await dimension_rollups.counters(conn, site_id, by, spans, goal_id=goal_id,
                                                 hashes=likely)
        part = await raw_part
    finally:
        raw_part.cancel()
    candidates, bound = _bounds(summed, part)  # bound[i]: of candidates[i]
    for h, value in part.values.items():
        values.setdefault(h, value)
    fetched = set(likely)
    seen: dict[int, int] = {}
    taken = 0
    while taken < len(candidates) and first:
        if len(seen) >= first:
            best = sorted(seen.values(), reverse=True)[first - 1]
            if bound[taken] < best:
                break
        batch = candidates[taken:taken + chunk]
        missing = [h for h in batch if h not in fetched]
        if missing:
            more, named = await dimension_rollups.sketches(conn, site_id, by, spans, missing)
            blobs.update(more)
            values.update(named)
            fetched.update(missing)
        for i, h in enumerate(batch, start=taken):
            # an estimate above the exact bound is the sketch's error: the bound is closer
            seen[h] = min(bound[i], hll.estimate(hll.merged(blobs.get(h, ()),
                                                            part.visitors.get(h, ()))))
        taken += len(batch)
        chunk *= 2
    asked = set(likely)
    rest = [h for h in seen if h not in asked]
    if rest:
        money.add(await dimension_rollups.counters(conn, site_id, by, spans, goal_id=goal_id,
                                                   hashes=rest))
    for h, value in money.values.items():
        values.setdefault(h, value)
    conversions = {h: part.conversions.get(h, 0) + money.conversions.get(h, 0) for h in seen}
    # a path of goal events without pageviews is a row only if it has conversions, as on events
    rows = [Row(values.get(h), n, conversions[h],
                money_totals(part.converted.get(h, []) + money.converted.get(h, [])))
            for h, n in seen.items() if n or conversions[h]]
    rows.sort(key=_order)
    return rows[:first]


async def _visitors_by_value(conn, scope: Scope, by: str, column) -> dict[str | None, int]:
    if by == PAGE or scope.visitors_by_events():
        query = (select(column, func.count(events.c.visitor_id.distinct()))
                 .select_from(scope.source(by))
                 .where(*scope.events_where(by), events.c.type == "pageview")
                 .group_by(column))
    else:
        query = (select(column, func.count(sessions.c.visitor_id.distinct()))
                 .where(*scope.sessions_where()).group_by(column))
    return {value: int(n) for value, n in await conn.execute(query)}


async def filtered_kpis(db: Database, *, site_id: uuid.UUID, range: Range,
                        filters: tuple[Filter, ...]) -> Kpis:
    """kpis over the filters' events, with the same definitions. One filter on a rolled-up
    dimension reads the covered whole hours from server/stats/dimension_rollups.py (visitors
    then estimated as kpis' are; counts and money exact); anything else reads the events."""
    scope = Scope(site_id, range, filters)
    pageview = events.c.type == "pageview"
    started = [sessions.c.site_id == site_id, sessions.c.started_at >= range.start,
               sessions.c.started_at < range.end, *scope.session]
    for page in scope.pages:
        started.append(exists().where(events.c.site_id == sessions.c.site_id,
                                      events.c.session_id == sessions.c.id,
                                      pageview, _equals(events.c.path, page)))
    visitors = pageviews = conversions = n_sessions = 0
    revenue: list = []
    async with db.replica.connect() as conn:
        spans, raw = None, [(range.start, range.end)]
        if len(filters) == 1 and filters[0].dimension in dimension_rollups.SESSION_COLUMNS:
            spans, raw = await _rollup_spans(conn, site_id, range)
        extra: set[str] = set()
        if raw and spans is not None:
            # the raw parts' events, one row each: visitors, pageviews and money at once
            for visitor, is_pageview, is_conversion, currency, micros in await conn.execute(
                    select(events.c.visitor_id, pageview, events.c.is_conversion,
                           events.c.revenue_currency, events.c.revenue_micros)
                    .select_from(scope.source()).where(*scope.events_where(ranges=raw))):
                extra.add(visitor)
                pageviews += is_pageview
                conversions += bool(is_conversion)
                if currency is not None:
                    revenue.append((currency, micros))
        elif raw:
            pageviews = int((await conn.execute(
                select(func.count()).select_from(scope.source())
                .where(*scope.events_where(ranges=raw), pageview))).scalar_one())
            for currency, converted, micros in await conn.execute(
                    select(events.c.revenue_currency,
                           func.sum(case((events.c.is_conversion, 1), else_=0)),
                           func.sum(events.c.revenue_micros))
                    .select_from(scope.source()).where(*scope.events_where(ranges=raw), MONEY)
                    .group_by(events.c.revenue_currency)):
                conversions += int(converted or 0)
                if currency is not None:
                    revenue.append((currency, micros))
        if spans is not None:
            dimension, value = filters[0].dimension, filters[0].value
            h = dimension_rollups.value_hash(value)
            blobs, _ = await dimension_rollups.sketches(conn, site_id, dimension, spans, [h])
            visitors = hll.estimate(hll.merged(blobs.get(h, ()), extra))
            totals = dimension_rollups.totals_of(
                await dimension_rollups.totals(conn, site_id, dimension, spans), h)
            if totals is not None:
                pageviews += int(totals["pageviews"])
                n_sessions += int(totals["sessions"])
            money = await dimension_rollups.counters(conn, site_id, dimension, spans,
                                                     hashes=[h])
            conversions += money.conversions.get(h, 0)
            revenue += money.revenue.get(h, [])
            if raw:
                started = [started[0], in_ranges(sessions.c.started_at, raw), *started[3:]]
        elif scope.visitors_by_events():
            visitors = int((await conn.execute(
                select(func.count(events.c.visitor_id.distinct())).select_from(scope.source())
                .where(*scope.events_where(), pageview))).scalar_one())
        else:
            visitors = int((await conn.execute(
                select(func.count(sessions.c.visitor_id.distinct()))
                .where(*scope.sessions_where()))).scalar_one())
        if spans is None or raw:
            n_sessions += int((await conn.execute(
                select(func.count()).select_from(sessions).where(*started))).scalar_one())
    return Kpis(visitors=visitors, sessions=n_sessions, pageviews=pageviews,
                conversions=conversions, revenue=money_totals(revenue))


async def filtered_goal_stats(db: Database, *, site_id: uuid.UUID, range: Range, goals: list,
                              filters: tuple[Filter, ...]) -> list[GoalStats]:
    """goalStats over the filters' events, exact."""
    scope = Scope(site_id, range, filters)
    where = [*scope.events_where(), events.c.goal_id.is_not(None)]
    counts = (select(events.c.goal_id, func.count(), func.count(events.c.visitor_id.distinct()))
              .select_from(scope.source()).where(*where).group_by(events.c.goal_id))
    revenue = (select(events.c.goal_id, events.c.revenue_currency,
                      func.sum(events.c.revenue_micros))
               .select_from(scope.source())
               .where(*where, events.c.revenue_currency.is_not(None))
               .group_by(events.c.goal_id, events.c.revenue_currency))
    async with db.replica.connect() as conn:
        found = {goal: (int(n), int(v)) for goal, n, v in await conn.execute(counts)}
        money: dict[uuid.UUID, list] = {}
        for goal, currency, micros in await conn.execute(revenue):
            money.setdefault(goal, []).append((currency, micros))
    return [GoalStats(goal, *found.get(goal.id, (0, 0)), money_totals(money.get(goal.id, [])))
            for goal in goals]

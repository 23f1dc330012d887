"""Rollups of the breakdown dimensions, by hour and by UTC day, for breakdowns and filtered KPIs.

Why: distinct visitors per source (or page, browser, ...) over a month of events is a
count(DISTINCT) over every event of the range joined to its session: 10-30 s at 10M events on
PostgreSQL. Merging sketches answers it in milliseconds, with the 0.81 % standard error of the
site's visitor counts (server/stats/rollups.py; exact up to a few thousand visitors).

What (server/db/models.py, migration 0008): per site, span (`hours` 1: a UTC hour; 24: a UTC
day), dimension and value (None: the sessions without one):
* `dimension_sketches`: the sketch of the visitors (session dimensions: of the span's events in
  sessions with that value; PAGE: of the span's pageviews of that path);
* `dimension_totals`: one row per span and dimension, every value's events, pageviews and
  sessions started (and a bound of its visitors) in it as one array (`TOTALS`), so ranking
  2,000 paths over a month reads
  ~80 rows, not 100,000;
* `dimension_counters`: their conversions and revenue per goal and currency (exact sums);
* `dimension_built`: per site and span, the site's rollup_hourly counters (events, pageviews,
  conversions, sessions started; a day's or week's summed) that the span's rows were built
  from.

Spans: hours are built from the events; a passed UTC day is merged from its 24 hours, a passed
week (Monday to Monday, UTC) from its 7 days, so a month reads ~4 weeks and a few days and hours
per value, a year ~52 weeks.

How they stay true without the writer knowing of them: a session's attribution never changes
once stored and an event's path never does, so a span's rows change only when events are added
to (or removed from) it or a session's start moves, and then rollup_hourly's counters for it -
maintained exactly in the writer's transaction - move. Rows stand for their span while the
counters equal the ones they were built from (`current`); erasure also drops the markers of the
spans it touched.

Who builds them: every server's maintenance (server/lifecycle/maintenance.py, `maintain` here)
builds the hours that have passed a minute or so after they pass, then merges each passed day's
24 hours into one day row per value and each passed week's days into week rows, one builder of
a site at a time (an advisory lock). A read never builds: an hour whose rows are missing or
stale (the hour that has just passed, a late event in an old one) is read from its events, so
a read costs at most that hour's raw events, never a build.

How a breakdown reads them (server/stats/breakdown.py): a month is the current week rows of its
whole weeks, day rows of its other whole days and hour rows of the rest. Values are ranked by an
exact upper bound of their visitors (TOTALS' `visitors`), and sketches are merged only for the
best candidates, until no value left can beat the rows already found: a breakdown by page over
thousands of paths merges a few dozen values' sketches, not all of them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import (
    and_, bindparam, delete, false, func, literal, or_, select, text, true, union_all,
)

from server.clock import DAY_US, HOUR_US, hour_of
from server.db import hll
from server.db.engine import Database
import numpy as np

from server.db.models import (
    NIL_UUID,
    dimension_built,
    dimension_counters,
    dimension_sketches,
    dimension_totals,
    events,
    rollup_coverage,
    rollup_hourly,
    sessions,
)
from server.stats.ranges import in_ranges

# the session dimensions and their sessions columns; PAGE is the event's path
SESSION_COLUMNS = {
    "SOURCE": "source", "UTM_SOURCE": "utm_source", "UTM_MEDIUM": "utm_medium",
    "UTM_CAMPAIGN": "utm_campaign", "UTM_TERM": "utm_term", "UTM_CONTENT": "utm_content",
    "ENTRY_PAGE": "entry_path", "BROWSER": "browser", "OS": "os", "DEVICE": "device",
}
PAGE = "PAGE"
ROLLED = (*SESSION_COLUMNS, PAGE)
HOUR, DAY, WEEK = 1, 24, 168  # `hours`: of an hour's rows, a UTC day's, a week's
WEEK_US = 7 * DAY_US
MONDAY = 4 * DAY_US  # weeks start on Monday, 00:00 UTC (1970-01-05 was a Monday)
SPAN_US = {HOUR: HOUR_US, DAY: DAY_US, WEEK: WEEK_US}
PARTS = {DAY: HOUR, WEEK: DAY}  # the spans a longer span is merged from


def span_start(hours: int, at):
    """The start of the span of that length holding `at` (a moment, or a column of them: the
    same arithmetic in SQL)."""
    return at - (at - MONDAY) % WEEK_US if hours == WEEK else at - at % SPAN_US[hours]


# pg_advisory_xact_lock(LOCK_CLASS, site): one builder of a site's dimension rows at a time
LOCK_CLASS = 0x67700D1

Counts = tuple[int, int, int, int]  # events, pageviews, conversions, sessions started
WRITE_ROWS = 5000
# rows a build tallies between two turns of the event loop: it runs inside a serving process,
# whose requests would otherwise wait for a whole busy hour's tally (~1 µs a row and dimension)
SLICE_ROWS = 2000
SPAN_TABLES = (dimension_sketches, dimension_counters, dimension_totals, dimension_built)

# a dimension_totals array: per value (sorted by hash), its events, pageviews, sessions started
# `visitors`: the span's hours' distinct visitors added up - at least the span's distinct
# visitors, so an upper bound of a value's visitors over any spans, far closer than its events
TOTALS = np.dtype([("value_hash", "<i8"), ("events", "<i8"), ("pageviews", "<i8"),
                   ("sessions", "<i8"), ("visitors", "<i8")])


def encode_totals(by_hash: dict[int, list[int]]) -> bytes:
    out = np.array([(h, *counts) for h, counts in sorted(by_hash.items())], dtype=TOTALS)
    return out.tobytes()


def summed_totals(blobs: Iterable[bytes]) -> np.ndarray:
    """The TOTALS arrays of several spans added up per value (exact integer sums)."""
    parts = [np.frombuffer(blob, dtype=TOTALS) for blob in blobs]
    every = np.concatenate(parts) if parts else np.zeros(0, dtype=TOTALS)
    if not len(every):
        return every
    # each array is sorted already: a stable sort (timsort) merges the runs, a third of the
    # time of the default quicksort at a month of a page dimension's arrays; only the columns
    # are reordered, not the whole records
    order = np.argsort(every["value_hash"], kind="stable")
    hashes = every["value_hash"][order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    out = np.empty(len(starts), dtype=TOTALS)
    out["value_hash"] = hashes[starts]
    for column in ("events", "pageviews", "sessions", "visitors"):
        out[column] = np.add.reduceat(every[column][order], starts)
    return out


# a read hashes each value of its raw ends (a month's PAGE breakdown: ~600), and the same
# values come back read after read and hour after hour
@functools.lru_cache(maxsize=16384)
def value_hash(value: str | None) -> int:
    """The key of a value in the rollups: 0 for None, else 64 bits of its BLAKE2b (never 0)."""
    if value is None:
        return 0
    h = int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big",
                       signed=True)
    return h or 1


# --------------------------------------------------------------------------- which rows stand


COUNT_NAMES = ("events", "pageviews", "conversions", "sessions")


def _counts(row) -> Counts | None:
    counts = tuple(int(row._mapping[name]) for name in COUNT_NAMES)
    return counts if any(counts) else None  # an hour whose events were all erased: none


def _wanted_query(site_id, hours: int, spanned: list[tuple]):
    """Per span of that length, the site's rollup_hourly counters (summed over the span's hours)
    in the spanned hours (`_spanned`: whole spans)."""
    h = rollup_hourly.c
    # span_start's arithmetic, on the column
    start = (h.hour if hours == HOUR else span_start(hours, h.hour)).label("start")
    counts = tuple(h[name] for name in COUNT_NAMES)
    if hours != HOUR:
        counts = tuple(func.sum(c) for c in counts)
    query = (select(false().label("built"), start,
                    *(c.label(name) for c, name in zip(counts, COUNT_NAMES)))
             .where(h.site_id == site_id, h.goal_id == NIL_UUID, h.currency == "",
                    in_ranges(h.hour, spanned)))
    return query if hours == HOUR else query.group_by(start)


def _built_query(site_id, hours: int, runs: list[tuple]):
    """The counters the rows of spans of that length starting in the runs were built from."""
    d = dimension_built.c
    return (select(true().label("built"), d.start,
                   *(d[name] for name in COUNT_NAMES))
            .where(d.site_id == site_id, d.hours == hours, in_ranges(d.start, runs)))


def _spanned(hours: int, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The hours of the spans of that length that start in the runs."""
    return [(a, span_start(hours, b - 1) + SPAN_US[hours]) for a, b in runs]


async def _wanted(conn, site_id: uuid.UUID, runs: list[tuple[int, int]]) -> dict[int, Counts]:
    """hour -> the site's rollup_hourly counters, for the hours in these runs that have any."""
    rows = await conn.execute(_wanted_query(site_id, HOUR, _spanned(HOUR, runs)))
    return {row.start: counts for row in rows if (counts := _counts(row)) is not None}


async def _built(conn, site_id: uuid.UUID, hours: int,
                 runs: list[tuple[int, int]]) -> dict[int, Counts]:
    """span start -> the counters its rows were built from, for spans starting in the runs."""
    return {row.start: _counts(row)
            for row in await conn.execute(_built_query(site_id, hours, runs))}


# The statements a read runs are made once per shape, their values bound at each run: made
# afresh, their SQLAlchemy expressions cost a 10 M-event breakdown a tenth of its CPU.
def _run_params(prefix: str, n: int) -> list[tuple]:
    """n runs' bounds as bind parameters (their values: `_run_values`)."""
    return [(bindparam(f"{prefix}{i}a"), bindparam(f"{prefix}{i}b")) for i in range(n)]


def _run_values(prefix: str, runs: list[tuple[int, int]]) -> dict[str, int]:
    values = {}
    for i, (a, b) in enumerate(runs):
        values[f"{prefix}{i}a"], values[f"{prefix}{i}b"] = a, b
    return values


@functools.lru_cache(maxsize=64)
def _wanted_and_built_statement(hours: int, n_runs: int):
    site = bindparam("site")
    return union_all(_wanted_query(site, hours, _run_params("h", n_runs)),
                     _built_query(site, hours, _run_params("s", n_runs)))


async def _wanted_and_built(conn, site_id: uuid.UUID, hours: int, runs: list[tuple[int, int]]
                            ) -> tuple[dict[int, Counts], dict[int, Counts]]:
    """(span start -> the site's hourly counters over the span, for spans with events; span
    start -> the counters its rows were built from), for the spans of that length starting in
    the runs (span-aligned), in one round trip: a read asks this for up to three lengths."""
    want: dict[int, Counts] = {}
    have: dict[int, Counts] = {}
    for row in await conn.execute(_wanted_and_built_statement(hours, len(runs)), {
            "site": site_id, **_run_values("h", _spanned(hours, runs)), **_run_values("s", runs)}):
        counts = _counts(row)
        if row.built:
            have[row.start] = counts
        elif counts is not None:
            want[row.start] = counts
    return want, have


def _span_total(want: dict[int, Counts], start: int, end: int) -> Counts | None:
    """The hourly counters of [start, end) summed (None: no events)."""
    parts = [want[h] for h in range(start, end, HOUR_US) if h in want]
    if not parts:
        return None
    return tuple(sum(column) for column in zip(*parts))  # type: ignore[return-value]


def _runs(starts: Iterable[int], step: int) -> list[tuple[int, int]]:
    """Sorted span starts -> [start, end) runs of consecutive spans."""
    runs: list[list[int]] = []
    for start in starts:
        if runs and runs[-1][1] == start:
            runs[-1][1] = start + step
        else:
            runs.append([start, start + step])
    return [(a, b) for a, b in runs]


def _gaps(taken: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The runs of [start, end) outside the taken runs (which do not overlap)."""
    gaps = []
    at = start
    for a, b in sorted(taken):
        if a > at:
            gaps.append((at, min(a, end)))
        at = max(at, b)
    if at < end:
        gaps.append((at, end))
    return [(a, b) for a, b in gaps if a < b]


@dataclass(frozen=True, slots=True)
class Spans:
    """What stands for some whole hours: per span length, runs [start, end) of its rows."""
    runs: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def shape(self) -> tuple[tuple[int, int], ...]:
        """What a statement over these spans depends on: (span length, how many runs)."""
        return tuple((hours, len(runs)) for hours, runs in self.runs.items())

    def values(self) -> dict[str, int]:
        """The values of `_spans_where`'s bind parameters for these runs."""
        values = {}
        for hours, runs in self.runs.items():
            values.update(_run_values(f"r{hours}_", runs))
        return values


def _spans_where(table, shape: tuple[tuple[int, int], ...]):
    """A table's rows of spans of that shape (Spans.shape), its values Spans.values."""
    c = table.c
    parts = [and_(c.hours == hours, in_ranges(c.start, _run_params(f"r{hours}_", n)))
             for hours, n in shape if n]
    return or_(*parts) if parts else false()


async def spans(conn, site_id: uuid.UUID, h0: int, h1: int
                ) -> tuple[Spans, list[tuple[int, int]]]:
    """(the rows standing for the whole covered hours [h0, h1), the hours among them to read
    from the events instead): the current week rows of its whole weeks, the current day rows of
    its other whole days, the current hour rows of the rest; an hour whose rows are missing or
    stale (a late event since they were built; maintenance builds it again) is read raw."""
    taken: list[tuple[int, int]] = []  # what longer spans stand for already
    found: dict[int, list[tuple[int, int]]] = {}
    for hours in (WEEK, DAY):
        length = SPAN_US[hours]
        first = span_start(hours, h0 + length - 1)
        starts = [t for t in range(first, span_start(hours, h1) - length + 1, length)
                  if not any(a <= t < b for a, b in taken)]
        if not starts:
            continue
        sums, marks = await _wanted_and_built(conn, site_id, hours,
                                              [(starts[0], starts[-1] + 1)])
        found[hours] = _runs((t for t in starts if sums.get(t) == marks.get(t)), length)
        taken += found[hours]
    hourly = _gaps(taken, h0, h1)
    stale: list[int] = []
    if hourly:
        want, have = await _wanted_and_built(conn, site_id, HOUR, hourly)
        if want != have:
            stale = [h for a, b in hourly for h in range(a, b, HOUR_US)
                     if want.get(h) != have.get(h)]
            gone = set(stale)
            hourly = _runs((h for a, b in hourly for h in range(a, b, HOUR_US)
                            if h not in gone), HOUR_US)
    return Spans({**found, HOUR: hourly}), _runs(stale, HOUR_US)


# --------------------------------------------------------------------------- building


async def _lock(conn, site_id: uuid.UUID) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:c, :s)"), {
            "c": LOCK_CLASS, "s": int.from_bytes(site_id.bytes[:4], "big", signed=True)})


async def build(db: Database, site_id: uuid.UUID, hours: list[int]) -> int:
    """Build the hour rows of these hours (sorted; one day's, as `maintain` hands them: a build
    holds its rows in memory until it commits) that are missing or stale once the site's build
    lock is held (another builder may have just built them). Returns how many."""
    async with db.write.begin() as conn:
        await _lock(conn, site_id)
        runs = [(hours[0], hours[-1] + HOUR_US)]
        want, have = await _wanted_and_built(conn, site_id, HOUR, runs)
        stale = [h for h in hours if want.get(h) != have.get(h)]
        if stale:
            await _build_hours(conn, site_id, stale, want)
    return len(stale)


async def _sliced(rows):
    """The rows, with a turn of the event loop every SLICE_ROWS of them."""
    for i, row in enumerate(rows, 1):
        yield row
        if i % SLICE_ROWS == 0:
            await asyncio.sleep(0)


class _Tally:
    """What one build adds up, per key (span start, dimension, value)."""

    def __init__(self) -> None:
        self.values: dict[tuple, str | None] = {}  # key -> value, keys by value hash
        # events, pageviews, sessions started, visitors (of the rows below: at least distinct)
        self.totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        # (key, goal_id, currency) -> [conversions, conversion_micros, revenue_micros]
        self.counters: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.sketches = hll.Sketches()

    def key(self, start: int, dimension: str, value: str | None) -> tuple:
        key = (start, dimension, value_hash(value))
        self.values[key] = value
        return key

    def count(self, key: tuple, row) -> None:
        """Add a group of `row.n` events of one kind (their revenue summed in `row.micros`)."""
        totals = self.totals[key]
        totals[0] += row.n
        if row.pageview:
            totals[1] += row.n
        micros = None if row.micros is None else int(row.micros)  # numeric sums
        currency = row.revenue_currency
        if row.is_conversion:
            self.counters[(key, NIL_UUID, "")][0] += row.n
            if currency is not None:
                self.counters[(key, NIL_UUID, currency)][1] += micros
        if row.goal_id is not None:
            self.counters[(key, row.goal_id, "")][0] += row.n
            if currency is not None:
                self.counters[(key, row.goal_id, currency)][1] += micros
        if currency is not None:
            self.counters[(key, NIL_UUID, currency)][2] += micros

    def sketch_rows(self, site_id: uuid.UUID) -> list[dict]:
        return [{"site_id": site_id, "dimension": key[1], "hours": HOUR, "start": key[0],
                 "value_hash": key[2], "value": self.values[key], "sketch": blob}
                for key, blob in self.sketches.take(self.sketches.keys())]

    def totals_rows(self, site_id: uuid.UUID) -> list[dict]:
        spans: dict[tuple, dict[int, list[int]]] = defaultdict(dict)
        for (start, dimension, h), counts in self.totals.items():
            spans[(start, dimension)][h] = counts
        return [{"site_id": site_id, "dimension": dimension, "hours": HOUR, "start": start,
                 "totals": encode_totals(by_hash)}
                for (start, dimension), by_hash in spans.items()]


async def _build_hours(conn, site_id: uuid.UUID, hours: list[int],
                       want: dict[int, Counts]) -> None:
    """The rows of these hours, from their events and sessions: counters summed by the
    database over (hour, value, kind of event); sketches from one row per (hour, visitor,
    values), in hour order, each visitor hashed once (a month at 10M events: ~4M rows for
    the session dimensions, ~8M for PAGE)."""
    e, s = events.c, sessions.c
    hour = (e.occurred_at - e.occurred_at % HOUR_US).label("hour")
    attribution = [s[c].label(c) for c in SESSION_COLUMNS.values()]
    joined = events.join(sessions, and_(s.site_id == e.site_id, s.id == e.session_id))
    pageview = (e.type == "pageview").label("pageview")
    kind = [pageview, e.is_conversion, e.goal_id, e.revenue_currency]
    sums = [func.count().label("n"), func.sum(e.revenue_micros).label("micros")]
    for table in SPAN_TABLES:
        c = table.c
        await conn.execute(delete(table).where(c.site_id == site_id, c.hours == HOUR,
                                               c.start.in_(hours)))
    tally = _Tally()
    for a, b in _runs(hours, HOUR_US):
        mine = [e.site_id == site_id, e.occurred_at >= a, e.occurred_at < b]
        session_mine = [*mine, s.site_id == site_id]
        async for row in _sliced(await conn.execute(
                select(hour, *attribution, *kind, *sums).select_from(joined)
                .where(*session_mine).group_by(hour, *attribution, *kind))):
            values = row._mapping
            for dimension, column in SESSION_COLUMNS.items():
                tally.count(tally.key(row.hour, dimension, values[column]), row)
        async for row in _sliced(await conn.execute(
                select(hour, e.path, *kind, *sums).where(*mine)
                .group_by(hour, e.path, *kind))):
            tally.count(tally.key(row.hour, PAGE, row.path), row)
        started = (s.started_at - s.started_at % HOUR_US).label("hour")
        async for row in _sliced(await conn.execute(
                select(started, *attribution, func.count().label("n"))
                .where(s.site_id == site_id, s.started_at >= a, s.started_at < b)
                .group_by(started, *attribution))):
            values = row._mapping
            for dimension, column in SESSION_COLUMNS.items():
                tally.totals[tally.key(row.hour, dimension, values[column])][2] += row.n
        # the sketches, hour by hour: the session dimensions', then the pages'
        for query, per_row in (
                (select(hour, e.visitor_id, *attribution).select_from(joined)
                 .where(*session_mine).distinct().order_by(hour),
                 lambda row: [(d, row._mapping[c]) for d, c in SESSION_COLUMNS.items()]),
                (select(hour, e.visitor_id, e.path).where(*mine, e.type == "pageview")
                 .distinct().order_by(hour),
                 lambda row: [(PAGE, row.path)])):
            result = await conn.stream(query)
            async for part in result.partitions(SLICE_ROWS):
                for row in part:
                    code = tally.sketches.code(row.visitor_id)
                    for dimension, value in per_row(row):
                        key = tally.key(row.hour, dimension, value)
                        tally.sketches.add(key, code)
                        tally.totals[key][3] += 1
                await asyncio.sleep(0)
    for table, rows in ((dimension_sketches, tally.sketch_rows(site_id)),
                        (dimension_totals, tally.totals_rows(site_id))):
        for i in range(0, len(rows), WRITE_ROWS):
            await conn.execute(table.insert(), rows[i:i + WRITE_ROWS])
    rows = [{"site_id": site_id, "dimension": k[1], "hours": HOUR, "start": k[0],
             "value_hash": k[2], "value": tally.values[k], "goal_id": goal, "currency": cur,
             "conversions": n, "conversion_micros": cm, "revenue_micros": m}
            for (k, goal, cur), (n, cm, m) in tally.counters.items()]
    for i in range(0, len(rows), WRITE_ROWS):
        await conn.execute(dimension_counters.insert(), rows[i:i + WRITE_ROWS])
    built = [{"site_id": site_id, "hours": HOUR, "start": h, "events": n, "pageviews": p,
              "conversions": c, "sessions": st}
             for h in hours if h in want for n, p, c, st in [want[h]]]
    if built:
        await conn.execute(dimension_built.insert(), built)


async def compact(db: Database, site_id: uuid.UUID, hours: int, start: int) -> bool:
    """Merge a passed day's hour rows (or a week's day rows) into its rows, when every part of
    it is current and its own rows are not. True when it did."""
    part = PARTS[hours]
    end = start + SPAN_US[hours]
    async with db.write.begin() as conn:
        await _lock(conn, site_id)
        want = await _wanted(conn, site_id, [(start, end)])
        have = await _built(conn, site_id, part, [(start, end)])
        step = SPAN_US[part]
        if any(_span_total(want, t, t + step) != have.get(t) for t in range(start, end, step)):
            return False  # parts to build or merge first
        total = _span_total(want, start, end)
        if (await _built(conn, site_id, hours, [(start, start + 1)])).get(start) == total:
            return False
        for table in SPAN_TABLES:
            c = table.c
            await conn.execute(delete(table).where(c.site_id == site_id, c.hours == hours,
                                                   c.start == start))
        if total is None:
            return True
        k = dimension_counters.c
        parts = [k.site_id == site_id, k.hours == part, k.start >= start, k.start < end]
        await conn.execute(dimension_counters.insert().from_select(
            ["site_id", "dimension", "hours", "start", "value_hash", "value", "goal_id",
             "currency", "conversions", "conversion_micros", "revenue_micros"],
            select(k.site_id, k.dimension, literal(hours, k.hours.type),
                   literal(start, k.start.type), k.value_hash, func.min(k.value), k.goal_id,
                   k.currency, func.sum(k.conversions), func.sum(k.conversion_micros),
                   func.sum(k.revenue_micros))
            .where(*parts)
            .group_by(k.site_id, k.dimension, k.value_hash, k.goal_id, k.currency)))
        t = dimension_totals.c
        by_dimension: dict[str, list[bytes]] = defaultdict(list)
        for dimension, blob in await conn.execute(
                select(t.dimension, t.totals).where(t.site_id == site_id, t.hours == part,
                                                    t.start >= start, t.start < end)):
            by_dimension[dimension].append(blob)
        if by_dimension:
            await conn.execute(dimension_totals.insert(), [
                {"site_id": site_id, "dimension": dimension, "hours": hours, "start": start,
                 "totals": summed_totals(blobs).tobytes()}
                for dimension, blobs in by_dimension.items()])
        c = dimension_sketches.c
        rows: list[dict] = []
        group: list = []

        def merge() -> None:
            first = group[0]
            rows.append({
                "site_id": site_id, "dimension": first.dimension, "hours": hours,
                "start": start, "value_hash": first.value_hash, "value": first.value,
                "sketch": hll.encode_compact(hll.merged(r.sketch for r in group))})

        result = await conn.stream(
            select(c.dimension, c.value_hash, c.value, c.sketch)
            .where(c.site_id == site_id, c.hours == part, c.start >= start, c.start < end)
            .order_by(c.dimension, c.value_hash))
        async for row in result:
            if group and (group[0].dimension, group[0].value_hash) != (row.dimension,
                                                                       row.value_hash):
                merge()
                group = []
                if len(rows) >= WRITE_ROWS:
                    await conn.execute(dimension_sketches.insert(), rows)
                    rows = []
            group.append(row)
        if group:
            merge()
        if rows:
            await conn.execute(dimension_sketches.insert(), rows)
        await conn.execute(dimension_built.insert().values(
            site_id=site_id, hours=hours, start=start, events=total[0], pageviews=total[1],
            conversions=total[2], sessions=total[3]))
    return True


@dataclass
class Maintained:
    hours_built: int = 0
    days_compacted: int = 0
    weeks_compacted: int = 0


async def maintain(db: Database, now: int, *, days: int | None = None,
                   site_ids: list[uuid.UUID] | None = None, until: int | None = None
                   ) -> Maintained:
    """Build every passed hour that is missing or stale and merge every passed day and week,
    for the sites with rollups: over the last `days` days (a frequent run; the weeks that end
    in them), else their whole history (the daily run). `until`: only the hours before it
    (retention's cut-off)."""
    done = Maintained()
    passed = hour_of(now) if until is None else min(hour_of(now), hour_of(until))
    async with db.write.connect() as conn:
        c = rollup_coverage.c
        query = select(c.site_id, c.since_hour)
        if site_ids is not None:
            query = query.where(c.site_id.in_(site_ids))
        covered = (await conn.execute(query.order_by(c.site_id))).all()
    for site_id, since in covered:
        h0 = since if days is None else max(since, passed - days * DAY_US)
        if h0 >= passed:
            continue
        async with db.write.connect() as conn:
            want, have = await _wanted_and_built(conn, site_id, HOUR, [(h0, passed)])
            day_rows = await _built(conn, site_id, DAY, [(h0, passed)])
        stale = sorted(h for h in want.keys() | have.keys() if want.get(h) != have.get(h))
        # a day per transaction: a build holds its rows in memory until it commits
        by_day: dict[int, list[int]] = defaultdict(list)
        for h in stale:
            by_day[h - h % DAY_US].append(h)
        for day_hours in by_day.values():
            done.hours_built += await build(db, site_id, day_hours)
        first_day = span_start(DAY, h0 + DAY_US - 1)
        for day in range(first_day, passed - DAY_US + 1, DAY_US):
            if day in by_day or _span_total(want, day, day + DAY_US) != day_rows.get(day):
                done.days_compacted += await compact(db, site_id, DAY, day)
        # the weeks that end in the window (their first days may be older), whole in coverage
        first_week = max(span_start(WEEK, since + WEEK_US - 1), span_start(WEEK, h0))
        weeks = range(first_week, passed - WEEK_US + 1, WEEK_US)
        if weeks:
            async with db.write.connect() as conn:
                sums, marks = await _wanted_and_built(conn, site_id, WEEK,
                                                      [(weeks[0], weeks[-1] + 1)])
            for week in weeks:
                if sums.get(week) != marks.get(week):
                    done.weeks_compacted += await compact(db, site_id, WEEK, week)
    return done


async def forget_spans(conn, site_id: uuid.UUID, hours: Iterable[int]) -> None:
    """Drop the rows and marks of the spans holding these hours, so that they are built again
    from what is left (erasure: counters that come back to earlier values must not pass for
    current, and an hour left without events must not keep its rows)."""
    hours = sorted(set(hours))
    days = sorted({span_start(DAY, h) for h in hours})
    weeks = sorted({span_start(WEEK, h) for h in hours})
    for table in SPAN_TABLES:
        c = table.c
        for span, starts in ((HOUR, hours), (DAY, days), (WEEK, weeks)):
            for i in range(0, len(starts), 1000):
                await conn.execute(delete(table).where(
                    c.site_id == site_id, c.hours == span, c.start.in_(starts[i:i + 1000])))


# --------------------------------------------------------------------------- reading


async def totals(conn, site_id: uuid.UUID, dimension: str, where: Spans) -> np.ndarray:
    """Every value's events, pageviews and sessions started over the spans (a TOTALS array,
    one entry a value hash, sorted)."""
    return summed_totals((await conn.execute(_totals_statement(where.shape()), {
        "site": site_id, "dimension": dimension, **where.values()})).scalars())


@functools.lru_cache(maxsize=64)
def _totals_statement(shape):
    t = dimension_totals.c
    return select(t.totals).where(t.site_id == bindparam("site"),
                                  t.dimension == bindparam("dimension"),
                                  _spans_where(dimension_totals, shape))


def positions(summed: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(where each value hash is or would be in a summed TOTALS array, whether it is there)."""
    keys = summed["value_hash"]
    if not len(keys):
        return np.zeros(len(hashes), dtype=np.intp), np.zeros(len(hashes), dtype=bool)
    at = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
    return at, keys[at] == hashes


def totals_of(summed: np.ndarray, h: int):
    """One value's entry of a summed TOTALS array, or None."""
    at, found = positions(summed, np.array([h], dtype=np.int64))
    return summed[at[0]] if found[0] else None


async def sketches(conn, site_id: uuid.UUID, dimension: str, where: Spans,
                   hashes: list[int]) -> tuple[dict[int, list[bytes]], dict[int, str | None]]:
    """(value hash -> its sketches over the spans, value hash -> the value), for these values."""
    c = dimension_sketches.c
    blobs: dict[int, list[bytes]] = defaultdict(list)
    values: dict[int, str | None] = {}
    statement = _sketches_statement(where.shape())
    params = {"site": site_id, "dimension": dimension, **where.values()}
    for i in range(0, len(hashes), 1000):
        for h, value, blob in await conn.execute(statement,
                                                 {**params, "hashes": hashes[i:i + 1000]}):
            blobs[h].append(blob)
            values[h] = value
    return blobs, values


@functools.lru_cache(maxsize=64)
def _sketches_statement(shape):
    c = dimension_sketches.c
    return select(c.value_hash, c.value, c.sketch).where(
        c.site_id == bindparam("site"), c.dimension == bindparam("dimension"),
        c.value_hash.in_(bindparam("hashes", expanding=True)),
        _spans_where(dimension_sketches, shape))


@dataclass
class Conversions:
    """Per value hash: conversions (of a goal, else of any conversion goal), their revenue
    [(currency, micros)], and the revenue of every event."""
    conversions: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    converted: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    revenue: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    values: dict[int, str | None] = field(default_factory=dict)

    def add(self, other: "Conversions") -> None:
        """Take in the conversions of other values."""
        for h, n in other.conversions.items():
            self.conversions[h] += n
        for mine, theirs in ((self.converted, other.converted), (self.revenue, other.revenue)):
            for h, pairs in theirs.items():
                mine[h] += pairs
        self.values.update(other.values)


async def counters(conn, site_id: uuid.UUID, dimension: str, where: Spans, *,
                   goal_id: uuid.UUID | None = None, hashes: list[int] | None = None
                   ) -> Conversions:
    """Conversions over the spans: of every value, or of the values with these hashes."""
    money = Conversions()
    wanted = NIL_UUID if goal_id is None else goal_id
    statement = _counters_statement(where.shape(), goal_id is not None, hashes is not None)
    params = {"site": site_id, "dimension": dimension, **where.values()}
    if goal_id is not None:
        params["goal"] = goal_id
    chunks = [None] if hashes is None else [hashes[i:i + 1000]
                                            for i in range(0, len(hashes), 1000)]
    for chunk in chunks:
        for h, value, goal, currency, n, cm, m in await conn.execute(
                statement, params if chunk is None else {**params, "hashes": chunk}):
            money.values[h] = value
            if goal == wanted:
                if currency == "":
                    money.conversions[h] += int(n)
                else:
                    money.converted[h].append((currency, int(cm)))
            if goal == NIL_UUID and currency != "":
                money.revenue[h].append((currency, int(m)))
    return money


@functools.lru_cache(maxsize=64)
def _counters_statement(shape, of_goal: bool, of_hashes: bool):
    c = dimension_counters.c
    query = (select(c.value_hash, func.min(c.value), c.goal_id, c.currency,
                    func.sum(c.conversions), func.sum(c.conversion_micros),
                    func.sum(c.revenue_micros))
             .where(c.site_id == bindparam("site"), c.dimension == bindparam("dimension"),
                    _spans_where(dimension_counters, shape),
                    c.goal_id.in_([NIL_UUID, bindparam("goal", type_=c.goal_id.type)]) if of_goal
                    else c.goal_id == NIL_UUID)
             .group_by(c.value_hash, c.goal_id, c.currency))
    if of_hashes:
        query = query.where(c.value_hash.in_(bindparam("hashes", expanding=True)))
    return query

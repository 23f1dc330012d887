"""The write path's rows: one named format per thing the writer stores, owned here, with column
names and types taken from the tables of server/db/models.py. The writer builds them, the
rollup maintenance (rollups.py) derives its rows from them, and the two stores write them by
name: SQLAlchemy as dicts (`row._asdict()`), asyncpg as one array per column
(`ArrayStatement`), the arrays typed from the same tables.

An event's goal is read here once: `goal_id` and `is_conversion` are what every later step
(sessions, rollups, the INSERT) uses.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Iterable, Sequence

import orjson
from sqlalchemy import BigInteger, Boolean, Column, Integer, Table
from sqlalchemy.dialects import postgresql

from server.db import models
from server.ingest.event import Event


def _row_type(name: str, table: Table, columns: Sequence[str] | None = None, *,
              defaults: bool = False):
    fields = tuple(columns or (c.name for c in table.columns))
    return namedtuple(name, fields, defaults=[None] * len(fields) if defaults else None)


# an events row, every column
EventRow = _row_type("EventRow", models.events)
# a new sessions row; columns a new session does not set (added by later migrations) are NULL
# or their default
SessionRow = _row_type("SessionRow", models.sessions, defaults=True)
# a stored session that the batch grows: its earliest and latest event of the batch, whether
# one converted, how many events and pageviews it adds
SessionGrowth = namedtuple("SessionGrowth", (
    "site_id", "id", "first_seen", "last_seen", "converted", "events", "pageviews"))
# where a visitor's session is after the batch
VisitorMove = _row_type("VisitorMove", models.visitors, (
    "site_id", "visitor_id", "session_id", "last_seen_at", "session_started_at"))
EventKeyRow = _row_type("EventKeyRow", models.event_keys)
CounterRow = _row_type("CounterRow", models.rollup_hourly, (
    "site_id", "hour", "goal_id", "currency", "events", "pageviews", "conversions",
    "revenue_micros"))
# a batch's visitors of one hour and goal, as a sketch part (PostgreSQL numbers the part)
SketchRow = _row_type("SketchRow", models.visitor_sketches, ("site_id", "hour", "goal_id", "sketch"))
CoverageRow = _row_type("CoverageRow", models.rollup_coverage)



@dataclass(slots=True)
class VisitorState:
    """A visitors row as the writer reads it (locked) and moves it through a batch.
    last_seen_at NO_SESSION: the row was made just now, to take the lock."""

    session_id: object
    last_seen_at: int
    session_started_at: int | None

    def move(self, site_id, visitor_id) -> VisitorMove:
        return VisitorMove(site_id, visitor_id, self.session_id, self.last_seen_at,
                           self.session_started_at)


NO_SESSION = -1

# the types of SessionGrowth's fields that are not columns of `sessions`
_GROWTH_TYPES = {"first_seen": BigInteger(), "last_seen": BigInteger(),
                 "converted": Boolean(), "events": Integer(), "pageviews": Integer()}


def event_row(e: Event) -> EventRow:
    goal = e.goal
    return EventRow(
        site_id=e.site_id, id=e.id, session_id=e.session_id, visitor_id=e.visitor_id,
        user_id=e.user_id, occurred_at=e.occurred_at, type=e.type, name=e.name, url=e.url,
        path=e.path, referrer=e.referrer, click_url=e.click_url, click_domain=e.click_domain,
        click_text=e.click_text, click_asin=e.asin, form_name=e.form_name, form_id=e.form_id,
        form_plugin=e.form_plugin, form_page_url=e.form_page_url, props=e.props_json,
        revenue_micros=e.revenue_micros, revenue_currency=e.revenue_currency,
        goal_id=goal.id if goal else None,
        is_conversion=bool(goal and goal.counts_as_conversion),
    )


# ----------------------------------------------------------------------------- PostgreSQL

_PG = postgresql.dialect()


def pg_type(column: Column) -> str:
    return column.type.compile(dialect=_PG).lower()


def typed(table: Table, row_type) -> list[tuple[str, str]]:
    """(field, PostgreSQL type) of a row type's fields: the table's column types, SessionGrowth's
    own otherwise."""
    return [(f, pg_type(table.c[f]) if f in table.c else _GROWTH_TYPES[f].compile(dialect=_PG)
             .lower()) for f in row_type._fields]


class JsonRows:
    """A group of rows passed to an ArrayStatement as ONE json parameter (a list of objects,
    by column name) rather than an array per column: for wide rows (events, sessions) far
    less work for the driver, which checks every element of an array parameter; PostgreSQL
    reads them back with json_populate_recordset(NULL::<table>, …), typed by the table."""

    def __init__(self, row_type):
        self.fields = row_type._fields


class ArrayStatement:
    """One SQL statement over array parameters, one per field of each named group of rows:
    `{group}` in the template becomes "$n::type[], …" in field order, and `args` lays the rows
    out column by column in that same order, by field name. A JsonRows group is one "$n::json"
    parameter instead, its rows as objects by field name."""

    def __init__(self, template: str, **groups: list[tuple[str, str]] | JsonRows):
        number, parts = 1, {}
        self._order: list[tuple[str, list[str] | None]] = []
        for group, fields in groups.items():
            if isinstance(fields, JsonRows):
                parts[group] = f"${number}::json"
                number += 1
                self._order.append((group, None))
                continue
            parts[group] = ", ".join(f"${number + i}::{t}[]" for i, (_, t) in enumerate(fields))
            number += len(fields)
            self._order.append((group, [f for f, _ in fields]))
        self.sql = template.format(**parts)

    def args(self, **rows: Iterable[tuple]) -> list:
        out: list = []
        for group, fields in self._order:
            group_rows = list(rows[group])
            if fields is None:
                # default=str: ids read back through asyncpg are its own UUID type
                out.append(orjson.dumps([r._asdict() for r in group_rows], default=str).decode())
            else:
                out += [[getattr(r, f) for r in group_rows] for f in fields]
        return out

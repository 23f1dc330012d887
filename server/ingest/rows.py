"""The write path's rows: one named format per thing the writer stores, owned here, with column
names and types taken from the tables of server/db/models.py. The writer builds them, the
rollup maintenance (rollups.py) derives its rows from them, and the two stores write them by
name: SQLAlchemy as dicts (`row._asdict()`), asyncpg as one json parameter per group of rows
(`RowsStatement`), typed in the statement from the same tables.

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


def _json_default(value):
    # ids read back through asyncpg are its own UUID type; bytes only ever go to bytea columns,
    # whose text input is \x and hex digits
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return str(value)


class RowsStatement:
    """One SQL statement over named groups of rows, each group ONE json parameter: a list of
    objects by field name, read back by json_to_recordset with the fields' types. `{group}` in
    the template becomes a subquery of those rows (give it an alias), typed by the (field,
    type) list passed for the group.

    Not an array per column: asyncpg checks every element of an array parameter against
    several abstract classes, which made the parameters cost more Python time than the
    statement's whole batch of events took to build (bench/ingest.py); a json text is one
    string to send."""

    def __init__(self, template: str, **groups: list[tuple[str, str]]):
        parts = {}
        self._groups: list[str] = []
        for number, (group, fields) in enumerate(groups.items(), start=1):
            columns = ", ".join(f"{f} {t}" for f, t in fields)
            parts[group] = f"(SELECT * FROM json_to_recordset(${number}::json) AS r({columns}))"
            self._groups.append(group)
        self.sql = template.format(**parts)

    def args(self, **rows: Iterable[tuple]) -> list[str]:
        return [orjson.dumps([r._asdict() for r in rows[group]], default=_json_default).decode()
                for group in self._groups]

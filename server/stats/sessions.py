"""Sessions, newest first, with keyset pagination; and the events of many sessions at once.

Order: (started_at DESC, id DESC). The cursor is that pair, so a page boundary never moves when
sessions are added (new sessions sort before the first page) or when events are appended to
existing sessions (their started_at stays). `totalCount` counts every session matching the
range and filters, regardless of the cursor.

Filters: `converted` = sessions.has_converted; `goal_id` = sessions with at least one event that
recorded that goal (a deleted goal's id still finds the sessions that reached it).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

import simplejson
from sqlalchemy import and_, exists, func, or_, select

from server.db.engine import Database
from server.db.models import SESSION_ATTRIBUTION, events, sessions
from server.errors import InvalidInput
from server.stats.ranges import Range

DEFAULT_PAGE = 20
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class SessionRow:
    site_id: uuid.UUID
    id: uuid.UUID
    visitor_id: str
    started_at: int
    last_seen_at: int
    entry_path: str | None
    referrer: str | None
    has_converted: bool
    # attribution (server/ingest/attribution.py); None for sessions stored before it
    source: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    browser: str | None = None
    os: str | None = None
    device: str | None = None


@dataclass(frozen=True, slots=True)
class EventRow:
    site_id: uuid.UUID
    id: uuid.UUID
    session_id: uuid.UUID
    type: str
    name: str | None
    path: str | None
    occurred_at: int
    goal_id: uuid.UUID | None
    revenue_micros: int | None
    revenue_currency: str | None
    props_json: str | None

    @property
    def props(self):
        # exact: numbers with a fraction come back as Decimal, as they were sent
        return None if self.props_json is None else simplejson.loads(self.props_json,
                                                                     use_decimal=True)


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[SessionRow]
    has_next: bool
    total: int


def encode_cursor(started_at: int, session_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{started_at}:{session_id.hex}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, uuid.UUID]:
    """Refuses what encode_cursor cannot have made, forged ones included: a started_at must
    fit the BIGINT column it is compared with."""
    try:
        if len(cursor) > 128:
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        started, _, hex_id = raw.partition(":")
        started_at = int(started)
        if not -2**63 <= started_at < 2**63:
            raise ValueError(started)
        return started_at, uuid.UUID(hex=hex_id)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("after is not a cursor of this connection", field="after") from None


def check_page_size(first: int) -> int:
    if first < 0 or first > MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}", field="first")
    return first


def _session(r) -> SessionRow:
    return SessionRow(r.site_id, r.id, r.visitor_id, r.started_at, r.last_seen_at, r.entry_path,
                      r.referrer, bool(r.has_converted),
                      **{name: r._mapping[name] for name in SESSION_ATTRIBUTION})


async def sessions_page(db: Database, *, site_id: uuid.UUID, range: Range,
                        converted: bool | None = None, goal_id: uuid.UUID | None = None,
                        first: int | None = DEFAULT_PAGE, after: str | None = None) -> Page:
    first = DEFAULT_PAGE if first is None else check_page_size(first)
    where = [sessions.c.site_id == site_id, sessions.c.started_at >= range.start,
             sessions.c.started_at < range.end]
    if converted is not None:
        where.append(sessions.c.has_converted.is_(True) if converted
                     else sessions.c.has_converted.is_(False))
    if goal_id is not None:
        where.append(exists().where(events.c.site_id == sessions.c.site_id,
                                    events.c.session_id == sessions.c.id,
                                    events.c.goal_id == goal_id))
    page_where = list(where)
    if after is not None:
        started, last_id = decode_cursor(after)
        page_where.append(or_(sessions.c.started_at < started,
                              and_(sessions.c.started_at == started, sessions.c.id < last_id)))
    page = (
        select(sessions.c.site_id, sessions.c.id, sessions.c.visitor_id, sessions.c.started_at,
               sessions.c.last_seen_at, sessions.c.entry_path, sessions.c.referrer,
               sessions.c.has_converted, *(sessions.c[name] for name in SESSION_ATTRIBUTION))
        .where(*page_where)
        .order_by(sessions.c.started_at.desc(), sessions.c.id.desc())
        .limit(first + 1)
    )
    count = select(func.count()).select_from(sessions).where(*where)
    async with db.read.connect() as conn:
        rows = [_session(r) for r in await conn.execute(page)] if first else []
        total = int((await conn.execute(count)).scalar_one())
    return Page(rows[:first], len(rows) > first, total)


async def events_of_sessions(db: Database, *, keys: list[tuple[uuid.UUID, uuid.UUID]]
                             ) -> dict[tuple[uuid.UUID, uuid.UUID], list[EventRow]]:
    """(site_id, session_id) -> its events in time order; one statement for any number."""
    if not keys:
        return {}
    site_ids = sorted({k[0] for k in keys})
    query = (
        select(*_EVENT_COLUMNS)
        .where(events.c.site_id.in_(site_ids) if len(site_ids) > 1
               else events.c.site_id == site_ids[0],
               events.c.session_id.in_(sorted({k[1] for k in keys})))
        .order_by(events.c.occurred_at, events.c.id)
    )
    wanted = set(keys)
    out: dict[tuple[uuid.UUID, uuid.UUID], list[EventRow]] = {}
    async with db.read.connect() as conn:
        for r in await conn.execute(query):
            key = (r.site_id, r.session_id)
            if key in wanted:
                out.setdefault(key, []).append(_event(r))
    return out


async def events_by_ids(db: Database, *, site_id: uuid.UUID, ids: list[uuid.UUID]
                        ) -> list[EventRow]:
    """The site's events with these ids, in time order (the live feed reads what another
    process announced); one statement."""
    if not ids:
        return []
    query = (select(*_EVENT_COLUMNS)
             .where(events.c.site_id == site_id, events.c.id.in_(ids))
             .order_by(events.c.occurred_at, events.c.id))
    async with db.read.connect() as conn:
        return [_event(r) for r in await conn.execute(query)]


_EVENT_COLUMNS = (events.c.site_id, events.c.id, events.c.session_id, events.c.type,
                  events.c.name, events.c.path, events.c.occurred_at, events.c.goal_id,
                  events.c.revenue_micros, events.c.revenue_currency, events.c.props)


def _event(r) -> EventRow:
    return EventRow(r.site_id, r.id, r.session_id, r.type, r.name, r.path, r.occurred_at,
                    r.goal_id, r.revenue_micros, r.revenue_currency, r.props)


__all__ = ["sessions_page", "events_of_sessions", "events_by_ids", "encode_cursor", "decode_cursor", "Page",
           "SessionRow", "EventRow", "MAX_PAGE"]

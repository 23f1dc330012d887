"""What the writer needs from storage for one batch, in one transaction.

Two implementations with the same statements: `SqlBatchStore` (SQLAlchemy Core; SQLite) and
`PgBatchStore` (asyncpg; PostgreSQL, where array parameters expanded by unnest() make each step
a single prepared statement whatever the batch size). The writer above them is the same for both, and
the test suite runs every ingestion test on both.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import AsyncIterator, Protocol

from sqlalchemy import Boolean, and_, bindparam, case, or_, select, tuple_, update

from server.db.engine import Database
from server.db.models import SESSION_ATTRIBUTION, event_keys, goals, sessions, sites, visitors
from server.db.models import events as events_table
from server.db.upsert import insert_ignore, insert_or_touch
from server.stats import rollups

VisitorKey = tuple[uuid.UUID, str]
EventKey = tuple[uuid.UUID, str]

EVENT_COLUMNS = (
    "site_id", "id", "session_id", "visitor_id", "user_id", "occurred_at", "type", "name",
    "url", "path", "referrer", "click_url", "click_domain", "click_text", "click_asin",
    "form_name", "form_id", "form_plugin", "form_page_url", "props", "revenue_micros",
    "revenue_currency", "goal_id", "is_conversion",
)
SESSION_COLUMNS = (
    "site_id", "id", "visitor_id", "started_at", "last_seen_at", "entry_path", "referrer",
    "has_converted", "events", "pageviews", *SESSION_ATTRIBUTION,
)


class BatchTx(Protocol):
    async def claim_event_keys(self, rows: list[tuple]) -> set[EventKey]:
        """rows: (site_id, event_key, event_id, created_at), sorted; returns the keys inserted."""

    async def goal_names_for_keys(self, keys: list[EventKey]) -> dict[EventKey, str | None]: ...

    async def lock_visitors(self, rows: list[tuple]
                            ) -> tuple[dict[VisitorKey, tuple[uuid.UUID, int]], dict[uuid.UUID, int]]:
        """rows: (site_id, visitor_id, placeholder session_id, placeholder last_seen_at), sorted;
        each row is created if missing and locked until commit. Returns the visitors' current
        (session_id, last_seen_at, session_started_at), and the goals_version of their sites."""

    async def find_session(self, site_id: uuid.UUID, visitor_id: str, since: int, until: int
                           ) -> tuple[uuid.UUID, int, int] | None:
        """The visitor's latest session that overlaps [since, until], locked: (id, started_at,
        last_seen_at). Only for events older than the visitor's current session."""

    async def write(self, *, new_sessions: list[tuple], extended_sessions: list[tuple],
                    visitor_moves: list[tuple], events: list[tuple], batch: list) -> None:
        """new_sessions: SESSION_COLUMNS order; extended_sessions: (site_id, id, first_seen,
        last_seen, converted, events, pageviews); visitor_moves: (site_id, visitor_id,
        session_id, last_seen_at); events: EVENT_COLUMNS order; and the batch's events are
        added to the read rollups (server/stats/rollups.py)."""


class SqlBatchStore:
    def __init__(self, db: Database):
        self._db = db

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[BatchTx]:
        async with self._db.write.begin() as conn:
            yield _SqlTx(conn)

    async def warm_up(self) -> None:
        pass

    async def close(self) -> None:
        pass


class _SqlTx:
    def __init__(self, conn):
        self.conn = conn

    async def claim_event_keys(self, rows):
        result = await self.conn.execute(
            insert_ignore(self.conn, event_keys, [
                dict(zip(("site_id", "event_key", "event_id", "created_at"), r)) for r in rows
            ]).returning(event_keys.c.site_id, event_keys.c.event_key))
        return {tuple(r) for r in result}

    async def goal_names_for_keys(self, keys):
        rows = await self.conn.execute(
            select(event_keys.c.site_id, event_keys.c.event_key, goals.c.name)
            .select_from(event_keys)
            .outerjoin(events_table, and_(events_table.c.site_id == event_keys.c.site_id,
                                          events_table.c.id == event_keys.c.event_id))
            .outerjoin(goals, and_(goals.c.site_id == events_table.c.site_id,
                                   goals.c.id == events_table.c.goal_id))
            .where(tuple_(event_keys.c.site_id, event_keys.c.event_key).in_(keys)))
        return {(r.site_id, r.event_key): r.name for r in rows}

    async def lock_visitors(self, rows):
        result = await self.conn.execute(
            insert_or_touch(self.conn, visitors, ["site_id", "visitor_id"], "last_seen_at")
            .returning(visitors.c.site_id, visitors.c.visitor_id, visitors.c.session_id,
                       visitors.c.last_seen_at, visitors.c.session_started_at),
            [dict(zip(("site_id", "visitor_id", "session_id", "last_seen_at"), r)) for r in rows])
        state = {(r.site_id, r.visitor_id): (r.session_id, r.last_seen_at, r.session_started_at)
                 for r in result}
        versions = await self.conn.execute(
            select(sites.c.id, sites.c.goals_version).where(
                sites.c.id.in_(list({r[0] for r in rows}))))
        return state, {r.id: r.goals_version for r in versions}

    async def find_session(self, site_id, visitor_id, since, until):
        s = sessions.c
        row = (await self.conn.execute(
            select(s.id, s.started_at, s.last_seen_at)
            .where(s.site_id == site_id, s.visitor_id == visitor_id, s.last_seen_at >= since,
                   s.started_at <= until)
            .order_by(s.started_at.desc()).limit(1).with_for_update())).first()
        return tuple(row) if row else None

    async def write(self, *, new_sessions, extended_sessions, visitor_moves, events, batch):
        if new_sessions:
            await self.conn.execute(sessions.insert(),
                                    [dict(zip(SESSION_COLUMNS, r)) for r in new_sessions])
        if extended_sessions:
            await self.conn.execute(_EXTEND_SESSION, [
                dict(zip(("b_site", "b_id", "b_first", "b_last", "b_conv", "b_events",
                          "b_pageviews"), r)) for r in extended_sessions])
        await self.conn.execute(_MOVE_VISITOR, [
            dict(zip(("b_site", "b_visitor", "b_session", "b_last", "b_started"), r))
            for r in visitor_moves])
        await self.conn.execute(events_table.insert(),
                                [dict(zip(EVENT_COLUMNS, r)) for r in events])
        await rollups.apply_batch(self.conn, batch)


_EXTEND_SESSION = (
    update(sessions)
    .where(sessions.c.site_id == bindparam("b_site"), sessions.c.id == bindparam("b_id"))
    .values(
        started_at=case((sessions.c.started_at < bindparam("b_first"), sessions.c.started_at),
                        else_=bindparam("b_first")),
        last_seen_at=case((sessions.c.last_seen_at > bindparam("b_last"), sessions.c.last_seen_at),
                          else_=bindparam("b_last")),
        has_converted=or_(sessions.c.has_converted, bindparam("b_conv", type_=Boolean)),
        events=sessions.c.events + bindparam("b_events"),
        pageviews=sessions.c.pageviews + bindparam("b_pageviews"),
    )
)

_MOVE_VISITOR = (
    update(visitors)
    .where(visitors.c.site_id == bindparam("b_site"),
           visitors.c.visitor_id == bindparam("b_visitor"))
    .values(session_id=bindparam("b_session"), last_seen_at=bindparam("b_last"),
            session_started_at=bindparam("b_started"))
)


def create_batch_store(db: Database, *, connections: int):
    if db.is_sqlite:
        return SqlBatchStore(db)
    from server.ingest.batch_store_pg import PgBatchStore

    return PgBatchStore(db.url, connections=connections)

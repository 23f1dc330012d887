"""The writer's statements on SQLite, through SQLAlchemy Core: the rows of rows.py written by
column name. (PostgreSQL: batch_store_pg.py; which one runs: storage.py.)"""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

from sqlalchemy import Boolean, and_, bindparam, case, or_, select, tuple_, update

from server.clock import HOUR_US
from server.db.engine import Database
from server.db.models import event_keys, goals, sessions, sites, visitors
from server.db.models import events as events_table
from server.db.upsert import insert_ignore, insert_or_touch
from server.ids import new_id
from server.ingest import rollups
from server.ingest.rows import VisitorState
from server.ingest.storage import BatchTx


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
            insert_ignore(self.conn, event_keys, [r._asdict() for r in rows])
            .returning(event_keys.c.site_id, event_keys.c.event_key))
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

    async def read_visitors(self, rows):
        # a site deleted since its events were accepted gets no visitor rows
        versions = {r.id: r.goals_version for r in await self.conn.execute(
            select(sites.c.id, sites.c.goals_version).where(
                sites.c.id.in_(list({r.site_id for r in rows}))))}
        rows = [r for r in rows if r.site_id in versions]
        if not rows:
            return {}, versions
        result = await self.conn.execute(
            insert_or_touch(self.conn, visitors, ["site_id", "visitor_id"], "last_seen_at")
            .returning(visitors.c.site_id, visitors.c.visitor_id, visitors.c.session_id,
                       visitors.c.last_seen_at, visitors.c.session_started_at),
            [{"site_id": r.site_id, "visitor_id": r.visitor_id,
              "session_id": r.session_id or new_id(),
              "last_seen_at": r.last_seen_at} for r in rows])
        state = {(r.site_id, r.visitor_id):
                 VisitorState(r.session_id, r.last_seen_at, r.session_started_at)
                 for r in result}
        return state, versions

    async def find_session(self, site_id, visitor_id, since, until):
        s = sessions.c
        row = (await self.conn.execute(
            select(s.id, s.started_at, s.last_seen_at)
            .where(s.site_id == site_id, s.visitor_id == visitor_id, s.last_seen_at >= since,
                   s.started_at <= until)
            .order_by(s.started_at.desc()).limit(1).with_for_update())).first()
        return tuple(row) if row else None

    async def write(self, *, new_sessions, grown_sessions, visitor_moves, events):
        if new_sessions:
            await self.conn.execute(sessions.insert(), [r._asdict() for r in new_sessions])
        if grown_sessions:
            await self.conn.execute(_GROW_SESSION, [
                {f"b_{k}": v for k, v in r._asdict().items()} for r in grown_sessions])
        await self.conn.execute(_MOVE_VISITOR, [
            {f"b_{k}": v for k, v in r._asdict().items()} for r in visitor_moves])
        await self.conn.execute(events_table.insert(), [r._asdict() for r in events])
        await rollups.apply_batch(self.conn, events)


# bind parameters b_<field of SessionGrowth>
_GROW_SESSION = (
    update(sessions)
    .where(sessions.c.site_id == bindparam("b_site_id"), sessions.c.id == bindparam("b_id"))
    .values(
        started_at=case(
            (sessions.c.started_at < bindparam("b_first_seen"), sessions.c.started_at),
            else_=bindparam("b_first_seen")),
        last_seen_at=case(
            (sessions.c.last_seen_at > bindparam("b_last_seen"), sessions.c.last_seen_at),
            else_=bindparam("b_last_seen")),
        last_seen_hour=case(
            (sessions.c.last_seen_at > bindparam("b_last_seen"), sessions.c.last_seen_hour),
            else_=bindparam("b_last_seen") - bindparam("b_last_seen") % HOUR_US),
        has_converted=or_(sessions.c.has_converted, bindparam("b_converted", type_=Boolean)),
        events=sessions.c.events + bindparam("b_events"),
        pageviews=sessions.c.pageviews + bindparam("b_pageviews"),
    )
)

# bind parameters b_<field of VisitorMove>
_MOVE_VISITOR = (
    update(visitors)
    .where(visitors.c.site_id == bindparam("b_site_id"),
           visitors.c.visitor_id == bindparam("b_visitor_id"))
    .values(session_id=bindparam("b_session_id"), last_seen_at=bindparam("b_last_seen_at"),
            session_started_at=bindparam("b_session_started_at"))
)

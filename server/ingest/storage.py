"""What the writer needs from storage for one batch, in one transaction, and the one place
where SQLite and PostgreSQL part ways: `create_batch_store` picks `SqlBatchStore` (SQLAlchemy
Core; SQLite, batch_store.py) or `PgBatchStore` (asyncpg over array parameters; PostgreSQL,
batch_store_pg.py). Both take and give the named rows of rows.py; the writer above them is the
same, and the test suite runs every ingestion test on both."""

from __future__ import annotations

import uuid
from typing import Protocol

from server.db.engine import Database
from server.ingest.rows import (
    EventKeyRow, EventRow, SessionGrowth, SessionRow, VisitorMove, VisitorState,
)

VisitorKey = tuple[uuid.UUID, str]


class WriteConflict(Exception):
    """What the batch read changed before its write (another batch got there first); nothing
    was written: the writer computes the batch again (PostgreSQL's optimistic store)."""


EventKey = tuple[uuid.UUID, str]


class BatchTx(Protocol):
    async def claim_event_keys(self, rows: list[EventKeyRow]) -> set[EventKey]:
        """rows sorted by key; returns the keys inserted (the others were stored before)."""

    async def goal_names_for_keys(self, keys: list[EventKey]) -> dict[EventKey, str | None]: ...

    async def read_visitors(self, rows: list[VisitorMove]
                            ) -> tuple[dict[VisitorKey, VisitorState], dict[uuid.UUID, int]]:
        """rows sorted by key, each a new visitor's placeholder (session_id None: the store
        makes one up for a visitor it finds new, and its first event replaces it). Returns the
        visitors' state, and the goals_version of their sites (a site missing from it no longer
        exists). SQLite: each row is created if missing and locked until commit; PostgreSQL:
        read, and `write` raises WriteConflict if any of it changed before the write."""

    async def find_session(self, site_id: uuid.UUID, visitor_id: str, since: int, until: int
                           ) -> tuple[uuid.UUID, int, int] | None:
        """The visitor's latest session that overlaps [since, until], locked: (id, started_at,
        last_seen_at). Only for events older than the visitor's current session."""

    async def write(self, *, new_sessions: list[SessionRow],
                    grown_sessions: list[SessionGrowth], visitor_moves: list[VisitorMove],
                    events: list[EventRow]) -> None:
        """Stores the batch, and adds its events to the read rollups (rollups.py); raises
        WriteConflict, having written nothing, when what the batch read has changed."""


class BatchStore(Protocol):
    def transaction(self): ...

    async def warm_up(self) -> None: ...

    async def close(self) -> None: ...


def create_batch_store(db: Database, *, connections: int) -> BatchStore:
    if db.is_sqlite:
        from server.ingest.batch_store import SqlBatchStore

        return SqlBatchStore(db)
    from server.ingest.batch_store_pg import PgBatchStore

    return PgBatchStore(db.url, connections=connections)

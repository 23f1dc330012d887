"""Engines for one database URL: SQLite (embedded) or PostgreSQL (production).

SQLite gets two engines: writers begin with BEGIN IMMEDIATE so concurrent writers queue on the
file lock instead of failing on a lock upgrade; readers keep deferred transactions and, in WAL
mode, never wait for a writer. PostgreSQL uses one engine for both.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a committed group survives a crash of the machine, not only of the process
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)


@dataclass
class Database:
    url: str
    write: AsyncEngine
    read: AsyncEngine

    @property
    def is_sqlite(self) -> bool:
        return self.write.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.write.dispose()
        if self.read is not self.write:
            await self.read.dispose()


def _sqlite_engine(url: str, *, immediate: bool, busy_timeout_ms: int) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # let SQLAlchemy, not the driver, decide when transactions begin
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def create_database(url: str, *, busy_timeout_ms: int = 30_000) -> Database:
    if url.startswith("sqlite"):
        return Database(
            url,
            _sqlite_engine(url, immediate=True, busy_timeout_ms=busy_timeout_ms),
            _sqlite_engine(url, immediate=False, busy_timeout_ms=busy_timeout_ms),
        )
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
    )
    return Database(url, engine, engine)

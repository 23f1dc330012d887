"""Engines for one database URL: SQLite (embedded) or PostgreSQL (production).

SQLite gets two engines: writers begin with BEGIN IMMEDIATE so concurrent writers queue on the
file lock instead of failing on a lock upgrade; readers keep deferred transactions and, in WAL
mode, never wait for a writer. PostgreSQL uses one engine for both.

`replica` is where the analytics reads go (server/stats: kpis, goal stats, sessions, time
series, breakdowns and filtered stats): a PostgreSQL read replica when
GOALPOST_READ_DATABASE_URL is set, else `read`; on PostgreSQL without transactions.
Everything that must see its own writes at once (sites, goals, API keys and their revocation,
ingestion) stays on `read`/`write`, the primary.
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
    replica: AsyncEngine

    @property
    def is_sqlite(self) -> bool:
        return self.write.dialect.name == "sqlite"

    async def dispose(self) -> None:
        pools = set()  # `replica` may be `read` with other execution options: the same pool
        for engine in (self.write, self.read, self.replica):
            if id(engine.sync_engine.pool) not in pools:
                pools.add(id(engine.sync_engine.pool))
                await engine.dispose()


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


def _pg_engine(url: str) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def create_database(url: str, *, replica_url: str | None = None,
                    busy_timeout_ms: int = 30_000) -> Database:
    if url.startswith("sqlite"):
        read = _sqlite_engine(url, immediate=False, busy_timeout_ms=busy_timeout_ms)
        # an embedded database has no replicas
        return Database(url, _sqlite_engine(url, immediate=True, busy_timeout_ms=busy_timeout_ms),
                        read, read)
    engine = _pg_engine(url)
    replica = _pg_engine(replica_url) if replica_url else engine
    # Analytics reads run outside a transaction: under READ COMMITTED each statement sees its
    # own snapshot either way, and a connection then costs no BEGIN and no ROLLBACK round trip
    # (a rolled-up breakdown takes two connections: four round trips fewer).
    return Database(url, engine, engine, replica.execution_options(isolation_level="AUTOCOMMIT"))

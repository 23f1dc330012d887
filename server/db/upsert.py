"""INSERT … ON CONFLICT for whichever dialect the connection speaks."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn, table):
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {dialect}")


def insert_ignore(conn, table, rows: list[dict]):
    """Insert rows, skipping those whose primary key exists already."""
    return _insert(conn, table).values(rows).on_conflict_do_nothing()

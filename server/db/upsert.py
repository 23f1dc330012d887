"""INSERT … ON CONFLICT for whichever dialect the connection speaks."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(conn, table):
    """The INSERT construct of the connection's dialect, which knows ON CONFLICT."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {dialect}")


def insert_ignore(conn, table, rows: list[dict]):
    """Insert rows, skipping those whose primary key exists already."""
    return dialect_insert(conn, table).values(rows).on_conflict_do_nothing()


def insert_or_touch(conn, table, conflict_columns: list[str], touch_column: str):
    """Insert rows, or on a key conflict set `touch_column` to itself: either way the row is
    locked until commit (PostgreSQL) and RETURNING gives its current values."""
    stmt = dialect_insert(conn, table)
    column = table.c[touch_column]
    return stmt.on_conflict_do_update(index_elements=conflict_columns,
                                      set_={touch_column: column})

"""Reading what the server stored, straight from the database, for assertions."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from server.db.models import events, metadata, sessions


async def stored_events(db, site_id) -> list[dict]:
    async with db.read.connect() as conn:
        rows = await conn.execute(
            select(events).where(events.c.site_id == site_id).order_by(events.c.occurred_at,
                                                                        events.c.id))
        return [dict(r._mapping) for r in rows]


async def stored_sessions(db, site_id) -> list[dict]:
    async with db.read.connect() as conn:
        rows = await conn.execute(
            select(sessions).where(sessions.c.site_id == site_id).order_by(sessions.c.started_at))
        return [dict(r._mapping) for r in rows]


async def count_events(db, site_id) -> int:
    async with db.read.connect() as conn:
        return (await conn.execute(
            select(func.count()).select_from(events).where(events.c.site_id == site_id))).scalar()


async def all_stored_text(db) -> str:
    """Every value of every table as one string: to prove something was never stored."""
    parts = []
    async with db.read.connect() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                parts.append(json.dumps([str(v) for v in row]))
    return "\n".join(parts)

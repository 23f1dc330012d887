"""Reading a site's goals as plain matching data, and marking that they changed.

Every write to a site's goals must call `bump_version` in the same transaction: ingestion in any
process compares the version it matched with against the database before it stores an event
(the writer reads it with the visitor locks, server/ingest/batch_store*.py).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from server.db.models import goal_conditions, goals, sites
from server.goals.model import Condition, Goal


async def load_goals(conn, site_id: uuid.UUID) -> list[Goal]:
    goal_rows = (await conn.execute(
        select(goals).where(goals.c.site_id == site_id).order_by(goals.c.priority)
    )).all()
    cond_rows = (await conn.execute(
        select(goal_conditions)
        .where(goal_conditions.c.site_id == site_id)
        .order_by(goal_conditions.c.goal_id, goal_conditions.c.position)
    )).all()
    by_goal: dict[uuid.UUID, list[Condition]] = {}
    for c in cond_rows:
        by_goal.setdefault(c.goal_id, []).append(Condition(c.field, c.operator, c.value))
    return [
        Goal(
            id=g.id, name=g.name, type=g.type, conditions=tuple(by_goal.get(g.id, ())),
            match_logic=g.match_logic, counts_as_conversion=bool(g.counts_as_conversion),
            priority=g.priority,
        )
        for g in goal_rows
    ]


async def bump_version(conn, site_id: uuid.UUID) -> None:
    await conn.execute(
        update(sites).where(sites.c.id == site_id).values(goals_version=sites.c.goals_version + 1)
    )

"""Reading goals from the database, and marking that a site's goals changed.

`records` is the one query for goals with their conditions: the service's reads and the
matcher's `load_goals` both go through it.

Every write to a site's goals must call `bump_version` in the same transaction: ingestion in any
process compares the version it matched with against the database before it stores an event
(the writer reads it with the visitor locks, server/ingest/batch_store*.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from server.db.models import goal_conditions, goals, sites
from server.goals.model import Condition, Goal
from server.goals.validation import Badge


@dataclass(frozen=True, slots=True)
class GoalRecord:
    id: uuid.UUID
    site_id: uuid.UUID
    name: str
    type: str
    conditions: tuple[Condition, ...]
    match_logic: str
    counts_as_conversion: bool
    badge: Badge
    priority: int
    created_at: int
    updated_at: int

    def as_goal(self) -> Goal:
        return Goal(self.id, self.name, self.type, self.conditions, self.match_logic,
                    self.counts_as_conversion, self.priority)


async def records(conn, where) -> list[GoalRecord]:
    """The goals matching `where` (a condition on the goals table) in priority order, with their
    conditions: two statements for any number of goals (one when there are none)."""
    rows = (await conn.execute(select(goals).where(where).order_by(goals.c.priority))).all()
    if not rows:
        return []
    conds = await conn.execute(
        select(goal_conditions)
        .where(goal_conditions.c.goal_id.in_([r.id for r in rows]))
        .order_by(goal_conditions.c.goal_id, goal_conditions.c.position)
    )
    by_goal: dict[uuid.UUID, list[Condition]] = {}
    for c in conds:
        by_goal.setdefault(c.goal_id, []).append(Condition(c.field, c.operator, c.value))
    return [record_of(r, tuple(by_goal.get(r.id, ()))) for r in rows]


def record_of(row, conditions: tuple[Condition, ...]) -> GoalRecord:
    """A goals row (SELECT or RETURNING of every column) with its conditions."""
    return GoalRecord(row.id, row.site_id, row.name, row.type, conditions, row.match_logic,
                      bool(row.counts_as_conversion), Badge(row.badge_color, row.badge_icon),
                      row.priority, row.created_at, row.updated_at)


async def load_goals(conn, site_id: uuid.UUID) -> list[Goal]:
    """The site's goals in priority order, as the matcher wants them."""
    return [r.as_goal() for r in await records(conn, goals.c.site_id == site_id)]


async def bump_version(conn, site_id: uuid.UUID) -> int:
    """goals_version += 1 for the site; returns how many rows changed (0: no such site)."""
    result = await conn.execute(
        update(sites).where(sites.c.id == site_id).values(goals_version=sites.c.goals_version + 1)
    )
    return result.rowcount

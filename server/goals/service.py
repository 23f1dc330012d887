"""Goals: create, update, delete, reorder, read. Services own their transactions.

Every change to a site's goals starts by bumping the site's goals_version: that UPDATE takes
the site row's lock, so concurrent changes to one site's goals run one after another (on
SQLite the write lock does the same) and priorities stay 1..n; and it tells ingestion in every
process that the goals changed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from server.clock import now_us
from server.db.engine import Database
from server.db.models import goal_conditions, goals
from server.errors import InvalidInput, NotFound
from server.goals.model import Condition
from server.goals.store import GoalRecord, bump_version, record_of, records
from server.goals.validation import (
    DEFAULT_BADGE_COLOR,
    MAX_GOALS_PER_SITE,
    clean_badge,
    clean_conditions,
    clean_match_logic,
    clean_name,
    clean_type,
)
from server.ids import new_id

# Priorities move through this range while they are renumbered, so that the unique
# (site_id, priority) index never sees two goals at one priority mid-statement.
SHIFT = 1_000_000


async def list_goals(db: Database, *, site_id: uuid.UUID) -> list[GoalRecord]:
    async with db.read.connect() as conn:
        return await records(conn, goals.c.site_id == site_id)


async def list_goals_for_sites(db: Database, *, site_ids: list[uuid.UUID]
                               ) -> dict[uuid.UUID, list[GoalRecord]]:
    """site id -> its goals in priority order, for many sites in one pair of statements."""
    out: dict[uuid.UUID, list[GoalRecord]] = {s: [] for s in site_ids}
    if not site_ids:
        return out
    async with db.read.connect() as conn:
        for record in await records(conn, goals.c.site_id.in_(site_ids)):
            out[record.site_id].append(record)
    return out


async def get_many(db: Database, *, goal_ids: list[uuid.UUID]) -> list[GoalRecord]:
    async with db.read.connect() as conn:
        return await records(conn, goals.c.id.in_(goal_ids))


async def get(db: Database, *, goal_id: uuid.UUID) -> GoalRecord | None:
    found = await get_many(db, goal_ids=[goal_id])
    return found[0] if found else None


async def get_or_raise(db: Database, *, goal_id: uuid.UUID) -> GoalRecord:
    goal = await get(db, goal_id=goal_id)
    if goal is None:
        raise NotFound("no such goal", field="id")
    return goal


async def _lock_site(conn, site_id: uuid.UUID) -> None:
    """First statement of every goal write: bumps goals_version, taking the site row's lock."""
    if await bump_version(conn, site_id) == 0:
        raise NotFound("no such site", field="siteId")


async def _count(conn, site_id: uuid.UUID) -> int:
    return (await conn.execute(
        select(func.count()).select_from(goals).where(goals.c.site_id == site_id)
    )).scalar_one()


async def _check_name_free(conn, site_id: uuid.UUID, name: str, except_id=None) -> None:
    query = select(goals.c.id).where(goals.c.site_id == site_id,
                                     goals.c.name_key == name.lower())
    if except_id is not None:
        query = query.where(goals.c.id != except_id)
    if (await conn.execute(query)).first() is not None:
        raise InvalidInput(f"this site has a goal named {name!r} already", field="name")


async def _shift(conn, site_id: uuid.UUID, *, at_or_above: int, by: int) -> None:
    """priority += by for priorities >= at_or_above, via the SHIFT range."""
    scope = (goals.c.site_id == site_id)
    await conn.execute(update(goals).where(scope, goals.c.priority >= at_or_above)
                       .values(priority=goals.c.priority + SHIFT))
    await conn.execute(update(goals).where(scope, goals.c.priority >= SHIFT)
                       .values(priority=goals.c.priority - SHIFT + by))


async def _write_conditions(conn, site_id, goal_id, conditions: tuple[Condition, ...]) -> None:
    await conn.execute(delete(goal_conditions).where(goal_conditions.c.site_id == site_id,
                                                     goal_conditions.c.goal_id == goal_id))
    await conn.execute(goal_conditions.insert(), [
        {"site_id": site_id, "goal_id": goal_id, "position": i, "field": c.field,
         "operator": c.operator, "value": c.value}
        for i, c in enumerate(conditions)
    ])


def _integrity(error: IntegrityError) -> InvalidInput:
    text = str(error.orig).lower()
    if "name_key" in text:
        return InvalidInput("this site has a goal with that name already", field="name")
    return InvalidInput("the goal breaks a storage constraint", field=None)


async def create_goal(db: Database, *, site_id: uuid.UUID, name: str, type: str,
                      conditions: list[tuple[str, str, str | None]],
                      match_logic: str | None = "ALL", counts_as_conversion: bool | None = True,
                      badge_color: str | None = None, badge_icon: str | None = None,
                      priority: int | None = None) -> GoalRecord:
    """None (an explicit null) for match_logic, counts_as_conversion or the badge: the default
    (ALL, true, DEFAULT_BADGE_COLOR); priority None: last."""
    name = clean_name(name)
    type = clean_type(type)
    cleaned = clean_conditions(type, conditions)
    match_logic = clean_match_logic("ALL" if match_logic is None else match_logic)
    counts_as_conversion = True if counts_as_conversion is None else counts_as_conversion
    badge = clean_badge(badge_color or DEFAULT_BADGE_COLOR, badge_icon)
    if priority is not None and priority < 1:
        raise InvalidInput("priority must be 1 or more", field="priority")
    goal_id = new_id()
    now = now_us()
    try:
        async with db.write.begin() as conn:
            await _lock_site(conn, site_id)
            await _check_name_free(conn, site_id, name)
            last = await _count(conn, site_id) + 1
            if last > MAX_GOALS_PER_SITE:
                raise InvalidInput(f"a site has at most {MAX_GOALS_PER_SITE} goals: delete one "
                                   "first", field="siteId")
            at = last if priority is None else min(priority, last)
            if at < last:
                await _shift(conn, site_id, at_or_above=at, by=1)
            await conn.execute(goals.insert().values(
                site_id=site_id, id=goal_id, name=name, name_key=name.lower(), type=type,
                match_logic=match_logic, counts_as_conversion=counts_as_conversion,
                badge_color=badge.color, badge_icon=badge.icon, priority=at, created_at=now,
                updated_at=now))
            await _write_conditions(conn, site_id, goal_id, cleaned)
    except IntegrityError as error:
        raise _integrity(error) from None
    return GoalRecord(goal_id, site_id, name, type, cleaned, match_logic, counts_as_conversion,
                      badge, at, now, now)


async def _current(db: Database, goal_id: uuid.UUID, current: GoalRecord | None) -> GoalRecord:
    if current is not None and current.id == goal_id:
        return current
    return await get_or_raise(db, goal_id=goal_id)


async def update_goal(db: Database, *, goal_id: uuid.UUID, name: str | None = None,
                      conditions: list[tuple[str, str, str | None]] | None = None,
                      match_logic: str | None = None, counts_as_conversion: bool | None = None,
                      badge_color: str | None = None, badge_icon: str | None = None,
                      current: GoalRecord | None = None) -> GoalRecord:
    """Changes what is given (a badge is given by its colour). `current`: the goal as the caller
    has read it already in this request (its site and type), to save reading it again."""
    current = await _current(db, goal_id, current)
    values: dict = {}
    if name is not None:
        values["name"] = clean_name(name)
        values["name_key"] = values["name"].lower()
    cleaned = clean_conditions(current.type, conditions) if conditions is not None else None
    if match_logic is not None:
        values["match_logic"] = clean_match_logic(match_logic)
    if counts_as_conversion is not None:
        values["counts_as_conversion"] = counts_as_conversion
    if badge_color is not None:
        badge = clean_badge(badge_color, badge_icon)
        values["badge_color"], values["badge_icon"] = badge.color, badge.icon
    try:
        async with db.write.begin() as conn:
            await _lock_site(conn, current.site_id)
            if "name" in values:
                await _check_name_free(conn, current.site_id, values["name"], except_id=goal_id)
            values["updated_at"] = now_us()
            # the row as written (under the site lock: its priority is the current one)
            row = (await conn.execute(
                update(goals).where(goals.c.site_id == current.site_id, goals.c.id == goal_id)
                .values(**values).returning(*goals.c))).first()
            if row is None:
                raise NotFound("no such goal", field="id")
            if cleaned is not None:
                await _write_conditions(conn, current.site_id, goal_id, cleaned)
    except IntegrityError as error:
        raise _integrity(error) from None
    return record_of(row, current.conditions if cleaned is None else cleaned)


async def delete_goal(db: Database, *, goal_id: uuid.UUID,
                      current: GoalRecord | None = None) -> uuid.UUID:
    """`current` as for update_goal."""
    current = await _current(db, goal_id, current)
    async with db.write.begin() as conn:
        await _lock_site(conn, current.site_id)
        priority = (await conn.execute(
            delete(goals).where(goals.c.site_id == current.site_id, goals.c.id == goal_id)
            .returning(goals.c.priority))).scalar()
        if priority is None:
            raise NotFound("no such goal", field="id")
        await _shift(conn, current.site_id, at_or_above=priority + 1, by=-1)
    return goal_id


async def reorder_goals(db: Database, *, site_id: uuid.UUID, goal_ids: list[uuid.UUID]
                        ) -> list[GoalRecord]:
    if len(set(goal_ids)) != len(goal_ids):
        raise InvalidInput("goalIds lists a goal twice", field="goalIds")
    async with db.write.begin() as conn:
        await _lock_site(conn, site_id)
        existing = set((await conn.execute(
            select(goals.c.id).where(goals.c.site_id == site_id))).scalars())
        if set(goal_ids) != existing:
            missing, foreign = existing - set(goal_ids), set(goal_ids) - existing
            detail = (f"{len(missing)} of the site's goals are missing" if missing
                      else f"{len(foreign)} ids are not goals of this site")
            raise InvalidInput(f"goalIds must list every goal of the site exactly once: {detail}",
                               field="goalIds")
        scope = goals.c.site_id == site_id
        await conn.execute(update(goals).where(scope).values(priority=goals.c.priority + SHIFT))
        if goal_ids:
            await conn.execute(
                update(goals)
                .where(goals.c.site_id == bindparam("b_site"), goals.c.id == bindparam("b_id"))
                .values(priority=bindparam("b_priority"), updated_at=bindparam("b_now")),
                [{"b_site": site_id, "b_id": gid, "b_priority": i + 1, "b_now": now_us()}
                 for i, gid in enumerate(goal_ids)],
            )
        return await records(conn, scope)

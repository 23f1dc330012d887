"""Goals: read, create, update, delete, reorder. Validation and priorities live in
server.goals.service; these only translate arguments and results."""

from __future__ import annotations

import strawberry

from server.goals import service as goals_service
from server.schema.goals import (
    ConditionInput,
    ConditionResult,
    CreateGoalInput,
    Goal,
    GoalMatch,
    MatchResult,
    TestEventInput,
    UpdateGoalInput,
)
from server.schema.common import given
from server.schema.permissions import parse_gid
from server.schema.sites import site_or_raise
from server.goals import dry_run


def _conditions(items: list[ConditionInput]) -> list[tuple[str, str, str | None]]:
    return [(c.field.value, c.operator.value, given(c.value)) for c in items]


async def goals(info: strawberry.Info, site_id: strawberry.ID) -> list[Goal]:
    """The site's goals in priority order."""
    site = await site_or_raise(info, site_id)
    return [Goal.of(r) for r in await info.context.loaders.goals_of_site.load(site.id)]


async def create_goal(info: strawberry.Info, input: CreateGoalInput) -> Goal:
    badge = given(input.badge)
    match_logic = given(input.match_logic)
    record = await goals_service.create_goal(
        info.context.db, site_id=parse_gid(input.site_id, "input.siteId"), name=input.name,
        type=input.type.value, conditions=_conditions(input.conditions),
        match_logic=None if match_logic is None else match_logic.value,
        counts_as_conversion=given(input.counts_as_conversion),
        badge_color=badge.color if badge else None,
        badge_icon=given(badge.icon) if badge else None, priority=given(input.priority))
    return Goal.of(record)


async def update_goal(info: strawberry.Info, id: strawberry.ID, input: UpdateGoalInput) -> Goal:
    goal_id = parse_gid(id, "id")
    badge = given(input.badge)
    conditions = given(input.conditions)
    match_logic = given(input.match_logic)
    record = await goals_service.update_goal(
        info.context.db, goal_id=goal_id, name=given(input.name),
        conditions=None if conditions is None else _conditions(conditions),
        match_logic=None if match_logic is None else match_logic.value,
        counts_as_conversion=given(input.counts_as_conversion),
        badge_color=badge.color if badge else None,
        badge_icon=given(badge.icon) if badge else None,
        current=await info.context.loaders.goal.load(goal_id))  # read by the permission
    return Goal.of(record)


async def delete_goal(info: strawberry.Info, id: strawberry.ID) -> strawberry.ID:
    """Deletes the goal; the goals after it move up one priority. Stored events keep their
    goal id (Event.goal becomes null)."""
    goal_id = parse_gid(id, "id")
    deleted = await goals_service.delete_goal(
        info.context.db, goal_id=goal_id,
        current=await info.context.loaders.goal.load(goal_id))  # read by the permission
    return strawberry.ID(str(deleted))


async def reorder_goals(info: strawberry.Info, site_id: strawberry.ID,
                        goal_ids: list[strawberry.ID]) -> list[Goal]:
    """goalIds: every goal of the site exactly once, first = priority 1."""
    records = await goals_service.reorder_goals(
        info.context.db, site_id=parse_gid(site_id, "siteId"),
        goal_ids=[parse_gid(g, f"goalIds.{i}") for i, g in enumerate(goal_ids)])
    return [Goal.of(r) for r in records]


async def test_event(info: strawberry.Info, site_id: strawberry.ID,
                     event: TestEventInput) -> MatchResult:
    """Dry run: the event goes through ingestion's field checks, its facts (put_facts) and
    goal matcher; nothing is stored."""
    context = info.context
    site = await site_or_raise(info, site_id)
    records = await context.loaders.goals_of_site.load(site.id)
    result = dry_run.dry_run(
        [r.as_goal() for r in records], max_props_bytes=context.settings.max_props_bytes,
        fields={"type": event.type, "url": given(event.url), "name": given(event.name),
                "props": given(event.props), "click": given(event.click),
                "form": given(event.form)})
    by_id = {r.id: Goal.of(r) for r in records}
    tried = [GoalMatch(goal=by_id[m.goal.id], matched=m.matched,
                       conditions=[ConditionResult.of(c) for c in m.conditions])
             for m in result.tried]
    winner = by_id[result.goal.id] if result.goal is not None else None
    return MatchResult(goal=winner, tried=tried)

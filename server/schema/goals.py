"""Goals: enums, the Goal type, its inputs, and the testEvent result types."""

from __future__ import annotations

import enum
import uuid

import strawberry
from strawberry.scalars import JSON

from server.goals.model import CONDITION_FIELDS, GOAL_TYPES, MATCH_LOGICS, OPERATORS
from server.goals.model import Condition as ConditionModel
from server.goals.model import ConditionResult as ConditionResultModel
from server.goals.service import GoalRecord
from server.schema.sites import Site, load_site


def _enum(name: str, values: tuple[str, ...]) -> type[enum.Enum]:
    """A GraphQL enum whose values are exactly the stored ones (server/goals/model.py), so the
    schema, the validation and the CHECK constraints can't drift apart."""
    return strawberry.enum(enum.Enum(name, {v: v for v in values}, module=__name__))


GoalType = _enum("GoalType", GOAL_TYPES)
ConditionField = _enum("ConditionField", CONDITION_FIELDS)
Operator = _enum("Operator", OPERATORS)
MatchLogic = _enum("MatchLogic", MATCH_LOGICS)


@strawberry.type
class Condition:
    field: ConditionField
    operator: Operator
    value: str | None

    @classmethod
    def of(cls, c: ConditionModel) -> "Condition":
        return cls(field=ConditionField(c.field), operator=Operator(c.operator), value=c.value)


@strawberry.type
class Badge:
    color: str = strawberry.field(description="CSS hex colour, e.g. #4F46E5.")
    icon: str | None


@strawberry.type
class Goal:
    id: strawberry.ID
    record: strawberry.Private[GoalRecord]

    @classmethod
    def of(cls, record: GoalRecord) -> "Goal":
        return cls(id=strawberry.ID(str(record.id)), record=record)

    @strawberry.field
    async def site(self, info: strawberry.Info) -> Site:
        return await load_site(info, self.record.site_id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def type(self) -> GoalType:
        return GoalType(self.record.type)

    @strawberry.field
    def conditions(self) -> list[Condition]:
        return [Condition.of(c) for c in self.record.conditions]

    @strawberry.field
    def match_logic(self) -> MatchLogic:
        return MatchLogic(self.record.match_logic)

    @strawberry.field(description="1 = tried first; the site's goals are numbered 1..n.")
    def priority(self) -> int:
        return self.record.priority

    @strawberry.field
    def counts_as_conversion(self) -> bool:
        return self.record.counts_as_conversion

    @strawberry.field
    def badge(self) -> Badge:
        return Badge(color=self.record.badge.color, icon=self.record.badge.icon)


async def load_goal(info: strawberry.Info, goal_id: uuid.UUID | None) -> Goal | None:
    if goal_id is None:
        return None
    record = await info.context.loaders.goal.load(goal_id)
    return None if record is None else Goal.of(record)


@strawberry.input
class ConditionInput:
    field: ConditionField
    operator: Operator
    value: str | None = strawberry.UNSET


@strawberry.input
class BadgeInput:
    color: str
    icon: str | None = strawberry.UNSET


@strawberry.input
class CreateGoalInput:
    site_id: strawberry.ID
    name: str
    type: GoalType
    conditions: list[ConditionInput]
    match_logic: MatchLogic | None = MatchLogic.ALL
    counts_as_conversion: bool | None = True
    badge: BadgeInput | None = strawberry.UNSET
    priority: int | None = strawberry.field(
        default=strawberry.UNSET, description="Where to insert (goals at and after it move down); "
                                  "omitted or beyond the end: evaluated last.")


@strawberry.input(description="Only what is given changes; the type of a goal never changes.")
class UpdateGoalInput:
    name: str | None = strawberry.UNSET
    conditions: list[ConditionInput] | None = strawberry.UNSET
    match_logic: MatchLogic | None = strawberry.UNSET
    counts_as_conversion: bool | None = strawberry.UNSET
    badge: BadgeInput | None = strawberry.UNSET


@strawberry.input(description="The same fields as POST /api/event.")
class TestEventInput:
    type: str
    url: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    props: JSON | None = strawberry.UNSET
    click: JSON | None = strawberry.UNSET
    form: JSON | None = strawberry.UNSET


@strawberry.type
class ConditionResult:
    condition: Condition
    actual: str | None = strawberry.field(
        description="The value the event had for the condition's field (null: it had none).")
    matched: bool

    @classmethod
    def of(cls, r: ConditionResultModel) -> "ConditionResult":
        return cls(condition=Condition.of(r.condition), actual=r.actual, matched=r.matched)


@strawberry.type
class GoalMatch:
    goal: Goal
    matched: bool
    conditions: list[ConditionResult]


@strawberry.type
class MatchResult:
    goal: Goal | None = strawberry.field(description="The winner: the first goal, in priority "
                                                     "order, that matched; null when none did.")
    tried: list[GoalMatch] = strawberry.field(description="Every goal of the event's type, "
                                                          "in priority order.")

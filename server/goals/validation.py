"""Goal input is cleaned (names and badges trimmed, colours upper-cased), then checked; the
database constraints repeat the checks so that a goal the API refuses can't be stored by any
other path either."""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.errors import InvalidInput
from server.goals.model import (
    CONDITION_FIELDS,
    FIELDS_FOR_GOAL_TYPE,
    GOAL_TYPES,
    MATCH_LOGICS,
    OPERATORS,
    VALUELESS_OPERATORS,
    Condition,
)

HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
MAX_CONDITIONS = 20
# Every event is tried against its site's goals; a dashboard lists them all on one page.
MAX_GOALS_PER_SITE = 200
MAX_VALUE = 1000
DEFAULT_BADGE_COLOR = "#4F46E5"


@dataclass(frozen=True, slots=True)
class Badge:
    color: str
    icon: str | None = None


def clean_name(raw: str) -> str:
    name = (raw or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("a goal name must be 1 to 100 characters", field="name")
    return name


def clean_type(raw: str) -> str:
    if raw not in GOAL_TYPES:
        raise InvalidInput(f"type must be one of {', '.join(GOAL_TYPES)}", field="type")
    return raw


def clean_match_logic(raw: str) -> str:
    if raw not in MATCH_LOGICS:
        raise InvalidInput("matchLogic must be ALL or ANY", field="matchLogic")
    return raw


def clean_badge(color: str | None, icon: str | None) -> Badge:
    color = (color or "").strip()
    if not HEX_COLOR.match(color):
        raise InvalidInput("badge color must be a CSS hex colour like #1E90FF", field="badge.color")
    if icon is not None:
        icon = icon.strip() or None
        if icon is not None and len(icon) > 64:
            raise InvalidInput("badge icon is longer than 64 characters", field="badge.icon")
    return Badge(color.upper(), icon)


def clean_conditions(goal_type: str, raw: list[tuple[str, str, str | None]]) -> tuple[Condition, ...]:
    if not raw:
        raise InvalidInput("a goal needs at least one condition", field="conditions")
    if len(raw) > MAX_CONDITIONS:
        raise InvalidInput(f"a goal has at most {MAX_CONDITIONS} conditions", field="conditions")
    allowed = FIELDS_FOR_GOAL_TYPE[goal_type]
    cleaned = []
    for i, (field, operator, value) in enumerate(raw):
        where = f"conditions.{i}"
        if field not in CONDITION_FIELDS or field not in allowed:
            raise InvalidInput(
                f"{field} is not a field of {goal_type} goals (use {', '.join(allowed)})",
                field=f"{where}.field")
        if operator not in OPERATORS:
            raise InvalidInput(f"unknown operator {operator}", field=f"{where}.operator")
        if operator in VALUELESS_OPERATORS:
            if value not in (None, ""):
                raise InvalidInput(f"{operator} takes no value", field=f"{where}.value")
            value = None
        else:
            # compared as sent: no trimming, but it must say something
            if value is None or value == "":
                raise InvalidInput(f"{operator} needs a non-empty value", field=f"{where}.value")
            if len(value) > MAX_VALUE:
                raise InvalidInput(f"a condition value is at most {MAX_VALUE} characters",
                                   field=f"{where}.value")
        cleaned.append(Condition(field, operator, value))
    return tuple(cleaned)

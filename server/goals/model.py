"""Plain data shared by goal matching, ingestion and the API: no storage, no framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# The vocabulary, defined here once: validation, the GraphQL enums, the matcher and the
# database's CHECK constraints all read these tuples.
EVENT_TYPES = ("pageview", "click", "form", "custom")
GOAL_TYPES = ("CLICK", "PAGEVIEW", "FORM", "CUSTOM_EVENT")
MATCH_LOGICS = ("ALL", "ANY")
CONDITION_FIELDS = (
    "URL", "DOMAIN", "LINK_TEXT", "TITLE", "ASIN", "PATH", "FORM_NAME", "FORM_ID", "PLUGIN",
    "PAGE_URL", "EVENT_NAME", "PROPERTY_KEY", "PROPERTY_VALUE",
)
OPERATORS = (
    "CONTAINS", "NOT_CONTAINS", "EQUALS", "NOT_EQUALS", "STARTS_WITH", "ENDS_WITH",
    "IS_EMPTY", "IS_NOT_EMPTY",
)

# event type on the wire -> the goal type that may match it
GOAL_TYPE_FOR_EVENT = {
    "pageview": "PAGEVIEW",
    "click": "CLICK",
    "form": "FORM",
    "custom": "CUSTOM_EVENT",
}

FIELDS_FOR_GOAL_TYPE = {
    "CLICK": ("URL", "DOMAIN", "LINK_TEXT", "TITLE", "ASIN"),
    "PAGEVIEW": ("PATH",),
    "FORM": ("FORM_NAME", "FORM_ID", "PLUGIN", "PAGE_URL"),
    "CUSTOM_EVENT": ("EVENT_NAME", "PROPERTY_KEY", "PROPERTY_VALUE"),
}

VALUELESS_OPERATORS = frozenset({"IS_EMPTY", "IS_NOT_EMPTY"})


@dataclass(frozen=True, slots=True)
class Condition:
    field: str  # one of FIELDS_FOR_GOAL_TYPE[goal.type]
    operator: str  # CONTAINS, NOT_CONTAINS, EQUALS, NOT_EQUALS, STARTS_WITH, ENDS_WITH, IS_EMPTY, IS_NOT_EMPTY
    value: str | None = None  # None exactly for IS_EMPTY / IS_NOT_EMPTY


@dataclass(frozen=True, slots=True)
class Goal:
    id: Any
    name: str
    type: str  # CLICK | PAGEVIEW | FORM | CUSTOM_EVENT
    conditions: tuple[Condition, ...]
    match_logic: str = "ALL"  # ALL | ANY
    counts_as_conversion: bool = True
    priority: int = 1


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What matching may look at, as ingestion derived it from the event (put_facts)."""

    type: str  # pageview | click | form | custom
    path: str | None = None  # PATH: path of the page url
    click_url: str | None = None  # URL
    click_domain: str | None = None  # DOMAIN: lower-case host, leading "www." removed
    click_text: str | None = None  # LINK_TEXT and TITLE
    asin: str | None = None  # ASIN
    form_name: str | None = None  # FORM_NAME
    form_id: str | None = None  # FORM_ID
    plugin: str | None = None  # PLUGIN: cf7 | wpforms | gravity | html
    page_url: str | None = None  # PAGE_URL: path of the page the form was on
    name: str | None = None  # EVENT_NAME
    # PROPERTY_KEY / PROPERTY_VALUE: values already rendered as text (55 -> "55", true -> "true",
    # null -> None)
    props: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConditionResult:
    condition: Condition
    actual: str | None  # the value the event had for the field (for properties: the deciding one)
    matched: bool


@dataclass(frozen=True, slots=True)
class GoalMatch:
    goal: Goal
    matched: bool
    conditions: tuple[ConditionResult, ...]


@dataclass(frozen=True, slots=True)
class MatchResult:
    goal: Goal | None  # the winner: first matching goal in priority order
    tried: tuple[GoalMatch, ...]  # every goal of the event's type, in priority order

"""testEvent: an event as POST /api/event would carry it, through ingestion's own field checks
(`put_fields`), the facts goals match (`put_facts`) and goal matcher, without storing anything.

The caller passes the goals as read from the database for this request (not from any process
cache), so the answer reflects the goals as they are now.
"""

from __future__ import annotations

from typing import Any

from server.goals.matching import GoalMatcher
from server.goals.model import Goal, MatchResult
from server.ingest.event import Event, RequestInfo
from server.ingest.parse import put_fields
from server.ingest.pipeline import put_facts


def event_facts(fields: dict[str, Any], *, max_props_bytes: int):
    """The EventFacts ingestion would match for these fields (None values are left out, as if
    they had not been sent). Raises InvalidInput / TooLarge like POST /api/event does."""
    data = {k: v for k, v in fields.items() if v is not None}
    event = Event(RequestInfo(client_ip="", user_agent=""))
    put_fields(event, data, max_props_bytes=max_props_bytes)
    put_facts(None, event)  # the step ignores its context
    return event.facts


def dry_run(goals: list[Goal], *, fields: dict[str, Any], max_props_bytes: int) -> MatchResult:
    """How the matcher treats these fields against the site's `goals` (priority order)."""
    facts = event_facts(fields, max_props_bytes=max_props_bytes)
    return GoalMatcher(goals).explain(facts)

"""testEvent: an event as POST /api/event would carry it, through ingestion's own field checks
(`put_fields`), normalisation (`normalize`) and goal matcher, without storing anything.

The goals are read from the database at the time of the call (not from any process cache), so
the answer reflects the goals as they are now.
"""

from __future__ import annotations

import uuid
from typing import Any

from server.db.engine import Database
from server.goals.matching import GoalMatcher
from server.goals.model import MatchResult
from server.goals.store import load_goals
from server.ingest.event import Event, RequestInfo
from server.ingest.parse import put_fields
from server.ingest.pipeline import normalize


def event_facts(fields: dict[str, Any], *, max_props_bytes: int):
    """The EventFacts ingestion would match for these fields (None values are left out, as if
    they had not been sent). Raises InvalidInput / TooLarge like POST /api/event does."""
    data = {k: v for k, v in fields.items() if v is not None}
    event = Event(RequestInfo(client_ip="", user_agent=""))
    put_fields(event, data, max_props_bytes=max_props_bytes)
    normalize(None, event)  # the step ignores its context
    return event.facts


async def dry_run(db: Database, *, site_id: uuid.UUID, fields: dict[str, Any],
                  max_props_bytes: int) -> MatchResult:
    facts = event_facts(fields, max_props_bytes=max_props_bytes)
    async with db.read.connect() as conn:
        goals = await load_goals(conn, site_id)
    return GoalMatcher(goals).explain(facts)

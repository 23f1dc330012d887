"""sessions: newest first, cursor pagination."""

from __future__ import annotations

import strawberry

from server.schema.common import DateRange, PageInfo, given, to_range
from server.schema.permissions import parse_gid
from server.schema.sessions import Session, SessionConnection, SessionEdge, SessionFilter
from server.schema.sites import site_or_raise
from server.stats import sessions as session_stats


async def sessions(info: strawberry.Info, site_id: strawberry.ID,
                   range: DateRange | None = strawberry.UNSET,
                   filter: SessionFilter | None = strawberry.UNSET,
                   first: int | None = session_stats.DEFAULT_PAGE,
                   after: str | None = strawberry.UNSET) -> SessionConnection:
    """Sessions that started in the range, newest first. `first` is 0..100 (more is
    BAD_USER_INPUT); `after` is the endCursor of the previous page."""
    db = info.context.db
    r = to_range(range)
    filter = given(filter)
    converted = given(filter.converted) if filter else None
    goal_id = given(filter.goal_id) if filter else None
    if goal_id is not None:
        goal_id = parse_gid(goal_id, "filter.goalId")
    site = await site_or_raise(info, site_id)
    page = await session_stats.sessions_page(
        db, site_id=site.id, range=r, converted=converted,
        goal_id=goal_id, first=first, after=given(after))
    edges = [SessionEdge(cursor=session_stats.encode_cursor(row.started_at, row.id),
                         node=Session.of(row)) for row in page.rows]
    return SessionConnection(
        edges=edges, total_count=page.total,
        page_info=PageInfo(has_next_page=page.has_next,
                           end_cursor=edges[-1].cursor if edges else given(after)))

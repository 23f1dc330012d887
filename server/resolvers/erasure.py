"""deleteSite (admin) and eraseVisitor (the site's key or the admin): audited in the log."""

from __future__ import annotations

import strawberry

from server.lifecycle import erasure
from server.schema.common import given
from server.schema.erasure import VisitorErasure
from server.schema.permissions import parse_gid, principal_of


def _who(info: strawberry.Info) -> str:
    principal = principal_of(info)
    return "the admin" if principal.admin else f"the API key of site {principal.site_id}"


async def delete_site(info: strawberry.Info, id: strawberry.ID) -> strawberry.ID:
    """Admin only. Deletes the site and every row of it in every table; answers its id."""
    site_id = parse_gid(id, "id")
    await erasure.delete_site(info.context.db, site_id=site_id, by=_who(info))
    return strawberry.ID(str(site_id))


async def erase_visitor(info: strawberry.Info, site_id: strawberry.ID,
                        user_id: str | None = strawberry.UNSET,
                        anonymous_id: str | None = strawberry.UNSET) -> VisitorErasure:
    """Exactly one of userId (every visitor that sent an event with it) and anonymousId.
    Removes their events, sessions and session state from every table."""
    result = await erasure.erase_visitor(
        info.context.db, site_id=parse_gid(site_id, "siteId"), by=_who(info),
        user_id=given(user_id), anonymous_id=given(anonymous_id))
    return VisitorErasure(events=result.events, sessions=result.sessions)

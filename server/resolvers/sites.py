"""Sites: list, read, create."""

from __future__ import annotations

import strawberry

from server.schema.common import given
from server.schema.permissions import parse_gid, principal_of
from server.schema.sites import Site, Viewer
from server.sites import service as sites_service


async def sites(info: strawberry.Info) -> list[Site]:
    """The sites the caller may see: every site for the admin, its own for a site key."""
    principal = principal_of(info)
    ids = None if principal.admin else [principal.site_id]
    return [Site.of(r) for r in await sites_service.list_sites(info.context.db, ids=ids)]


def viewer(info: strawberry.Info) -> Viewer:
    """What the caller's token may do, so a client shows only what it can use."""
    principal = principal_of(info)
    site_id = None if principal.site_id is None else strawberry.ID(str(principal.site_id))
    return Viewer(admin=principal.admin, site_id=site_id)


async def site(info: strawberry.Info, id: strawberry.ID) -> Site | None:
    """The site with this id; null when there is none (the admin) - a site key asking for
    another site is FORBIDDEN."""
    record = await info.context.loaders.site.load(parse_gid(id, "id"))
    return None if record is None else Site.of(record)


async def create_site(info: strawberry.Info, domain: str, name: str | None = strawberry.UNSET,
                      timezone: str | None = "UTC") -> Site:
    """Admin only. The domain is made canonical (scheme, path, port and a leading www. dropped)."""
    record = await sites_service.create(info.context.db, domain=domain, name=given(name),
                                        timezone=given(timezone))
    return Site.of(record)


async def update_site(info: strawberry.Info, id: strawberry.ID,
                      name: str | None = strawberry.UNSET,
                      timezone: str | None = strawberry.UNSET) -> Site:
    """Renames the site (null or blank: no name) or moves it to another IANA time zone; an
    omitted argument stays as it is."""
    record = await sites_service.update(info.context.db, site_id=parse_gid(id, "id"),
                                       name=given(name), clear_name=name is None,
                                       timezone=given(timezone))
    info.context.loaders.site.prime(record.id, record, force=True)
    return Site.of(record)

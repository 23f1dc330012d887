"""The Site type."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from server.errors import NotFound
from server.goals.validation import MAX_GOALS_PER_SITE
from server.schema.permissions import IsAdmin, parse_gid
from server.sites.service import Site as SiteRecord

if TYPE_CHECKING:
    from server.schema.goals import Goal
    from server.schema.keys import ApiKey


@strawberry.type
class Site:
    id: strawberry.ID
    domain: str
    name: str | None
    timezone: str = strawberry.field(description="IANA time zone; days and hours of the "
                                                 "time series are the site's.")
    record: strawberry.Private[SiteRecord]

    @classmethod
    def of(cls, record: SiteRecord) -> "Site":
        return cls(id=strawberry.ID(str(record.id)), domain=record.domain, name=record.name,
                   timezone=record.timezone, record=record)

    @strawberry.field(description="The site's goals in priority order (1 first).",
                      metadata={"max_items": MAX_GOALS_PER_SITE})
    async def goals(self, info: strawberry.Info
                    ) -> list[Annotated["Goal", strawberry.lazy("server.schema.goals")]]:
        from server.schema.goals import Goal

        records = await info.context.loaders.goals_of_site.load(self.record.id)
        return [Goal.of(r) for r in records]

    # admin only (contract §4: a site key never sees its keys), like creating and revoking them
    @strawberry.field(description="The site's API keys, oldest first, revoked ones included "
                                  "(their secrets are never shown again). Admin only.",
                      permission_classes=[IsAdmin])
    async def api_keys(self, info: strawberry.Info
                       ) -> list[Annotated["ApiKey", strawberry.lazy("server.schema.keys")]]:
        from server.schema.keys import ApiKey

        records = await info.context.loaders.api_keys_of_site.load(self.record.id)
        return [ApiKey.of(r) for r in records]


async def load_site(info: strawberry.Info, site_id: uuid.UUID) -> Site:
    record = await info.context.loaders.site.load(site_id)
    return Site.of(record)


async def site_or_raise(info: strawberry.Info, raw, field: str = "siteId") -> SiteRecord:
    """The site an argument names, through the per-request loader (one read per request for
    any number of top-level fields); NOT_FOUND when there is none."""
    record = await info.context.loaders.site.load(parse_gid(raw, field))
    if record is None:
        raise NotFound("no such site", field=field)
    return record


@strawberry.type(description="Who the bearer token is: the admin, or one site's API key.")
class Viewer:
    admin: bool = strawberry.field(description="True for the admin token (every site, API keys, "
                                               "new sites).")
    site_id: strawberry.ID | None = strawberry.field(description="The site of a site API key; "
                                                                 "null for the admin.")

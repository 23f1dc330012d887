"""API key types."""

from __future__ import annotations

import datetime as dt

import strawberry

from server.auth.keys import ApiKey as ApiKeyRecord
from server.clock import to_datetime
from server.schema.sites import Site, load_site


@strawberry.type
class ApiKey:
    id: strawberry.ID
    label: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    record: strawberry.Private[ApiKeyRecord]

    @classmethod
    def of(cls, record: ApiKeyRecord) -> "ApiKey":
        return cls(id=strawberry.ID(str(record.id)), label=record.label,
                   created_at=to_datetime(record.created_at),
                   revoked_at=None if record.revoked_at is None else to_datetime(record.revoked_at),
                   record=record)

    @strawberry.field
    async def site(self, info: strawberry.Info) -> Site:
        return await load_site(info, self.record.site_id)


@strawberry.type
class CreatedApiKey:
    api_key: ApiKey
    secret: str = strawberry.field(description="The key to send as 'Authorization: Bearer "
                                               "<secret>'. Shown once: only its hash is kept.")

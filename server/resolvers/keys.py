"""Site API keys: create (the secret is shown once) and revoke (effective at once)."""

from __future__ import annotations

import strawberry

from server.auth import keys as keys_service
from server.schema.common import given
from server.schema.keys import ApiKey, CreatedApiKey
from server.schema.permissions import parse_gid


async def create_api_key(info: strawberry.Info, site_id: strawberry.ID,
                         label: str | None = strawberry.UNSET) -> CreatedApiKey:
    record, secret = await keys_service.create_api_key(
        info.context.db, site_id=parse_gid(site_id, "siteId"), label=given(label))
    return CreatedApiKey(api_key=ApiKey.of(record), secret=secret)


async def revoke_api_key(info: strawberry.Info, id: strawberry.ID) -> ApiKey:
    """Revoking is idempotent: a revoked key keeps its first revokedAt."""
    record = await keys_service.revoke_api_key(info.context.db, key_id=parse_gid(id, "id"))
    return ApiKey.of(record)

"""The per-request context: who is calling, the database, and the DataLoaders.

Loaders are made here, once per request, so nothing is cached between requests (a revoked key
or an edited goal is seen by the very next request) and every batch function returns its
results in key order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection, Request
from strawberry.dataloader import DataLoader

from server.auth import keys as keys_service
from server.auth.bearer import MalformedAuthorization, bearer_token
from server.auth.keys import AdminTokens, authenticate_key
from server.db.engine import Database
from server.goals import service as goals_service
from server.goals.service import GoalRecord
from server.settings import Settings
from server.sites import service as sites_service
from server.sites.service import Site
from server.stats import sessions as sessions_stats
from server.stats.sessions import EventRow


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the admin (every site) or one site's API key."""

    admin: bool
    site_id: uuid.UUID | None = None

    def may_see(self, site_id: uuid.UUID) -> bool:
        return self.admin or self.site_id == site_id


class Loaders:
    def __init__(self, db: Database):
        self.db = db
        self.site = DataLoader(self._sites)
        self.goal = DataLoader(self._goals)
        self.goals_of_site = DataLoader(self._goals_of_sites)
        self.events_of_session = DataLoader(self._events_of_sessions)
        self.api_keys_of_site = DataLoader(self._api_keys_of_sites)

    async def _sites(self, keys: list[uuid.UUID]) -> list[Site | None]:
        by_id = {s.id: s for s in await sites_service.list_sites(self.db, ids=list(keys))}
        return [by_id.get(k) for k in keys]

    async def _goals(self, keys: list[uuid.UUID]) -> list[GoalRecord | None]:
        by_id = {g.id: g for g in await goals_service.get_many(self.db, goal_ids=list(keys))}
        return [by_id.get(k) for k in keys]

    async def _goals_of_sites(self, keys: list[uuid.UUID]) -> list[list[GoalRecord]]:
        by_site = await goals_service.list_goals_for_sites(self.db, site_ids=list(keys))
        for goals in by_site.values():  # prime the goal loader: Event.goal needs no query
            for goal in goals:
                self.goal.prime(goal.id, goal)
        return [by_site.get(k, []) for k in keys]

    async def _api_keys_of_sites(self, keys: list[uuid.UUID]) -> list[list]:
        found = await keys_service.list_api_keys_for_sites(self.db, site_ids=list(keys))
        return [found.get(k, []) for k in keys]

    async def _events_of_sessions(self, keys: list[tuple[uuid.UUID, uuid.UUID]]
                                  ) -> list[list[EventRow]]:
        found = await sessions_stats.events_of_sessions(self.db, keys=list(keys))
        return [found.get(k, []) for k in keys]


@dataclass
class GraphQLContext:
    """`info.context` of every resolver and permission."""

    request: Request
    response: Any
    db: Database
    settings: Settings
    principal: Principal | None
    auth_error: str | None
    request_id: str
    # a WebSocket's connection_init payload (set by Strawberry; see server/schema/live.py)
    connection_params: dict | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)


async def identify_caller(request: HTTPConnection) -> tuple[Principal | None, str | None]:
    """(principal, None) for a good token, (None, why) for a bad one, (None, None) for none."""
    return await identify_header(request, request.headers.get("authorization"))


def connection_authorization(params: object) -> object:
    """The `Authorization` value of a WebSocket's connection_init payload (any JSON value)."""
    if not isinstance(params, dict):
        return None
    return params.get("Authorization", params.get("authorization"))


async def identify_header(connection: HTTPConnection, header: object
                          ) -> tuple[Principal | None, str | None]:
    """The same for an `Authorization` value from elsewhere (a WebSocket's connection_init)."""
    try:
        if header is not None and not isinstance(header, str):
            raise MalformedAuthorization(header)
        token = bearer_token(header)
    except MalformedAuthorization:
        return None, "Authorization must be 'Bearer <admin token or site API key>'"
    if token is None:
        return None, None
    admin: AdminTokens = connection.app.state.admin
    if await admin.is_admin(token):
        return Principal(admin=True), None
    key = await authenticate_key(connection.app.state.db, token)
    if key is None:
        return None, "the token is wrong or has been revoked"
    return Principal(admin=False, site_id=key.site_id), None


async def get_context(request: Request, response: Any) -> GraphQLContext:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    if len(request_id) > 64 or not request_id.isprintable():
        request_id = uuid.uuid4().hex
    request.state.request_id = request_id
    if response is not None and hasattr(response, "headers"):
        response.headers["x-request-id"] = request_id
    principal, auth_error = await identify_caller(request)
    return GraphQLContext(request=request, response=response, db=request.app.state.db,
                   settings=request.app.state.settings, principal=principal,
                   auth_error=auth_error, request_id=request_id)

"""Who may do what. Every Query and Mutation field lists its permission classes; nested fields
(Site.goals, Goal.site, ...) need none because their parent was checked.

Rules
-----
* No `Authorization` header: UNAUTHENTICATED. A token that is neither the admin token nor an
  active site API key (unknown, wrong secret, revoked): UNAUTHENTICATED.
* The admin sees and changes every site; only the admin creates sites and creates or revokes
  API keys (a site key: FORBIDDEN), so a leaked key cannot outlive its revocation.
* A site API key sees and changes only its own site.
  - An argument that *names a site* (`siteId`, `site(id:)`, `CreateGoalInput.siteId`) naming any
    other site - existing or not - is FORBIDDEN. The answer is the same for every foreign id,
    so it reveals nothing about which sites exist.
  - An argument that names an *object* by its own id (`updateGoal`/`deleteGoal(id:)`) is
    looked up among the caller's site's objects only: another site's goal is
    NOT_FOUND, exactly like an id that does not exist (hiding existence).
  - `reorderGoals` with another site's goal ids is BAD_USER_INPUT (a foreign list), as any
    list that is not exactly the site's goals.
* The admin naming a site that does not exist: NOT_FOUND (`site(id:)` answers null).
* A malformed ID (not a UUID) is BAD_USER_INPUT everywhere.
"""

from __future__ import annotations

import uuid
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from server.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from server.schema.context import GraphQLContext, Principal
from server.ids import parse_id


def parse_gid(value: Any, field: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise InvalidInput(f"{field} is not a valid ID", field=field)
    return parsed


def principal_of(info: Info) -> Principal:
    context: GraphQLContext = info.context
    if context.principal is None:
        raise Unauthorized(context.auth_error
                           or "send 'Authorization: Bearer <admin token or site API key>'")
    return context.principal


class IsAuthenticated(BasePermission):
    message = "authentication required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal_of(info)
        return True


class IsAdmin(BasePermission):
    message = "only the admin token may do this"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not principal_of(info).admin:
            raise Forbidden(self.message)
        return True


def _site_argument(kwargs: dict) -> tuple[Any, str]:
    if "site_id" in kwargs:
        return kwargs["site_id"], "siteId"
    if "input" in kwargs and hasattr(kwargs["input"], "site_id"):
        return kwargs["input"].site_id, "input.siteId"
    return kwargs["id"], "id"


class CanAccessSite(BasePermission):
    """The field's `siteId` (or `input.siteId`, or `site(id:)`) is a site the caller may see."""

    message = "this key belongs to another site"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = principal_of(info)
        raw, field = _site_argument(kwargs)
        site_id = parse_gid(raw, field)
        if not principal.may_see(site_id):
            raise Forbidden(self.message, field=field)
        return True


class _CanAccessOwnObject(BasePermission):
    """`id` names an object of a site the caller may see; otherwise NOT_FOUND with `message`.
    Subclasses say how an object is loaded (None: there is none)."""

    message = "no such object"

    async def load(self, info: Info, object_id: uuid.UUID) -> Any:
        raise NotImplementedError

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = principal_of(info)
        found = await self.load(info, parse_gid(kwargs["id"], "id"))
        if found is None or not principal.may_see(found.site_id):
            raise NotFound(self.message, field="id")
        return True


class CanAccessGoal(_CanAccessOwnObject):
    """`id` is a goal of a site the caller may see; otherwise NOT_FOUND. Read through the
    goal loader, so the resolver gets the same record without another query."""

    message = "no such goal"

    async def load(self, info: Info, object_id: uuid.UUID) -> Any:
        return await info.context.loaders.goal.load(object_id)

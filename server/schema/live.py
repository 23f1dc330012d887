"""Live events over WebSocket at /graphql (contract §8): the `graphql-transport-ws` protocol,
the bearer token in the `connection_init` payload as {"Authorization": "Bearer …"}.

A missing, malformed, wrong or revoked token closes the socket with 4403 at connection_init;
a token that may not read the subscribed site gets the protocol's `error` message (FORBIDDEN).
A key revoked while subscribed ends its subscriptions with UNAUTHENTICATED before its next
event (server/resolvers/live.py).
Errors on the stream are shaped as on POST /graphql (server/schema/errors.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import strawberry
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension

from server.resolvers import live as live_resolvers
from server.schema.context import GraphQLContext, connection_authorization, identify_header
from server.schema.errors import shape_all
from server.schema.permissions import CanAccessSite, IsAuthenticated
from server.schema.sessions import Event


@strawberry.type
class Subscription:
    @strawberry.subscription(permission_classes=[IsAuthenticated, CanAccessSite],
                             description="Each event of the site as it is stored, from every "
                                         "server process.")
    async def events(self, info: strawberry.Info,
                     site_id: strawberry.ID) -> AsyncGenerator[Event, None]:
        return await live_resolvers.events(info, site_id)


async def websocket_context(websocket: WebSocket) -> GraphQLContext:
    """Who is calling is known only at connection_init (authenticate_connection)."""
    request_id = uuid.uuid4().hex
    websocket.state.request_id = request_id
    return GraphQLContext(request=websocket, response=None, db=websocket.app.state.db,
                   settings=websocket.app.state.settings, principal=None, auth_error=None,
                   request_id=request_id)


async def authenticate_connection(context: GraphQLContext) -> None:
    """connection_init: the payload's bearer token, or the socket is closed with 4403."""
    principal, why = await identify_header(
        context.request, connection_authorization(context.connection_params))
    if principal is None:
        raise ConnectionRejectionError(
            {"message": why or "send {\"Authorization\": \"Bearer <token>\"} in connection_init"})
    context.principal = principal


class ShapeStreamErrors(SchemaExtension):
    """The `error` and `next` messages of a subscription carry errors shaped as on POST."""

    def on_stream_result(self, result):
        if result.errors:
            context = self.execution_context.context
            result.errors = shape_all(result.errors, getattr(context, "request_id", None))
        yield

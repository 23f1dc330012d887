"""/graphql: POST for queries and mutations, GET for GraphiQL (and GET queries)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from server.schema.context import get_context
from server.schema.errors import shape_all
from server.schema.live import authenticate_connection, websocket_context
from server.schema.schema import schema


class GraphQLApp(GraphQL):
    async def get_context(self, request: Request | WebSocket, response: Any):
        if isinstance(request, WebSocket):
            return await websocket_context(request)
        return await get_context(request, response)

    async def on_ws_connect(self, context):
        await authenticate_connection(context)

    async def process_result(self, request: Request, result):
        result.errors = shape_all(result.errors, getattr(request.state, "request_id", None))
        return await super().process_result(request, result)

    def decode_json(self, data: str | bytes) -> object:
        # JSON numbers with a fraction become Decimal: no float between request and matcher
        return json.loads(data, parse_float=Decimal)

    def encode_json(self, data: object) -> str:
        return simplejson.dumps(data, use_decimal=True, separators=(",", ":"),
                                ensure_ascii=False)


def mount(app: Starlette) -> None:
    view = GraphQLApp(schema, graphql_ide="graphiql", allow_queries_via_get=False,
                      subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
    app.router.routes.append(Route("/graphql", view, methods=["GET", "POST"]))
    app.router.routes.append(WebSocketRoute("/graphql", view))  # Subscription.events (§8)

"""/graphql: POST for queries and mutations, GET for GraphiQL (and GET queries)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from strawberry.asgi import GraphQL

from server.schema.context import get_context
from server.schema.errors import shape_all
from server.schema.schema import schema


class GraphQLApp(GraphQL):
    async def get_context(self, request: Request, response: Any):
        return await get_context(request, response)

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
    view = GraphQLApp(schema, graphql_ide="graphiql", allow_queries_via_get=False)
    app.router.routes.append(Route("/graphql", view, methods=["GET", "POST"]))

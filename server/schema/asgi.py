"""/graphql: POST for queries and mutations, GET for GraphiQL, WebSocket (graphql-transport-ws)
for Subscription.events (server/schema/live.py).

Whatever goes wrong, the answer is JSON with an `errors` list (never plain text):

* the caller is identified (server/schema/context.py) before the body is read, and the body is
  read in chunks up to a limit: MAX_BODY_BYTES for an authenticated caller, MAX_ANONYMOUS_BODY_BYTES
  for anyone else (enough for an introspection query, which is all an anonymous caller can run).
  Over the limit: 413 (401 when authenticating would have allowed it), never buffered;
* a body that is not JSON, nested too deeply to decode, a batch (a JSON list), a content type
  other than application/json, an unknown operationName: 400 with BAD_USER_INPUT;
* the database unreachable: 503 with SERVICE_UNAVAILABLE, `retryAfter` and a Retry-After header.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import simplejson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from cross_web import HTTPException, StarletteRequestAdapter  # what strawberry.asgi uses
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from server.errors import ApiError, TooLarge, Unauthorized
from server.schema.context import get_context
from server.schema.errors import (
    BAD_USER_INPUT,
    RETRY_AFTER_SECONDS,
    UNAVAILABLE,
    api_error_extensions,
    is_outage,
    shape_all,
    unavailable_extensions,
)
from server.schema.live import authenticate_connection, websocket_context
from server.schema.schema import schema

log = logging.getLogger("goalpost.graphql")

MAX_BODY_BYTES = 256 * 1024
MAX_ANONYMOUS_BODY_BYTES = 16 * 1024


class LimitedRequestAdapter(StarletteRequestAdapter):
    """Reads the body in chunks and stops at the limit of this caller, whom get_context has
    identified before the body is read."""

    async def get_body(self) -> bytes:
        request = self._request
        authenticated = request.state.authenticated
        limit = MAX_BODY_BYTES if authenticated else MAX_ANONYMOUS_BODY_BYTES
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit, authenticated)
        parts, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit, authenticated)
            parts.append(chunk)
        return b"".join(parts)


def _too_large(limit: int, authenticated: bool) -> ApiError:
    if authenticated:
        return TooLarge(f"the request body is over {limit} bytes", field="body")
    return Unauthorized(f"an unauthenticated request body may be at most {limit} bytes: "
                        "send 'Authorization: Bearer <admin token or site API key>'",
                        field="body")


class GraphQLApp(GraphQL):
    request_adapter_class = LimitedRequestAdapter

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = self._error_response(request, error.status_code, error.reason,
                                            {"code": BAD_USER_INPUT})
        except ApiError as error:
            response = self._error_response(request, error.status, error.message,
                                            api_error_extensions(error))
        except Exception as error:
            if not is_outage(error):
                raise
            log.warning("graphql request: database unavailable: %s", error)
            response = self._error_response(request, 503, "the database is unavailable, retry "
                                            "later", unavailable_extensions())
        await response(scope, receive, send)

    def _error_response(self, request: Request, status: int, message: str,
                        extensions: dict) -> Response:
        headers = {}
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            headers["x-request-id"] = request_id
        if "retryAfter" in extensions:
            headers["retry-after"] = str(extensions["retryAfter"])
        body = {"data": None, "errors": [{"message": message, "extensions": extensions}]}
        return Response(self.encode_json(body), status_code=status, headers=headers,
                        media_type="application/json")

    async def get_context(self, request: Request | WebSocket, response: Any):
        if isinstance(request, WebSocket):  # Subscription.events (server/schema/live.py)
            return await websocket_context(request)
        context = await get_context(request, response)
        request.state.graphql_response = response  # where process_result sets a 503
        request.state.authenticated = context.principal is not None  # the body limit's
        return context

    async def on_ws_connect(self, context):
        await authenticate_connection(context)

    async def process_result(self, request: Request, result):
        result.errors = shape_all(result.errors, getattr(request.state, "request_id", None))
        unavailable = [e for e in result.errors or () if e.extensions.get("code") == UNAVAILABLE]
        if unavailable:
            response = request.state.graphql_response
            response.status_code = 503
            response.headers["retry-after"] = str(unavailable[0].extensions.get(
                "retryAfter", RETRY_AFTER_SECONDS))
        return await super().process_result(request, result)

    def decode_json(self, data: str | bytes) -> object:
        # JSON numbers with a fraction become Decimal: no float between request and matcher
        try:
            decoded = json.loads(data, parse_float=Decimal)
        except RecursionError:
            raise HTTPException(400, "the request body is nested too deeply") from None
        except ValueError:  # not JSON, or not UTF-8
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(decoded, (dict, list)):  # a list: strawberry refuses the batch
            raise HTTPException(400, "the request body must be a JSON object")
        return decoded

    def encode_json(self, data: object) -> str:
        # Text, not bytes: Strawberry sends bytes over WebSocket as binary frames, which browsers'
        # graphql-transport-ws clients can't parse. A lone surrogate a message echoes goes out as
        # its JSON escape (UTF-8 can't carry it).
        return simplejson.dumps(data, use_decimal=True, separators=(",", ":"),
                                ensure_ascii=False).encode("utf-8", "backslashreplace").decode()


def mount(app: Starlette) -> None:
    view = GraphQLApp(schema, graphql_ide="graphiql", allow_queries_via_get=False,
                      subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
    app.router.routes.append(Route("/graphql", view, methods=["GET", "POST"]))
    app.router.routes.append(WebSocketRoute("/graphql", view))  # Subscription.events (§8)

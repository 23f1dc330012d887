"""How errors leave /graphql.

Every error carries `extensions.code`:

* an `ApiError` raised by a service or a permission keeps its message and gets its code:
  InvalidInput / TooLarge -> BAD_USER_INPUT, Unauthorized -> UNAUTHENTICATED,
  Forbidden -> FORBIDDEN, NotFound -> NOT_FOUND (plus `extensions.field` when known);
* a request GraphQL itself refuses (syntax, unknown field, wrong variable type, depth / token /
  alias limits) is the client's mistake: BAD_USER_INPUT with GraphQL's message;
* the database unreachable (a connection refused, dropped or timed out): SERVICE_UNAVAILABLE
  with `retryAfter` (seconds); the HTTP answer is then 503 with Retry-After
  (server/schema/asgi.py). Retrying later is the whole remedy, so nothing is logged as a bug;
* anything else is a bug: logged with the request id and the traceback, and answered as
  "Internal server error" with code INTERNAL_SERVER_ERROR and `requestId`, never with the
  exception's text.
"""

from __future__ import annotations

import asyncio
import logging

from graphql import GraphQLError
from sqlalchemy import exc as sa_exc

from server.errors import ApiError, Forbidden, NotFound, RateLimited, Unauthorized, Unavailable

log = logging.getLogger("goalpost.graphql")

BAD_USER_INPUT = "BAD_USER_INPUT"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
CODES = {BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND}
RETRY_AFTER_SECONDS = 5


def code_of(error: ApiError) -> str:
    if isinstance(error, Unauthorized):
        return UNAUTHENTICATED
    if isinstance(error, Forbidden):
        return FORBIDDEN
    if isinstance(error, NotFound):
        return NOT_FOUND
    if isinstance(error, (Unavailable, RateLimited)):
        return UNAVAILABLE
    return BAD_USER_INPUT


def is_outage(error: BaseException) -> bool:
    """The database could not be reached or dropped the connection: worth a retry, not a bug.
    (A statement the database refuses - bad data, a constraint - is not an outage.)"""
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or isinstance(
            error, (sa_exc.OperationalError, sa_exc.InterfaceError))
    return isinstance(error, (sa_exc.TimeoutError, sa_exc.DisconnectionError, OSError,
                              asyncio.TimeoutError))


def unavailable_extensions() -> dict:
    return {"code": UNAVAILABLE, "retryAfter": RETRY_AFTER_SECONDS}


def api_error_extensions(error: ApiError) -> dict:
    extensions = {"code": code_of(error)}
    if extensions["code"] == UNAVAILABLE:
        extensions["retryAfter"] = error.retry_after or RETRY_AFTER_SECONDS
    if error.field:
        extensions["field"] = error.field
    return extensions


def root_cause(error: GraphQLError) -> BaseException | None:
    """What the error wraps, through any GraphQLErrors wrapping each other (e.g. a permission's
    own error): an ApiError, another exception, a GraphQLError of its own, or None."""
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def is_unexpected(error: GraphQLError) -> bool:
    root = root_cause(error)
    return (root is not None and not isinstance(root, (ApiError, GraphQLError))
            and not is_outage(root))


def shape(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = root_cause(error)
    if isinstance(original, ApiError):
        return _copy(error, original.message, api_error_extensions(original))
    if isinstance(original, GraphQLError) or original is None:
        source = original if isinstance(original, GraphQLError) else error
        extensions = dict(source.extensions or {})
        if extensions.get("code") not in CODES:
            extensions["code"] = BAD_USER_INPUT
        return _copy(error, source.message, extensions)
    if is_outage(original):
        return _copy(error, "the database is unavailable, retry later",
                     unavailable_extensions())
    return _copy(error, "Internal server error",
                 {"code": INTERNAL, "requestId": request_id})


def _copy(error: GraphQLError, message: str, extensions: dict) -> GraphQLError:
    return GraphQLError(message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path, extensions=extensions)


def log_unexpected(errors: list[GraphQLError], request_id: str | None) -> None:
    for error in errors:
        if is_outage(root_cause(error) or error):
            log.warning("graphql request %s: database unavailable: %s", request_id,
                        root_cause(error))
        elif is_unexpected(error):
            original = root_cause(error)
            log.error("graphql request %s: unexpected error at %s", request_id,
                      ".".join(str(p) for p in error.path or ()),
                      exc_info=(type(original), original, original.__traceback__))


def shape_all(errors: list[GraphQLError] | None, request_id: str | None):
    """The one place errors get their shape: GraphQLApp.process_result (server/schema/asgi.py),
    which sees every result, also those of requests that fail to parse or validate."""
    return None if errors is None else [shape(e, request_id) for e in errors]

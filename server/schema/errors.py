"""How errors leave /graphql.

Every error carries `extensions.code`:

* an `ApiError` raised by a service or a permission keeps its message and gets its code:
  InvalidInput / TooLarge -> BAD_USER_INPUT, Unauthorized -> UNAUTHENTICATED,
  Forbidden -> FORBIDDEN, NotFound -> NOT_FOUND (plus `extensions.field` when known);
* a request GraphQL itself refuses (syntax, unknown field, wrong variable type, depth / token /
  alias limits) is the client's mistake: BAD_USER_INPUT with GraphQL's message;
* anything else is a bug or an outage: logged with the request id and the traceback, and
  answered as "Internal server error" with code INTERNAL_SERVER_ERROR and `requestId`, never
  with the exception's text.
"""

from __future__ import annotations

import logging
from graphql import GraphQLError

from server.errors import ApiError, Forbidden, NotFound, RateLimited, Unauthorized, Unavailable

log = logging.getLogger("goalpost.graphql")

BAD_USER_INPUT = "BAD_USER_INPUT"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
CODES = {BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND}


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


def root_cause(error: GraphQLError) -> BaseException | None:
    """What the error wraps, through any GraphQLErrors wrapping each other (e.g. a permission's
    own error): an ApiError, another exception, a GraphQLError of its own, or None."""
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def is_unexpected(error: GraphQLError) -> bool:
    root = root_cause(error)
    return root is not None and not isinstance(root, (ApiError, GraphQLError))


def shape(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = root_cause(error)
    if isinstance(original, ApiError):
        extensions = {"code": code_of(original)}
        if original.field:
            extensions["field"] = original.field
        return _copy(error, original.message, extensions)
    if isinstance(original, GraphQLError) or original is None:
        source = original if isinstance(original, GraphQLError) else error
        extensions = dict(source.extensions or {})
        if extensions.get("code") not in CODES:
            extensions["code"] = BAD_USER_INPUT
        return _copy(error, source.message, extensions)
    return _copy(error, "Internal server error",
                 {"code": INTERNAL, "requestId": request_id})


def _copy(error: GraphQLError, message: str, extensions: dict) -> GraphQLError:
    return GraphQLError(message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path, extensions=extensions)


def log_unexpected(errors: list[GraphQLError], request_id: str | None) -> None:
    for error in errors:
        if is_unexpected(error):
            original = root_cause(error)
            log.error("graphql request %s: unexpected error at %s", request_id,
                      ".".join(str(p) for p in error.path or ()),
                      exc_info=(type(original), original, original.__traceback__))


def shape_all(errors: list[GraphQLError] | None, request_id: str | None):
    """The one place errors get their shape: GraphQLApp.process_result (server/schema/asgi.py),
    which sees every result, also those of requests that fail to parse or validate."""
    return None if errors is None else [shape(e, request_id) for e in errors]

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
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

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


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, ApiError):
        return False
    if isinstance(original, GraphQLError):  # e.g. a permission's own error
        return is_unexpected(original) if original.original_error else False
    return True


def shape(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if isinstance(original, ApiError):
        extensions = {"code": code_of(original)}
        if original.field:
            extensions["field"] = original.field
        return _copy(error, original.message, extensions)
    if original is None and (error.extensions or {}).get("code"):
        return error  # shaped already
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
            original = error.original_error
            log.error("graphql request %s: unexpected error at %s", request_id,
                      ".".join(str(p) for p in error.path or ()),
                      exc_info=(type(original), original, original.__traceback__))


def shape_all(errors: list[GraphQLError] | None, request_id: str | None):
    return None if errors is None else [shape(e, request_id) for e in errors]


class ErrorCodes(SchemaExtension):
    """Gives every error of the result its code, masking unexpected ones (see module doc).
    Syntax errors leave strawberry outside this hook: the HTTP view shapes those
    (server/schema/asgi.py), with the same function."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        result.errors = [shape(e, request_id) for e in errors]

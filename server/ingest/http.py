"""POST /api/event: the HTTP face of the pipeline, and its CORS.

The busiest route is served as plain ASGI, in front of Starlette's middleware stack and router
(server/app.py GoalpostApp): measured with bench/ingest.py, the framework's request and response
objects cost about as much as the pipeline itself, and this route needs neither.
"""

from __future__ import annotations

import logging

import orjson
from sqlalchemy.exc import DBAPIError

from server.errors import ApiError, InvalidInput, TooLarge, Unavailable
from server.ingest.bots import MAX_USER_AGENT
from server.ingest.event import Event, RequestInfo
from server.ingest.pipeline import Context, ingest

log = logging.getLogger("goalpost.ingest")

PATH = "/api/event"
# the answer to most events, made once
_COUNTED = orjson.dumps({"accepted": True, "counted": True, "goal": None})
_JSON = (b"content-type", b"application/json")
_PREFLIGHT = [
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (b"access-control-allow-headers", b"content-type, authorization"),
    (b"access-control-max-age", b"86400"),
]


class EventIngress:
    """ASGI middleware: answers /api/event itself, passes everything else on."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        state = scope["app"].state
        ctx: Context = state.ingest
        user_agent = authorization = origin = content_length = None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"origin":
                origin = value
            elif name == b"content-length":
                content_length = value
        # Browser events come from the sites' own pages, on any origin a site may have; what a
        # page can learn from the answer is only whether its own event was accepted.
        headers = [_JSON]
        if origin:
            headers += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
        method = scope["method"]
        if method == "OPTIONS":
            return await _answer(send, 204, None, headers[1:] + _PREFLIGHT)
        if method != "POST":
            return await _answer(send, 405, _error("method_not_allowed", "use POST"),
                                 headers + [(b"allow", b"POST, OPTIONS")])
        if user_agent is not None and len(user_agent) > MAX_USER_AGENT:
            # refused before anything reads it: no browser sends one this long
            error = InvalidInput(f"the User-Agent header is longer than {MAX_USER_AGENT} "
                                 "characters", field="user_agent", code="too_long")
            return await _answer(send, error.status, error.body(), headers)
        client = scope.get("client")
        event = Event(RequestInfo(
            client_ip=client[0] if client else "",
            user_agent=user_agent or "",
            authorization=authorization,
        ))
        try:
            event.body = await _read_body(receive, content_length,
                                          state.settings.max_body_bytes)
            stored = await ingest(ctx, event)
        except ApiError as error:
            if error.retry_after is not None:
                headers.append((b"retry-after", str(error.retry_after).encode()))
            return await _answer(send, error.status, error.body(), headers)
        except (DBAPIError, OSError, ConnectionError) as exc:
            log.warning("storage unavailable: %s", exc)
            error = Unavailable("storage unavailable, retry later",
                                retry_after=state.settings.retry_after_seconds)
            headers.append((b"retry-after", str(error.retry_after).encode()))
            return await _answer(send, error.status, error.body(), headers)
        except Exception:
            log.exception("ingesting an event failed")
            return await _answer(send, 500, _error("internal", "internal error"), headers)
        if stored.goal_name is None and stored.counted:
            return await _answer_bytes(send, 202, _COUNTED, headers)
        await _answer(send, 202, {"accepted": True, "counted": stored.counted,
                                  "goal": stored.goal_name}, headers)


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


async def _answer(send, status: int, body: dict | None, headers: list) -> None:
    await _answer_bytes(send, status, b"" if body is None else orjson.dumps(body), headers)


async def _answer_bytes(send, status: int, data: bytes, headers: list) -> None:
    # a length rather than chunked encoding: a smaller answer that any client reads simply
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


async def _read_body(receive, content_length: bytes | None, limit: int) -> bytes:
    """Refuse an oversized body from its header, or while reading it: never buffer more than
    the limit."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise InvalidInput("bad Content-Length", field="body") from None
        if declared > limit:
            raise TooLarge(f"body over {limit} bytes", field="body")
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("the client went away", field="body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body over {limit} bytes", field="body")
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)

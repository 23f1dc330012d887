"""POST /api/event: the HTTP face of the pipeline, and its CORS."""

from __future__ import annotations

import logging
import orjson
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response

from server.errors import ApiError, Unavailable
from server.ingest.event import Event, RequestInfo
from server.ingest.parse import read_body
from server.ingest.pipeline import Context, ingest

log = logging.getLogger("goalpost.ingest")


def _cors_headers(origin: str | None) -> dict[str, str]:
    # Browser events come from the sites' own pages, on any origin a site may have; what a page
    # can learn from the answer is only whether its own event was accepted.
    if not origin:
        return {}
    return {"access-control-allow-origin": origin, "vary": "Origin"}


def _json(status: int, body: dict, headers: dict[str, str]) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers,
                    media_type="application/json")


async def event_endpoint(request: Request) -> Response:
    ctx: Context = request.app.state.ingest
    origin = request.headers.get("origin")
    headers = _cors_headers(origin)
    if request.method == "OPTIONS":
        headers.update({
            "access-control-allow-methods": "POST, OPTIONS",
            "access-control-allow-headers": "content-type, authorization",
            "access-control-max-age": "86400",
        })
        return Response(status_code=204, headers=headers)
    client = request.client.host if request.client else ""
    event = Event(RequestInfo(
        client_ip=client,
        user_agent=request.headers.get("user-agent", ""),
        authorization=request.headers.get("authorization"),
        origin=origin,
    ))
    try:
        event.body = await read_body(request.stream(),
                                     content_length=request.headers.get("content-length"),
                                     limit=request.app.state.settings.max_body_bytes)
        stored = await ingest(ctx, event)
    except ApiError as error:
        if error.retry_after is not None:
            headers["retry-after"] = str(error.retry_after)
        return _json(error.status, error.body(), headers)
    except (DBAPIError, OSError, ConnectionError) as exc:
        log.warning("storage unavailable: %s", exc)
        error = Unavailable("storage unavailable, retry later",
                            retry_after=request.app.state.settings.retry_after_seconds)
        headers["retry-after"] = str(error.retry_after)
        return _json(error.status, error.body(), headers)
    except Exception:
        log.exception("ingesting an event failed")
        return _json(500, {"error": {"code": "internal", "message": "internal error"}}, headers)
    return _json(202, {"accepted": True, "goal": stored.goal_name}, headers)

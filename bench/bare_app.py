"""The baseline for bench/ingest.py: a Starlette endpoint that reads the body and answers 202,
served by the same uvicorn settings as Goalpost."""

import orjson
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route


async def event(request):
    body = await request.body()
    orjson.loads(body)
    return Response(orjson.dumps({"accepted": True, "counted": True, "goal": None}), status_code=202,
                    media_type="application/json")


def create_app():
    return Starlette(routes=[Route("/api/event", event, methods=["POST"])])

"""Limits, error masking, GraphiQL, introspection, and the committed SDL."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
from strawberry.extensions.validation_cache import _get_validate_cache

from server.schema.schema import CACHE_SIZE, MAX_ALIASES, MAX_DEPTH, sdl
from tests.conftest import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[3]


def test_schema_file_matches_code():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == sdl(), ("schema.graphql is out of date: "
                                "python -m server.schema.schema > schema.graphql")


async def test_graphiql_on_get(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://goalpost.test") as c:
        page = await c.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_introspection_is_on(as_token):
    data = await as_token(None)("{ __schema { queryType { name } types { name } } }")
    names = {t["name"] for t in data["__schema"]["types"]}
    assert {"Goal", "Kpis", "SessionConnection", "DateTime", "Decimal", "JSON"} <= names


async def test_depth_limit(admin, site):
    nested = "goals { site { " * MAX_DEPTH + "id" + " } }" * MAX_DEPTH
    query = "query($s: ID!) { site(id: $s) { " + nested + " } }"
    errors = await admin.errors(query, s=str(site.id))
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "depth" in errors[0]["message"]


async def test_alias_limit(admin):
    query = "{ " + " ".join(f"a{i}: sites {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
    errors = await admin.errors(query)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_repeated_query_is_validated_once(admin):
    """The validation cache hits for a query seen before (a limiter made per request gave it
    new rules each time, and it never did), and a refused query stays refused from it."""
    cache = _get_validate_cache(CACHE_SIZE)
    query = "{ sites { id name } more: sites { id } }"
    await admin(query)
    hits = cache.cache_info().hits
    await admin(query)
    assert cache.cache_info().hits == hits + 1
    too_deep = "{ sites { " + "goals { site { " * MAX_DEPTH + "id" + " } }" * MAX_DEPTH + " } }"
    for _ in range(2):
        assert "depth" in (await admin.errors(too_deep))[0]["message"]


async def test_token_limit(admin):
    query = "{ sites { " + " ".join(["id"] * 3000) + " } }"
    errors = await admin.errors(query)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_invalid_queries_are_bad_user_input(admin):
    assert await admin.code("{ nope }") == "BAD_USER_INPUT"
    assert await admin.code("query($s: ID!) { kpis(siteId: $s) { visitors } }") == \
        "BAD_USER_INPUT"


async def test_unexpected_errors_are_masked_and_logged(admin, site, monkeypatch, caplog):
    from server.stats import kpis as kpi_stats

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(kpi_stats, "kpis", broken)
    with caplog.at_level(logging.ERROR, logger="goalpost.graphql"):
        errors = await admin.errors("query($s: ID!) { kpis(siteId: $s) { visitors } }",
                                    s=str(site.id))
    assert errors[0]["message"] == "Internal server error"
    assert "hunter2" not in str(errors)
    request_id = errors[0]["extensions"]["requestId"]
    assert errors[0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and "hunter2" in str(logged[0].exc_info[1])


async def test_request_id_header(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://goalpost.test") as c:
        answer = await c.post("/graphql", json={"query": "{ sites { id } }"},
                              headers={"authorization": f"Bearer {ADMIN_TOKEN}",
                                       "x-request-id": "req-123"})
    assert answer.headers["x-request-id"] == "req-123"

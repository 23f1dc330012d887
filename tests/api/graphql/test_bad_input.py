"""Bad input on /graphql costs little and answers JSON `errors` with a client code, never a
plain-text page or INTERNAL_SERVER_ERROR (issue 7, section 2)."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest
from sqlalchemy import select

from server.db.models import api_keys, goal_conditions, goals, sites
from server.goals import service as goals_service
from server.schema.asgi import MAX_ANONYMOUS_BODY_BYTES, MAX_BODY_BYTES
from server.schema.guards import MAX_COST
from server.stats.timeseries import MAX_BUCKETS
from tests.api.graphql.conftest import CREATE_GOAL, create_goal, hours_ago
from tests.conftest import ADMIN_TOKEN, make_settings, running_app
from tests.support.tcpproxy import proxy_in_front_of

KPIS = "query($s: ID!) { kpis(siteId: $s) { visitors } }"


async def post(app, body, *, token: str | None = ADMIN_TOKEN,
               content_type: str = "application/json", **extra) -> httpx.Response:
    headers = {"content-type": content_type}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://goalpost.test") as c:
        return await c.post("/graphql", content=body, headers=headers, **extra)


def refused(response: httpx.Response, status: int, code: str = "BAD_USER_INPUT") -> str:
    """The response is JSON `errors` with this status and code; its message."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == code, errors
    return errors[0]["message"]


class CountingBody:
    """A request body streamed in chunks, counting how many the server asked for."""

    def __init__(self, total: int, chunk: int = 64 * 1024):
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self):
        prefix = b'{"query": "{ sites { id } }", "pad": "'
        yield prefix
        self.sent += len(prefix)
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"x" * self.chunk


# --- 1. body size ------------------------------------------------------------------------

async def test_an_unauthenticated_body_over_its_limit_is_refused_unread(app):
    body = CountingBody(200 * 1024 * 1024)
    message = refused(await post(app, body, token=None), 401, "UNAUTHENTICATED")
    assert str(MAX_ANONYMOUS_BODY_BYTES) in message
    assert body.sent <= MAX_ANONYMOUS_BODY_BYTES + 2 * body.chunk  # not the 200 MB
    wrong = CountingBody(10 * 1024 * 1024)
    refused(await post(app, wrong, token="gp_wrong"), 401, "UNAUTHENTICATED")
    assert wrong.sent <= MAX_ANONYMOUS_BODY_BYTES + 2 * wrong.chunk


async def test_an_authenticated_body_over_its_limit_is_refused_unread(app):
    body = CountingBody(50 * 1024 * 1024)
    refused(await post(app, body), 413)
    assert body.sent <= MAX_BODY_BYTES + 2 * body.chunk
    # a declared Content-Length over the limit is refused before any of the body is read
    declared = await post(app, b"{" + b" " * MAX_BODY_BYTES + b"}")
    refused(declared, 413)


async def test_a_body_within_the_limit_is_served(app):
    padded = {"query": "{ sites { id } }", "variables": {"pad": "x" * (MAX_BODY_BYTES // 2)}}
    answer = await post(app, padded)
    assert answer.status_code == 200 and "sites" in answer.json()["data"]
    introspection = {"query": "{ __schema { types { name fields { name } } } }"}
    assert (await post(app, introspection, token=None)).status_code == 200


# --- 3, 9. every refusal is JSON ------------------------------------------------------------

async def test_deeply_nested_json_is_a_json_400(app):
    refused(await post(app, b"[" * 100_000), 400)
    deep = b'{"query": "{ sites { id } }", "variables": {"a": ' + b"[" * 100_000 + b"]" * 100_000 \
        + b"}}"
    refused(await post(app, deep), 400)


@pytest.mark.parametrize("body", [
    b"{not json", b"\xff\xfe\x00", b"", b'"a string"', b"[]",
    json.dumps([{"query": "{ sites { id } }"}, {"query": "{ sites { id } }"}]).encode(),
    json.dumps({"query": 42}).encode(), json.dumps({"variables": {}}).encode(),
])
async def test_malformed_bodies_and_batches_are_json_400(app, body):
    refused(await post(app, body), 400)


async def test_wrong_content_type_is_json(app):
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        refused(await post(app, b'{"query": "{ sites { id } }"}', content_type=content_type),
                400)


async def test_unknown_operation_name_is_json(app):
    refused(await post(app, {"query": "query A { sites { id } }", "operationName": "B"}), 400)


async def test_two_operations_need_an_operation_name(app, db):
    domain = f"two-{uuid.uuid4().hex[:10]}.example"
    document = (f'mutation A {{ createSite(domain: "{domain}") {{ id }} }} '
                "query B { sites { id } }")
    message = refused(await post(app, {"query": document}), 200)
    assert "operationName" in message
    async with db.read.connect() as conn:
        assert (await conn.execute(select(sites.c.id).where(sites.c.domain == domain))).first() \
            is None
    named = await post(app, {"query": document, "operationName": "B"})
    assert named.status_code == 200 and "sites" in named.json()["data"]


# --- 4, 8. dates, ranges and cursors ----------------------------------------------------

RANGE_KPIS = "query($s: ID!, $r: DateRange) { kpis(siteId: $s, range: $r) { visitors } }"


@pytest.mark.parametrize("bad", [
    "yesterday", "2025-13-01T00:00:00Z", "2025-01-01T00:00:00+25:00", 1735689600, "",
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T00:00:00Z",
    "2025-01-01T00:00:00Z" + "0" * 10_000,
])
async def test_bad_datetimes_are_bad_user_input(admin, site, bad):
    good = "2025-01-01T00:00:00Z"
    for r in ({"from": bad, "to": good}, {"from": good, "to": bad}):
        assert await admin.code(RANGE_KPIS, s=str(site.id), r=r) == "BAD_USER_INPUT", r
    literal = json.dumps(bad)
    query = f'query($s: ID!) {{ kpis(siteId: $s, range: {{from: {literal}, to: "{good}"}}) ' \
            "{ visitors } }"
    assert await admin.code(query, s=str(site.id)) == "BAD_USER_INPUT"


async def test_ranges_at_the_edges_of_what_is_allowed_are_served(admin, site):
    for r in ({"from": "1900-01-01T00:00:00Z", "to": "1900-01-02T00:00:00Z"},
              {"from": "8999-12-30T00:00:00+14:00", "to": "8999-12-31T09:00:00-14:00"}):
        data = await admin("query($s: ID!, $r: DateRange) { kpis(siteId: $s, range: $r) "
                           "{ visitors } timeseries(siteId: $s, range: $r) { visitors } "
                           "sessions(siteId: $s, range: $r) { totalCount } }",
                           s=str(site.id), r=r)
        assert data["kpis"]["visitors"] == 0


@pytest.mark.parametrize("cursor", [
    base64.urlsafe_b64encode(f"{10**30}:{uuid.uuid4().hex}".encode()).decode(),
    base64.urlsafe_b64encode(f"{-10**30}:{uuid.uuid4().hex}".encode()).decode(),
    base64.urlsafe_b64encode(b"1:" + b"z" * 32).decode(),
    base64.urlsafe_b64encode(("9" * 5000 + ":").encode()).decode(),
    "%%%", "x" * 100_000,
])
async def test_forged_cursors_are_bad_user_input(admin, site, cursor):
    errors = await admin.errors("query($s: ID!, $a: String) { sessions(siteId: $s, after: $a) "
                                "{ totalCount } }", s=str(site.id), a=cursor)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["field"] == "after"


# --- 5. time zones --------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["America", "x" * 300, "../../etc/passwd", "Europe/", " UTC"])
async def test_bad_time_zones_are_bad_user_input(admin, zone):
    errors = await admin.errors("mutation($d: String!, $t: String) { createSite(domain: $d, "
                                "timezone: $t) { id } }",
                                d=f"tz-{uuid.uuid4().hex[:10]}.example", t=zone)
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "timezone"}


# --- 6. text that can't be stored -------------------------------------------------------

async def code_of(app, query: str, **variables) -> str:
    """The first error's code; the body is plain json.dumps, so lone surrogates go as escapes
    (a client library would refuse to encode them)."""
    answer = await post(app, {"query": query, "variables": variables})
    return answer.json()["errors"][0]["extensions"]["code"]


@pytest.mark.parametrize("bad", ["a\x00b", "a\udfffb", "\ud800"])
async def test_nul_and_lone_surrogates_are_refused_everywhere(app, db, site, bad):
    site_id = str(site.id)
    condition = [{"field": "EVENT_NAME", "operator": "EQUALS", "value": "ok"}]
    goal = {"siteId": site_id, "name": "ok", "type": "CUSTOM_EVENT", "conditions": condition}
    for value in (goal | {"name": bad},
                  goal | {"conditions": [condition[0] | {"value": bad}]},
                  goal | {"badge": {"color": "#fff", "icon": bad}}):
        assert await code_of(app, CREATE_GOAL, input=value) == "BAD_USER_INPUT", value
    for query, variables in [
        ("mutation($d: String!, $n: String) { createSite(domain: $d, name: $n) { id } }",
         {"d": f"nul-{uuid.uuid4().hex[:8]}.example", "n": bad}),
        ("mutation($s: ID!, $l: String) { createApiKey(siteId: $s, label: $l) { secret } }",
         {"s": site_id, "l": bad}),
        ('query($s: ID!, $p: JSON) { testEvent(siteId: $s, event: {type: "custom", name: "x", '
         "props: $p}) { goal { id } } }", {"s": site_id, "p": {"k": [bad]}}),
    ]:
        assert await code_of(app, query, **variables) == "BAD_USER_INPUT", query
    # a literal in the document is checked as well as the variables
    literal = json.dumps(bad)  # a JSON string escape is a GraphQL string escape
    assert await code_of(app, f"mutation($s: ID!) {{ createApiKey(siteId: $s, label: {literal}) "
                              "{ secret } }", s=site_id) == "BAD_USER_INPUT"
    async with db.read.connect() as conn:
        assert (await conn.execute(select(goals.c.id).where(goals.c.site_id == site.id))).all() \
            == []
        assert (await conn.execute(select(goal_conditions.c.goal_id).where(
            goal_conditions.c.site_id == site.id))).all() == []
        assert (await conn.execute(select(api_keys.c.id).where(
            api_keys.c.site_id == site.id))).all() == []
        assert (await conn.execute(select(sites.c.id).where(
            sites.c.domain.like("nul-%")))).all() == []


# --- 7. time series of many buckets -----------------------------------------------------

async def test_the_default_hourly_series_and_long_ones_are_served(admin, site, events):
    await events.send(at=hours_ago(5), name="Signup")
    data = await admin("query($s: ID!) { timeseries(siteId: $s, interval: HOUR) "
                       "{ start visitors } }", s=str(site.id))
    buckets = data["timeseries"]
    assert len(buckets) in (720, 721)
    assert sum(b["visitors"] for b in buckets) == 1
    long = {"from": "2020-01-01T00:00:00Z", "to": "2020-03-23T08:00:00Z"}  # 1976 hours
    data = await admin("query($s: ID!, $r: DateRange) { timeseries(siteId: $s, range: $r, "
                       "interval: HOUR) { visitors } }", s=str(site.id), r=long)
    assert len(data["timeseries"]) == 1976


async def test_too_many_buckets_are_bad_user_input(admin, site):
    r = {"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    errors = await admin.errors("query($s: ID!, $r: DateRange) { timeseries(siteId: $s, "
                                "range: $r, interval: HOUR) { visitors } }",
                                s=str(site.id), r=r)
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "range"}
    assert str(MAX_BUCKETS) in errors[0]["message"]


# --- 2. cost ------------------------------------------------------------------------------

def nested_goals(levels: int) -> str:
    return "goals { site { " * (levels - 1) + "goals { id name } " + "} } " * (levels - 1)


async def test_nested_lists_over_the_cost_limit_are_refused_before_running(admin, site,
                                                                          monkeypatch):
    ran = []
    original = goals_service.list_goals_for_sites

    async def watched(*args, **kwargs):
        ran.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(goals_service, "list_goals_for_sites", watched)
    aliases = " ".join(f"a{i}: site(id: $s) {{ {nested_goals(4)} }}" for i in range(3))
    errors = await admin.errors(f"query($s: ID!) {{ {aliases} }}", s=str(site.id))
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "expensive" in errors[0]["message"] and str(MAX_COST) in errors[0]["message"]
    assert ran == []
    # the page size asked for counts: the goals of 100 sessions' events cost too much, of 1 not
    page = ("query($s: ID!, $n: Int) { a: sessions(siteId: $s, first: $n) { edges { node { "
            "events { goal { site { goals { id name badge { color } conditions { value } "
            "} } } } } } } }")
    assert await admin.code(page, s=str(site.id), n=100) == "BAD_USER_INPUT"
    assert (await admin(page, s=str(site.id), n=1))["a"]["edges"] == []


async def test_ordinary_dashboard_queries_are_within_the_cost_limit(admin, site):
    query = """query($s: ID!) {
      site(id: $s) { id goals { id name conditions { field value } badge { color } } }
      kpis(siteId: $s) { visitors revenue { amount currency } }
      goalStats(siteId: $s) { goal { id name } conversions revenue { amount } }
      timeseries(siteId: $s, interval: HOUR) { start visitors revenue { amount currency } }
      sessions(siteId: $s, first: 100) { totalCount edges { cursor node { id events
        { id name goal { id name badge { color } } revenue { amount } } } } }
    }"""
    data = await admin(query, s=str(site.id))
    assert data["site"]["id"] == str(site.id)


async def test_a_site_has_at_most_the_goal_cap(admin, db, site, monkeypatch):
    monkeypatch.setattr(goals_service, "MAX_GOALS_PER_SITE", 3)
    for i in range(3):
        await create_goal(admin, site.id, f"g{i}")
    errors = await admin.errors(CREATE_GOAL, input={
        "siteId": str(site.id), "name": "one too many", "type": "CUSTOM_EVENT",
        "conditions": [{"field": "EVENT_NAME", "operator": "EQUALS", "value": "x"}]})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 3 goals" in errors[0]["message"]
    async with db.read.connect() as conn:
        stored = (await conn.execute(select(goals.c.name).where(goals.c.site_id == site.id))).all()
    assert len(stored) == 3


# --- 10. the database unreachable --------------------------------------------------------

async def test_reads_during_a_postgres_outage_are_retryable(postgres_url):
    proxy, via_proxy = await proxy_in_front_of(postgres_url)
    async with running_app(make_settings(via_proxy)) as (application, client):
        headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        site_id = (await client.post("/graphql", headers=headers, json={
            "query": 'mutation { createSite(domain: "out-%s.example") { id } }'
                     % uuid.uuid4().hex[:8]})).json()["data"]["createSite"]["id"]
        body = {"query": KPIS, "variables": {"s": site_id}}
        assert (await client.post("/graphql", headers=headers, json=body)).status_code == 200
        await proxy.stop()
        for query in (body, {"query": "{ sites { id goals { id } } }"}):
            down = await client.post("/graphql", headers=headers, json=query)
            assert down.status_code == 503, down.text
            assert int(down.headers["retry-after"]) >= 1
            error = down.json()["errors"][0]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert error["extensions"]["retryAfter"] >= 1
        await proxy.start()
        back = await client.post("/graphql", headers=headers, json=body)
        assert back.status_code == 200 and back.json()["data"]["kpis"]["visitors"] == 0
    await proxy.stop()

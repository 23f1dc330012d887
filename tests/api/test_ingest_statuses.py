"""Every answer of contract §2, each with its error shape, and that a refusal stores nothing."""

import json

import httpx
import pytest

from server.auth.keys import create_api_key, revoke_api_key
from server.sites import service as sites
from tests.conftest import BROWSER_UA, make_settings, running_app
from tests.support.store import count_events, stored_events


def url(site, path="/"):
    return f"https://{site.domain}{path}"


async def post(client, body, **kwargs):
    return await client.post("/api/event", json=body, **kwargs)


def assert_error(response, status, field=None, code=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    if code is not None:
        assert error["code"] == code


async def test_pageview_202_with_goal_null(client, site, db):
    response = await post(client, {"site": site.domain, "url": url(site, "/pricing?plan=pro")})
    assert response.status_code == 202
    assert response.json() == {"accepted": True, "counted": True, "goal": None}
    [event] = await stored_events(db, site.id)
    assert event["type"] == "pageview"
    assert event["path"] == "/pricing"
    assert event["url"] == url(site, "/pricing?plan=pro")


async def test_every_answer_says_its_length(client, site):
    """Content-Length, not chunked encoding: keep-alive clients (load generators, proxies, the
    WordPress plugin's HTTP API) read the answer without parsing chunks."""
    answers = [
        await post(client, {"site": site.domain, "url": url(site)}),
        await client.post("/api/event", content=b"{not json"),
        await client.get("/api/event"),
        await client.options("/api/event", headers={"origin": "https://a.example",
                                                     "access-control-request-method": "POST"}),
    ]
    assert [a.status_code for a in answers] == [202, 400, 405, 204]
    for answer in answers:
        assert answer.headers["content-length"] == str(len(answer.content)), answer.headers


async def test_text_plain_body_as_sendbeacon_sends_it(client, site, db):
    body = json.dumps({"site": site.domain, "url": url(site)})
    response = await client.post("/api/event", content=body,
                                 headers={"content-type": "text/plain;charset=UTF-8"})
    assert response.status_code == 202
    assert await count_events(db, site.id) == 1


async def test_type_defaults_to_custom_when_named(client, site, db):
    response = await post(client, {"site": site.domain, "name": "Signup", "url": url(site)})
    assert response.status_code == 202
    [event] = await stored_events(db, site.id)
    assert (event["type"], event["name"]) == ("custom", "Signup")


@pytest.mark.parametrize("body, field", [
    (b"{not json", "body"),
    (b"[1, 2]", "body"),
    (b'"just a string"', "body"),
    (b'{"site": "x", "props": {"a": NaN}}', "body"),
    (b"", "body"),
    (b"\xff\xfe{}", "body"),
    (b"[" * 10000 + b"]" * 10000, "body"),
    (b'{"site": "x", "props": ' + b'{"a":' * 4000 + b"1" + b"}" * 4001, "body"),
])
async def test_malformed_json_is_400(client, site, db, body, field):
    response = await client.post("/api/event", content=body.replace(b'"x"', f'"{site.domain}"'.encode()))
    assert_error(response, 400, field=field)
    assert await count_events(db, site.id) == 0


@pytest.mark.parametrize("patch, field", [
    ({"type": "purchase"}, "type"),
    ({"type": 3}, "type"),
    ({"url": 42}, "url"),
    ({"referrer": ["x"]}, "referrer"),
    ({"props": [1, 2]}, "props"),
    ({"props": {"nested": {"a": 1}}}, "props.nested"),
    ({"props": {"list": [1]}}, "props.list"),
    ({"anonymous_id": {"a": 1}}, "anonymous_id"),
    ({"event_id": True}, "event_id"),
    ({"type": "click"}, "click"),
    ({"type": "click", "click": "https://x.com"}, "click"),
    ({"type": "click", "click": {"url": 7}}, "click.url"),
    ({"type": "form"}, "form"),
    ({"type": "form", "form": {"plugin": "ninja"}}, "form.plugin"),
    ({"type": "custom"}, "name"),
    ({"name": 5}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "__reserved"}, "name"),
    ({"site": 12}, "site"),
    ({"timestamp": "2026-01-01T00:00:00Z"}, "timestamp"),  # needs a key
    ({"ip": "1.2.3.4"}, "ip"),
])
async def test_wrong_fields_are_400_and_store_nothing(client, site, db, patch, field):
    body = {"site": site.domain, "url": url(site)} | patch
    response = await post(client, body)
    assert_error(response, 400, field=field)
    assert await count_events(db, site.id) == 0


@pytest.mark.parametrize("revenue, field", [
    ({"amount": "29.99", "currency": "XYZ"}, "revenue.currency"),
    ({"amount": "29.99", "currency": "US"}, "revenue.currency"),
    ({"amount": "29.99", "currency": 840}, "revenue.currency"),
    ({"amount": "29.99"}, "revenue.currency"),
    ({"amount": "abc", "currency": "USD"}, "revenue.amount"),
    ({"amount": "NaN", "currency": "USD"}, "revenue.amount"),
    ({"amount": "Infinity", "currency": "USD"}, "revenue.amount"),
    ({"amount": "1e400", "currency": "USD"}, "revenue.amount"),
    ({"amount": "0.0000001", "currency": "USD"}, "revenue.amount"),
    ({"amount": True, "currency": "USD"}, "revenue.amount"),
    ({"currency": "USD"}, "revenue.amount"),
    ("29.99 USD", "revenue"),
])
async def test_bad_revenue_is_400(client, site, db, revenue, field):
    response = await post(client, {"site": site.domain, "name": "Purchase", "revenue": revenue})
    assert_error(response, 400, field=field)
    assert await count_events(db, site.id) == 0


async def test_revenue_only_on_custom_events(client, site, db):
    response = await post(client, {"site": site.domain, "type": "pageview", "url": url(site),
                                   "revenue": {"amount": "1", "currency": "USD"}})
    assert_error(response, 400, field="revenue")


async def test_revenue_is_exact_and_currency_upper_cased(client, site, db):
    raw = b'{"site": "%s", "name": "Purchase", "revenue": {"amount": 0.1, "currency": "usd"}}'
    assert (await client.post("/api/event", content=raw % site.domain.encode())).status_code == 202
    response = await post(client, {"site": site.domain, "name": "Purchase",
                                   "revenue": {"amount": "1234567.890123", "currency": "EUR"}})
    assert response.status_code == 202
    stored = [(e["revenue_micros"], e["revenue_currency"]) for e in await stored_events(db, site.id)]
    assert sorted(stored) == sorted([(100_000, "USD"), (1_234_567_890_123, "EUR")])


async def test_props_keep_number_text(client, site, db):
    raw = b'{"site": "%s", "name": "Signup", "props": {"price": 1.50, "seats": 3, "ok": true}}'
    assert (await client.post("/api/event", content=raw % site.domain.encode())).status_code == 202
    [event] = await stored_events(db, site.id)
    assert json.loads(event["props"], parse_float=str) == {"price": "1.50", "seats": 3, "ok": True}


async def test_unknown_site_is_404(client, site, db):
    response = await post(client, {"site": "no-such-site.example", "url": "https://x.example/"})
    assert_error(response, 404, field="site")


async def test_body_over_32_kib_is_413(client, site, db):
    body = {"site": site.domain, "url": url(site), "referrer": "", "pad": "x" * (33 * 1024)}
    response = await post(client, body)
    assert_error(response, 413)
    assert await count_events(db, site.id) == 0


async def test_body_over_32_kib_without_length_is_refused_while_reading(client, site, db):
    chunks_sent = 0

    async def chunks():
        nonlocal chunks_sent
        yield b'{"site": "%s", "pad": "' % site.domain.encode()
        for _ in range(1000):  # would be 1 MiB in all
            chunks_sent += 1
            yield b"x" * 1024
        yield b'"}'

    response = await client.post("/api/event", content=chunks())
    assert_error(response, 413)
    assert chunks_sent < 100, "the body was read past the limit"
    assert await count_events(db, site.id) == 0


async def test_props_over_8_kib_is_413(client, site, db):
    response = await post(client, {"site": site.domain, "name": "Big",
                                   "props": {"k": "v" * (8 * 1024 + 1)}})
    assert_error(response, 413, field="props")
    assert await count_events(db, site.id) == 0


async def test_keys_401_wrong_revoked_foreign_and_good(client, site, db):
    other = await sites.create(db, domain=f"other-{site.domain}")
    key, secret = await create_api_key(db, site_id=site.id, label="wp")
    _, other_secret = await create_api_key(db, site_id=other.id)
    body = {"site": site.domain, "url": url(site), "ip": "198.51.100.4",
            "user_agent": "curl/8.0", "timestamp": "2026-01-02T03:04:05Z"}

    for bad in (secret[:-2] + "xx", "gp_nonsense", other_secret, "not-a-key"):
        response = await post(client, body, headers={"authorization": f"Bearer {bad}"})
        assert_error(response, 401)
    response = await post(client, body, headers={"authorization": f"Basic {secret}"})
    assert_error(response, 401)
    assert await count_events(db, site.id) == 0

    ok = await post(client, body, headers={"authorization": f"Bearer {secret}"})
    assert ok.status_code == 202, ok.text
    [event] = await stored_events(db, site.id)
    assert event["occurred_at"] == 1767323045 * 1_000_000  # the server-side timestamp

    await revoke_api_key(db, key_id=key.id)
    response = await post(client, body, headers={"authorization": f"Bearer {secret}"})
    assert_error(response, 401)
    assert await count_events(db, site.id) == 1


async def test_rate_limit_429_with_retry_after(database_url, site, db):
    # one token per 100 s: none comes back while the test runs, however slow the machine
    settings = make_settings(database_url, rate_limit=0.01, rate_burst=3.0)
    async with running_app(settings, "198.51.100.9") as (app, c):
        answers = [await post(c, {"site": site.domain, "url": url(site)}) for _ in range(6)]
        statuses = [a.status_code for a in answers]
        assert statuses[:3] == [202, 202, 202]
        limited = [a for a in answers if a.status_code == 429]
        assert limited, statuses
        assert_error(limited[0], 429)
        assert int(limited[0].headers["retry-after"]) >= 1
        # another client address is not limited by the first one's flood
        other = httpx.ASGITransport(app=app, client=("198.51.100.10", 1234))
        async with httpx.AsyncClient(transport=other, base_url="http://gp.test",
                                     headers={"user-agent": BROWSER_UA}) as c2:
            assert (await post(c2, {"site": site.domain, "url": url(site)})).status_code == 202
    assert await count_events(db, site.id) == 3 + 1


async def test_cors_preflight_and_post(client, site):
    preflight = await client.options("/api/event", headers={
        "origin": f"https://{site.domain}", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == f"https://{site.domain}"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    response = await post(client, {"site": site.domain, "url": url(site)},
                          headers={"origin": f"https://{site.domain}"})
    assert response.headers["access-control-allow-origin"] == f"https://{site.domain}"


def cache_directives(response) -> dict[str, str | None]:
    directives = {}
    for part in response.headers["cache-control"].split(","):
        name, _, value = part.strip().partition("=")
        directives[name.lower()] = value or None
    return directives


async def test_tracker_is_served_with_caching(client):
    response = await client.get("/js/goalpost.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert len(response.content) > 100
    # browsers may keep it a day, then revalidate by ETag
    plain = cache_directives(response)
    assert "public" in plain and int(plain["max-age"]) >= 3600
    assert not {"no-store", "no-cache", "private"} & plain.keys()
    etag = response.headers["etag"]
    again = await client.get("/js/goalpost.js", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # a versioned URL is cached for a year
    versioned = cache_directives(await client.get("/js/goalpost.js?v=1"))
    assert int(versioned["max-age"]) >= 365 * 86400 and "immutable" in versioned
    assert not {"no-store", "no-cache", "private"} & versioned.keys()

"""Bad input on POST /api/event costs little, is refused with the contract's 400 and its field,
and never harms another request: not even one that shares its group commit."""

import asyncio
import json
import logging
import uuid

import pytest
from sqlalchemy import text

from server.ingest.bots import MAX_USER_AGENT
from server.sites import service as sites
from tests.api.test_ingest_statuses import assert_error
from tests.conftest import BROWSER_UA
from tests.support.store import count_events, stored_events


def url(site, path="/"):
    return f"https://{site.domain}{path}"


async def post(client, body, **kwargs):
    # json.dumps escapes what is not ASCII, so a lone surrogate travels as "\udfff"
    return await client.post("/api/event", content=json.dumps(body), **kwargs)


# --- numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [
    "1e999990",  # took 24 s of CPU before its 400
    "1e999999",  # decimal.Overflow: answered 500
    "-1e999999",
    "1e-1000000000",  # was stored as 0.00
    "1_000", "٣", "１２", " 12", "12 ", "1e", "+", ".", "0x10", "1,5",
    "1" * 41,
    "1000000000000",  # 10^12: more than a sum of them can hold
    "0.0000001",
])
async def test_amount_strings_outside_plain_ascii_decimal_are_400(client, site, db, amount):
    response = await post(client, {"site": site.domain, "name": "Purchase",
                                   "revenue": {"amount": amount, "currency": "USD"}})
    assert_error(response, 400, field="revenue.amount", code="invalid_amount")
    assert await count_events(db, site.id) == 0


@pytest.mark.parametrize("literal, field", [
    (b"1e999990", "revenue.amount"),
    (b"1e999999", "revenue.amount"),
    (b"-1e999999", "revenue.amount"),
    (b"1e-1000000000", "revenue.amount"),
    (b"1e9999999999999999999", "body"),  # beyond what Decimal represents: InvalidOperation
    (b"1" * 65, "body"),  # a literal longer than any number we keep
    (b"1" * 5000, "body"),
    (b"1." + b"0" * 5000, "body"),
])
async def test_amount_number_literals_out_of_range_are_400(client, site, db, literal, field):
    body = b'{"site": "%s", "name": "Purchase", "revenue": {"amount": %s, "currency": "USD"}}'
    response = await client.post("/api/event", content=body % (site.domain.encode(), literal))
    assert_error(response, 400, field=field)
    assert await count_events(db, site.id) == 0


async def test_amounts_in_range_are_stored_exactly(client, site, db):
    for amount in ("0.000001", "999999999999.999999", "1.5E2", "-3", "0e-1000000000"):
        response = await post(client, {"site": site.domain, "name": "Purchase",
                                       "revenue": {"amount": amount, "currency": "EUR"}})
        assert response.status_code == 202, (amount, response.text)
    stored = sorted(e["revenue_micros"] for e in await stored_events(db, site.id))
    assert stored == sorted([1, 999_999_999_999_999_999, 150_000_000, -3_000_000, 0])


@pytest.mark.parametrize("literal", [b"1e300000", b"1e999999", b"-1e300000", b"1e-999999999",
                                     b"9" * 64])
async def test_keyed_timestamp_number_literals_are_cheap_400s(client, site, db, literal):
    from server.auth.keys import create_api_key

    _, secret = await create_api_key(db, site_id=site.id)
    body = b'{"site": "%s", "url": "https://x.example/", "timestamp": %s}'
    response = await client.post("/api/event", content=body % (site.domain.encode(), literal),
                                 headers={"authorization": f"Bearer {secret}"})
    if literal == b"1e-999999999":  # a moment after the epoch: stored as 0
        assert response.status_code == 202, response.text
        [event] = await stored_events(db, site.id)
        assert event["occurred_at"] == 0
    else:
        assert_error(response, 400, field="timestamp")
        assert await count_events(db, site.id) == 0


async def test_props_numbers_keep_their_text_however_large_their_exponent(client, site, db):
    raw = b'{"site": "%s", "name": "Signup", "props": {"big": 1e999999, "small": -1E-999999}}'
    assert (await client.post("/api/event", content=raw % site.domain.encode())).status_code == 202
    [event] = await stored_events(db, site.id)
    assert event["props"] == '{"big":1E+999999,"small":-1E-999999}'


# --- text that no column can hold ----------------------------------------------------------

NUL, SURROGATE = "a\x00b", "\udfff"


def _bodies_with(bad: str):
    return [
        ({"url": f"https://x.example/{bad}"}, "url"),
        ({"referrer": bad}, "referrer"),
        ({"name": bad}, "name"),
        ({"anonymous_id": bad}, "anonymous_id"),
        ({"user_id": bad}, "user_id"),
        ({"event_id": bad}, "event_id"),
        ({"type": "click", "click": {"url": f"https://{bad}.example/", "text": "Buy"}},
         "click.url"),
        ({"type": "click", "click": {"url": "https://shop.example/", "text": bad}},
         "click.text"),
        ({"type": "form", "form": {"plugin": "html", "id": bad}}, "form.id"),
        ({"type": "form", "form": {"plugin": "cf7", "contactFormId": 1, "title": bad}},
         "form.title"),
        ({"name": "Signup", "props": {"plan": bad}}, "props.plan"),
        ({"name": "Signup", "props": {bad: "pro"}}, "props"),
        ({"name": "Signup", "props": {"deep": {"er": [1, bad]}}}, "props.deep.er"),
        ({"pad": bad}, "pad"),  # a key we ignore still may not carry it
        ({bad: 1}, "body"),
    ]


@pytest.mark.parametrize("patch, field", _bodies_with(NUL) + _bodies_with(SURROGATE))
async def test_nul_and_lone_surrogates_are_400_wherever_they_come(client, site, db, patch,
                                                                    field):
    body = {"site": site.domain, "url": url(site)} | patch
    response = await post(client, body)
    assert_error(response, 400, field=field)
    assert await count_events(db, site.id) == 0


async def test_a_surrogate_pair_is_one_character_and_stored(client, site, db):
    response = await client.post("/api/event", content=(
        b'{"site": "%s", "name": "Signup", "props": {"mood": "\\ud83d\\ude00"}}'
        % site.domain.encode()))
    assert response.status_code == 202, response.text
    [event] = await stored_events(db, site.id)
    assert "\U0001F600" in event["props"]


async def test_click_host_over_253_characters_is_400(client, site, db):
    host = ".".join(["a" * 60] * 5)  # 304 characters
    response = await post(client, {"site": site.domain, "type": "click", "url": url(site),
                                   "click": {"url": f"https://{host}/x", "text": "Go"}})
    assert_error(response, 400, field="click.url")
    assert await count_events(db, site.id) == 0


# --- headers -------------------------------------------------------------------------------

async def test_user_agent_header_over_1_kib_is_400_before_the_body_is_read(client, site, db):
    for length in (MAX_USER_AGENT + 1, 8 * 1024, 24 * 1024):  # 24 KB took 29 s to check
        response = await post(client, {"site": site.domain, "url": url(site)},
                              headers={"user-agent": "Mozilla/5.0 " + "a" * length})
        assert_error(response, 400, field="user_agent")
    # the longest accepted one is read, and a browser's user agent is counted
    longest = "Mozilla/5.0 " + "a" * (MAX_USER_AGENT - 12)
    response = await post(client, {"site": site.domain, "url": url(site)},
                          headers={"user-agent": longest})
    assert response.status_code == 202 and response.json()["counted"] is True
    assert await count_events(db, site.id) == 1


# --- one refused event, and its batch-mates --------------------------------------------------

@pytest.fixture
async def storage_refusing(db, backend):
    """Storage itself refuses events named with the returned name (a trigger on `events`), as
    it would any row it can't hold: what parsing missed reaches the writer this way."""
    poison = f"refused-{uuid.uuid4().hex[:12]}"
    trigger = f"refuse_{poison.replace('-', '_')}"
    async with db.write.begin() as conn:
        if backend == "postgres":
            await conn.execute(text(
                "CREATE OR REPLACE FUNCTION goalpost_test_refuse() RETURNS trigger AS "
                "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"))
            await conn.execute(text(
                f"CREATE TRIGGER {trigger} BEFORE INSERT ON events FOR EACH ROW "
                f"WHEN (NEW.name = '{poison}') EXECUTE FUNCTION goalpost_test_refuse()"))
        else:
            await conn.execute(text(
                f"CREATE TRIGGER {trigger} BEFORE INSERT ON events "
                f"WHEN NEW.name = '{poison}' BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    yield poison
    async with db.write.begin() as conn:
        await conn.execute(text(f"DROP TRIGGER {trigger}" + (
            " ON events" if backend == "postgres" else "")))


async def test_an_event_storage_refuses_fails_alone_not_its_batch(client, site, db,
                                                                  storage_refusing, caplog):
    # one visitor sends them all: a writer queue holds each visitor's events, so the bad event
    # waits in the same queue as the good ones. A first event has the site and its goals looked
    # up, so that none of the others waits on storage before reaching the queue (an event that
    # did could arrive alone and make a batch of its own)
    warm = await post(client, {"site": site.domain, "url": url(site), "anonymous_id": "v0"})
    assert warm.status_code == 202, warm.text
    good = [{"site": site.domain, "url": f"https://{site.domain}/p{i}", "anonymous_id": "v0"}
            for i in range(40)]
    bad = {"site": site.domain, "name": storage_refusing, "anonymous_id": "v0"}
    with caplog.at_level(logging.WARNING, logger="goalpost.writer"):
        answers = await asyncio.gather(*[post(client, body) for body in good[:20]],
                                       post(client, bad),
                                       *[post(client, body) for body in good[20:]])
    refused = answers.pop(20)
    assert refused.status_code == 500, refused.text
    assert refused.json()["error"]["code"] == "internal"
    assert [a.status_code for a in answers] == [202] * 40
    assert await count_events(db, site.id) == 41
    assert not [e for e in await stored_events(db, site.id) if e["name"] == storage_refusing]
    # the refused event did share a batch with others, which were then stored without it
    assert any("trying its halves apart" in r.getMessage() for r in caplog.records)
    # and the writer goes on as before
    assert (await post(client, {"site": site.domain, "url": url(site)})).status_code == 202


# --- the client address -----------------------------------------------------------------------

async def test_forwarded_for_is_read_only_from_configured_proxies(database_url, site, db):
    from tests.conftest import make_settings, running_app

    async def visitors_seen(settings, peer):
        before = {e["id"] for e in await stored_events(db, site.id)}
        async with running_app(settings, peer) as (_, c):
            for forged in ("198.51.100.1", "198.51.100.2"):
                response = await post(c, {"site": site.domain, "url": url(site)},
                                      headers={"x-forwarded-for": forged})
                assert response.status_code == 202, response.text
        return {e["visitor_id"] for e in await stored_events(db, site.id)
                if e["id"] not in before}

    # by default no proxy is trusted, 127.0.0.1 included: one visitor, whatever it claims
    assert len(await visitors_seen(make_settings(database_url), "127.0.0.1")) == 1
    # a configured proxy's X-Forwarded-For is the client address; another peer's is not
    trusting = make_settings(database_url, forwarded_allow_ips="10.0.0.0/8")
    assert len(await visitors_seen(trusting, "10.1.2.3")) == 2
    assert len(await visitors_seen(trusting, "192.0.2.50")) == 1


async def test_forged_forwarded_for_does_not_escape_the_rate_limit(database_url, site, db):
    from tests.conftest import make_settings, running_app

    settings = make_settings(database_url, rate_limit=0.05, rate_burst=1.0)
    async with running_app(settings, "127.0.0.1") as (_, c):
        first = await post(c, {"site": site.domain, "url": url(site)},
                           headers={"x-forwarded-for": "198.51.100.1"})
        second = await post(c, {"site": site.domain, "url": url(site)},
                            headers={"x-forwarded-for": "198.51.100.2"})
    assert first.status_code == 202
    assert_error(second, 429)


async def test_served_process_ignores_forwarded_for_from_localhost_by_default(database_url,
                                                                             site, db):
    """What `goalpost serve` itself does (uvicorn trusted 127.0.0.1 by default)."""
    import httpx

    from tests.support.server_process import ServerProcess

    server = await asyncio.to_thread(ServerProcess(database_url).start)
    try:
        async with httpx.AsyncClient(base_url=server.url,
                                     headers={"user-agent": BROWSER_UA}) as c:
            for forged in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
                response = await post(c, {"site": site.domain, "url": url(site)},
                                      headers={"x-forwarded-for": forged})
                assert response.status_code == 202, response.text
    finally:
        server.stop()
    assert len({e["visitor_id"] for e in await stored_events(db, site.id)}) == 1

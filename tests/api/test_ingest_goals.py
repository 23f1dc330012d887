"""Matching at ingestion: the stored goal, priority, conversions, later edits, other processes,
idempotency and bots."""

import asyncio
import json
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.auth.keys import create_api_key
from server.goals import service as goals
from tests.conftest import BROWSER_UA, make_settings
from tests.support.store import all_stored_text, count_events, stored_events, stored_sessions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "forms"


async def post(client, body, **kw):
    return await client.post("/api/event", json=body, **kw)


async def test_first_matching_goal_by_priority_is_stored(client, site, db):
    broad = await goals.create_goal(db, site_id=site.id, name="Any Amazon", type="CLICK",
                                    conditions=[("DOMAIN", "EQUALS", "amazon.de")])
    narrow = await goals.create_goal(db, site_id=site.id, name="Echo Dot", type="CLICK",
                                     conditions=[("ASIN", "EQUALS", "b08n5wrwnw")], priority=1)
    body = {"site": site.domain, "type": "click", "url": f"https://{site.domain}/review",
            "click": {"url": "https://www.amazon.de/dp/B08N5WRWNW?tag=x", "text": "Buy now"}}
    assert (await post(client, body)).json() == {"accepted": True, "counted": True, "goal": "Echo Dot"}
    other = body | {"click": {"url": "https://amazon.de/dp/B000000000", "text": "Other"}}
    assert (await post(client, other)).json()["goal"] == "Any Amazon"
    stored = await stored_events(db, site.id)
    assert [e["goal_id"] for e in stored] == [narrow.id, broad.id]
    assert stored[0]["click_domain"] == "amazon.de" and stored[0]["click_asin"] == "B08N5WRWNW"


async def test_goal_types_are_isolated(client, site, db):
    await goals.create_goal(db, site_id=site.id, name="Pricing page", type="PAGEVIEW",
                            conditions=[("PATH", "EQUALS", "/pricing")])
    click = {"site": site.domain, "type": "click", "url": f"https://{site.domain}/pricing",
             "click": {"url": "https://example.org/pricing", "text": "/pricing"}}
    assert (await post(client, click)).json()["goal"] is None
    view = {"site": site.domain, "url": f"https://{site.domain}/pricing?x=1"}
    assert (await post(client, view)).json()["goal"] == "Pricing page"


async def test_editing_a_goal_changes_no_stored_event(client, site, db):
    goal = await goals.create_goal(db, site_id=site.id, name="Signup", type="CUSTOM_EVENT",
                                   conditions=[("EVENT_NAME", "EQUALS", "signup")])
    assert (await post(client, {"site": site.domain, "name": "signup"})).json()["goal"] == "Signup"
    await goals.update_goal(db, goal_id=goal.id, conditions=[("EVENT_NAME", "EQUALS", "nope")],
                            counts_as_conversion=False)
    # the edit applies at once to new events...
    assert (await post(client, {"site": site.domain, "name": "signup"})).json()["goal"] is None
    first, second = await stored_events(db, site.id)
    # ...and never to stored ones
    assert (first["goal_id"], first["is_conversion"]) == (goal.id, True)
    assert (second["goal_id"], second["is_conversion"]) == (None, False)


async def test_goal_created_through_another_process_applies_at_once(database_url, client, site, db):
    # warm this app's goal cache for the site
    assert (await post(client, {"site": site.domain, "name": "Lead"})).json()["goal"] is None
    other = create_app(make_settings(database_url))
    async with LifespanManager(other):
        await goals.create_goal(other.state.db, site_id=site.id, name="Lead goal",
                                type="CUSTOM_EVENT", conditions=[("EVENT_NAME", "EQUALS", "lead")])
    assert (await post(client, {"site": site.domain, "name": "Lead"})).json()["goal"] == "Lead goal"


async def test_property_conditions_at_ingestion(client, site, db):
    await goals.create_goal(db, site_id=site.id, name="Pro plan", type="CUSTOM_EVENT",
                            match_logic="ALL",
                            conditions=[("PROPERTY_KEY", "EQUALS", "plan"),
                                        ("PROPERTY_VALUE", "EQUALS", "55")])
    raw = b'{"site": "%s", "name": "Purchase", "props": {"plan": "pro", "seats": 55}}'
    answer = await client.post("/api/event", content=raw % site.domain.encode())
    assert answer.json()["goal"] == "Pro plan"


async def test_same_event_id_is_stored_once_under_concurrency(database_url, client, site, db):
    await goals.create_goal(db, site_id=site.id, name="Purchase", type="CUSTOM_EVENT",
                            conditions=[("EVENT_NAME", "EQUALS", "purchase")])
    body = {"site": site.domain, "name": "purchase", "event_id": "order-1001",
            "revenue": {"amount": "10.00", "currency": "EUR"}}
    other = create_app(make_settings(database_url))  # a second process on the same database
    async with LifespanManager(other):
        transport = httpx.ASGITransport(app=other, client=("203.0.113.8", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://gp.test",
                                     headers={"user-agent": BROWSER_UA}) as other_client:
            answers = await asyncio.gather(
                *[post(client, body) for _ in range(20)],
                *[post(other_client, body) for _ in range(20)],
            )
    assert {a.status_code for a in answers} == {202}
    assert {a.json()["goal"] for a in answers} == {"Purchase"}
    [event] = await stored_events(db, site.id)
    assert event["revenue_micros"] == 10_000_000
    # other ids are not affected, and the same id on another site is another event
    assert (await post(client, body | {"event_id": "order-1002"})).status_code == 202
    assert await count_events(db, site.id) == 2


async def test_bots_are_answered_202_and_not_counted(client, site, db):
    for ua in ("curl/8.5.0", "Googlebot/2.1 (+http://www.google.com/bot.html)",
               "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "HeadlessChrome/131.0.0.0 Safari/537.36", "python-requests/2.32", ""):
        answer = await post(client, {"site": site.domain, "url": f"https://{site.domain}/"},
                            headers={"user-agent": ua})
        assert answer.status_code == 202
        assert answer.json() == {"accepted": True, "counted": False, "goal": None}
    assert await count_events(db, site.id) == 0
    assert await stored_sessions(db, site.id) == []
    # a server-side event with a valid key is trusted whatever its user agent
    _, secret = await create_api_key(db, site_id=site.id)
    answer = await post(client, {"site": site.domain, "url": f"https://{site.domain}/",
                                 "user_agent": "WordPress/6.5"},
                        headers={"authorization": f"Bearer {secret}", "user-agent": "curl/8"})
    assert answer.status_code == 202
    assert await count_events(db, site.id) == 1


def _fixture_payloads():
    """(plugin, form payload, typed values) for every successful submission in the fixtures."""
    cf7 = json.loads((FIXTURES / "cf7.events.json").read_text())
    mailsent = next(e for e in cf7["dom_events"]["events"] if e["name"] == "wpcf7mailsent")
    detail = mailsent["sample_detail"]
    typed = [i["value"] for i in detail.get("inputs", [])]
    yield "cf7", {"plugin": "cf7", **detail}, typed, str(detail["contactFormId"])
    yield "cf7", {"plugin": "cf7", "id": 123, "title": "Contact form 1"}, [], "123"
    yield "wpforms", {"plugin": "wpforms", "formId": "42", "title": "Newsletter"}, [], "42"
    yield ("wpforms", {"plugin": "wpforms", "id": 42, "title": "Newsletter",
                       "fields": {"1": {"name": "Email", "value": "jane@typed.example"}}},
           ["jane@typed.example"], "42")
    yield "gravity", {"plugin": "gravity", "formId": 7}, [], "7"
    yield ("gravity", {"plugin": "gravity", "id": 7, "title": "Quote",
                       "entry": {"id": "99", "form_id": "7", "1": "Typed Secret Name",
                                 "status": "active"}}, ["Typed Secret Name"], "7")
    yield "html", {"plugin": "html", "name": "newsletter", "id": "nl-form",
                   "email": "typed@html.example"}, ["typed@html.example"], "nl-form"


async def test_form_plugins_become_one_form_event_and_typed_values_dropped(client, site, db):
    await goals.create_goal(db, site_id=site.id, name="Any form on contact", type="FORM",
                            conditions=[("PAGE_URL", "EQUALS", "/contact")])
    cases = list(_fixture_payloads())
    for plugin, form, typed, form_id in cases:
        answer = await post(client, {"site": site.domain, "type": "form",
                                     "url": f"https://{site.domain}/contact?ref=x", "form": form})
        assert answer.status_code == 202, (plugin, answer.text)
        assert answer.json()["goal"] == "Any form on contact"
    stored = await stored_events(db, site.id)
    assert len(stored) == len(cases)
    for event, (plugin, form, typed, form_id) in zip(stored, cases):
        assert event["form_plugin"] == plugin
        assert event["form_id"] == form_id
        assert event["form_page_url"] == "/contact"
        assert event["props"] is None
    text = await all_stored_text(db)
    for _, _, typed, _ in cases:
        for value in typed:
            assert value not in text


async def test_cf7_failed_submission_is_refused(client, site, db):
    answer = await post(client, {"site": site.domain, "type": "form",
                                 "url": f"https://{site.domain}/contact",
                                 "form": {"plugin": "cf7", "contactFormId": 4,
                                          "status": "mail_failed"}})
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "form.status"
    assert await count_events(db, site.id) == 0

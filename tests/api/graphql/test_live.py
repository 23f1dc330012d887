"""Subscription.events over WebSocket (contract §8): real `goalpost serve` processes, a real
WebSocket client speaking graphql-transport-ws, on both databases."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import websockets

from server.live.hub import FellBehind, LiveHub
from server.resolvers.live import RECHECK_SECONDS
from tests.conftest import BROWSER_UA
from tests.support.store import stored_events
from tests.support.server_process import ServerProcess

PROTOCOL = "graphql-transport-ws"
WAIT = 20.0  # a bounded wait for what must arrive, never a speed assertion
SUBSCRIBE = """subscription($s: ID!) { events(siteId: $s) {
  id type name path occurredAt goal { id name } revenue { amount currency } props } }"""
SESSIONS = """query($s: ID!) { sessions(siteId: $s) { edges { node { events {
  id type name path occurredAt goal { id name } revenue { amount currency } props } } } } }"""


@pytest.fixture(scope="module")
def server(database_url):
    process = ServerProcess(database_url).start()
    yield process
    process.stop()


class Live:
    """One graphql-transport-ws connection."""

    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def connect(cls, server: ServerProcess, token: str | None,
                      payload: dict | None = None) -> "Live":
        """connection_init with the token as contract §8 says, or with `payload` as given."""
        ws = await websockets.connect(server.url.replace("http", "ws") + "/graphql",
                                      subprotocols=[PROTOCOL], open_timeout=WAIT)
        if payload is None:
            payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        return cls(ws)

    async def receive(self) -> dict:
        frame = await asyncio.wait_for(self.ws.recv(), WAIT)
        # graphql-transport-ws is JSON in text frames: browsers' clients can't parse binary ones
        assert isinstance(frame, str), f"a binary frame: {frame!r}"
        return json.loads(frame)

    async def subscribe(self, site_id, op_id: str = "1") -> None:
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {
            "query": SUBSCRIBE, "variables": {"s": str(site_id)}}}))

    async def acknowledged(self) -> "Live":
        assert (await self.receive())["type"] == "connection_ack"
        return self

    async def next_event(self) -> dict:
        message = await self.receive()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]["events"]

    async def close(self) -> None:
        await self.ws.close()


async def subscribed(server, token, site_id) -> Live:
    live = await (await Live.connect(server, token)).acknowledged()
    await live.subscribe(site_id)
    # the subscription is registered once the server has run the subscribe message: a ping
    # sent after it is answered after it
    await live.ws.send(json.dumps({"type": "ping"}))
    assert (await live.receive())["type"] == "pong"
    return live


async def post_event(server, body: dict, **headers) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url,
                                 headers={"user-agent": BROWSER_UA, **headers}) as c:
        response = await c.post("/api/event", json=body)
    assert response.status_code == 202, response.text
    return response


async def test_a_subscriber_receives_each_stored_event_as_the_sessions_query_returns_it(
        server, admin, site, site_key):
    goal = await admin("""mutation($i: CreateGoalInput!) { createGoal(input: $i) { id name } }""",
                       i={"siteId": str(site.id), "name": "Bought", "type": "CUSTOM_EVENT",
                          "conditions": [{"field": "EVENT_NAME", "operator": "EQUALS",
                                          "value": "Purchase"}]})
    live = await subscribed(server, site_key, site.id)
    try:
        await post_event(server, {"site": site.domain, "url": f"https://{site.domain}/pricing",
                                  "anonymous_id": "v1"})
        await post_event(server, {"site": site.domain, "name": "Purchase",
                                  "url": f"https://{site.domain}/checkout", "anonymous_id": "v1",
                                  "props": {"plan": "pro", "seats": 3, "ratio": 0.1},
                                  "revenue": {"amount": "29.99", "currency": "usd"}})
        received = [await live.next_event(), await live.next_event()]
    finally:
        await live.close()
    assert [(e["type"], e["name"], e["path"]) for e in received] == [
        ("pageview", None, "/pricing"), ("custom", "Purchase", "/checkout")]
    assert received[1]["goal"] == goal["createGoal"]
    assert received[1]["revenue"] == {"amount": "29.99", "currency": "USD"}
    assert received[1]["props"] == {"plan": "pro", "seats": 3, "ratio": 0.1}
    stored = await admin(SESSIONS, s=str(site.id))
    assert received == stored["sessions"]["edges"][0]["node"]["events"]


async def test_a_subscriber_sees_only_its_site(server, admin, site, other_site, site_key):
    live = await subscribed(server, site_key, site.id)
    try:
        await post_event(server, {"site": other_site.domain, "name": "Elsewhere"})
        await post_event(server, {"site": site.domain, "name": "Here"})
        assert (await live.next_event())["name"] == "Here"
    finally:
        await live.close()


async def test_a_site_key_cannot_subscribe_to_another_site(server, site, other_site, site_key):
    live = await (await Live.connect(server, site_key)).acknowledged()
    try:
        await live.subscribe(other_site.id)
        message = await live.receive()
    finally:
        await live.close()
    assert message["type"] == "error" and message["id"] == "1"
    assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_admin_subscribing_to_no_site_gets_not_found(server):
    live = await (await Live.connect(server, "proc-admin")).acknowledged()
    try:
        await live.subscribe(uuid.uuid4())
        message = await live.receive()
    finally:
        await live.close()
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "NOT_FOUND"


async def close_code(live: Live) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await live.receive()
    return closed.value.rcvd.code


async def new_key(admin, site) -> tuple[str, str]:
    """(secret, id) of a new API key of the site."""
    made = await admin("mutation($s: ID!) { createApiKey(siteId: $s) { secret apiKey { id } } }",
                       s=str(site.id))
    return made["createApiKey"]["secret"], made["createApiKey"]["apiKey"]["id"]


async def revoke(admin, key_id: str) -> None:
    await admin("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", id=key_id)


@pytest.mark.parametrize("payload", [
    {}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic YWRtaW4="},
    {"Authorization": "Bearer "}, {"Authorization": 42}, {"token": "proc-admin"}])
async def test_a_missing_or_bad_token_is_refused_at_connection_init(server, payload):
    assert await close_code(await Live.connect(server, None, payload)) == 4403


async def test_the_admin_token_in_connection_init_is_accepted(server):
    live = await (await Live.connect(server, None, {"Authorization": "Bearer proc-admin"})
                  ).acknowledged()
    await live.close()


async def test_a_revoked_key_is_refused(server, admin, site):
    secret, key_id = await new_key(admin, site)
    await revoke(admin, key_id)
    assert await close_code(await Live.connect(server, secret)) == 4403


async def test_a_key_revoked_while_subscribed_receives_nothing_more(server, admin, site):
    secret, key_id = await new_key(admin, site)
    live = await subscribed(server, secret, site.id)
    try:
        await post_event(server, {"site": site.domain, "name": "Before"})
        assert (await live.next_event())["name"] == "Before"
        await revoke(admin, key_id)
        await asyncio.sleep(RECHECK_SECONDS + 0.1)  # past the interval the key is rechecked in
        await post_event(server, {"site": site.domain, "name": "After"})
        message = await live.receive()
        assert (await live.receive())["type"] == "complete"
    finally:
        await live.close()
    assert message["type"] == "next" and message["payload"]["data"] is None
    assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_event_posted_to_one_process_reaches_a_subscriber_of_another(
        backend, database_url, server, site, site_key):
    if backend != "postgres":
        pytest.skip("SQLite is one process: live events stay within it (contract §8)")
    other = await asyncio.to_thread(ServerProcess(database_url).start)
    try:
        on_server = await subscribed(server, site_key, site.id)
        on_other = await subscribed(other, site_key, site.id)
        try:
            await post_event(other, {"site": site.domain, "name": "Posted to the other"})
            await post_event(server, {"site": site.domain, "name": "Posted to the first"})
            seen_on_server = {(await on_server.next_event())["name"] for _ in range(2)}
            seen_on_other = {(await on_other.next_event())["name"] for _ in range(2)}
        finally:
            await on_server.close()
            await on_other.close()
    finally:
        other.stop()
    assert seen_on_server == seen_on_other == {"Posted to the other", "Posted to the first"}


async def test_a_slow_subscriber_never_slows_ingestion_and_is_told_it_fell_behind(
        app, client, site):
    """The slowest subscriber of all reads nothing. Its queue is bounded: every event is still
    answered 202 and stored, a subscriber that keeps up gets each of them, and the slow one is
    cut off with an error that says it fell behind (sent as its last message on the socket)."""
    hub: LiveHub = app.state.live
    slow = hub.subscribe(site.id)
    prompt = hub.subscribe(site.id)
    await hub.watching(site.id)  # as Subscription.events does
    sent = hub.queue_size + 5
    received: list[str] = []

    async def keep_up():
        async for row in prompt.events():
            received.append(row.name)
            if len(received) == sent:
                return

    reader = asyncio.create_task(keep_up())
    try:
        for at in range(0, sent, 64):
            answers = await asyncio.gather(*[
                client.post("/api/event", json={"site": site.domain, "name": f"E{i}"})
                for i in range(at, min(sent, at + 64))])
            assert [a.status_code for a in answers] == [202] * len(answers)
        await asyncio.wait_for(reader, WAIT)
    finally:
        hub.unsubscribe(slow)
        hub.unsubscribe(prompt)
    assert len(await stored_events(app.state.db, site.id)) == sent
    assert sorted(received) == sorted(f"E{i}" for i in range(sent))
    assert slow.dropped > 0 and not hub.wants(site.id)
    with pytest.raises(FellBehind, match=f"fell more than {hub.queue_size} events behind"):
        async for _ in slow.events():
            pass


async def test_only_the_batches_of_watched_sites_notify(app, client, site, backend, database_url):
    """PostgreSQL: a batch NOTIFYs only for sites that some process has live subscribers for
    (live_subscriptions), from the moment Subscription.events starts until its last subscriber
    leaves; the other batches take no part in NOTIFY, whose commits PostgreSQL serializes."""
    if backend != "postgres":
        pytest.skip("SQLite is one process: the writer hands events to its hub, no NOTIFY")
    import asyncpg

    from server.live.feed import CHANNEL
    heard: list[str] = []
    listener = await asyncpg.connect(database_url.replace("postgresql+asyncpg://",
                                                          "postgresql://"))
    await listener.add_listener(CHANNEL, lambda *args: heard.append(args[-1]))

    async def post_and_listen(name):
        answer = await client.post("/api/event", json={"site": site.domain, "name": name})
        assert answer.status_code == 202
        await asyncio.sleep(0.5)  # a notification is sent at the commit, before the 202
        return [p for p in heard if p.startswith(site.id.hex)]

    hub: LiveHub = app.state.live
    try:
        assert await post_and_listen("Unwatched") == []
        subscriber = hub.subscribe(site.id)
        await hub.watching(site.id)
        assert len(await post_and_listen("Watched")) == 1
        hub.unsubscribe(subscriber)
        for _ in range(50):  # the row goes in the background
            heard.clear()
            if await post_and_listen("Left") == []:
                break
        assert await post_and_listen("Left again") == []
    finally:
        await listener.close()

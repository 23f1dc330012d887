"""Real `goalpost` processes: the CLI, the generated admin token, and several workers sharing
one database and staying consistent."""

import asyncio
import os
import subprocess
import sys
import uuid

import httpx

from server.sites import service as sites
from tests.conftest import BROWSER_UA
from tests.support.server_process import ServerProcess
from tests.support.store import stored_events, stored_sessions


def cli(database_url, *args, env=None):
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True,
                          text=True, env={**os.environ, "GOALPOST_DATABASE_URL": database_url,
                                          **(env or {})}, timeout=120)


async def test_create_site_and_key_from_the_cli(database_url, db, client):
    domain = f"cli-{uuid.uuid4().hex[:8]}.example"
    made = await asyncio.to_thread(cli, database_url, "create-site", f"https://www.{domain}/",
                                   "--timezone", "Europe/Berlin")
    assert made.returncode == 0, made.stderr
    site = await sites.get_by_domain(db, domain=domain)
    assert site is not None and site.timezone == "Europe/Berlin"
    again = await asyncio.to_thread(cli, database_url, "create-site", domain)
    assert again.returncode == 2 and "exists" in again.stderr
    key = await asyncio.to_thread(cli, database_url, "create-key", domain, "--label", "wp")
    assert key.returncode == 0, key.stderr
    secret = key.stdout.strip()
    answer = await client.post("/api/event", headers={"authorization": f"Bearer {secret}"},
                               json={"site": domain, "name": "Signup", "user_agent": "WordPress"})
    assert answer.status_code == 202


async def test_admin_token_is_generated_once_and_printed_once(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    env = {k: v for k, v in os.environ.items() if k != "GOALPOST_ADMIN_TOKEN"}
    outputs = []
    for _ in range(2):
        server = ServerProcess(url)
        server.env = {**env, "GOALPOST_DATABASE_URL": url, "GOALPOST_RATE_LIMIT": "0"}
        await asyncio.to_thread(server.start)
        server.stop()
        outputs.append(server.process.stdout.read().decode())
    assert "admin token" in outputs[0]
    token = outputs[0].split("keep it): ", 1)[1].split()[0]
    assert token not in outputs[1] and "admin token" not in outputs[1]
    # the printed token works, and is stored only as a hash
    server = ServerProcess(url)
    server.env = {**env, "GOALPOST_DATABASE_URL": url, "GOALPOST_RATE_LIMIT": "0"}
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as c:
            r = await c.post("/api/event", headers={"authorization": f"Bearer {token}"},
                             json={"site": "unknown.example"})
            assert r.status_code == 404  # authenticated as far as the site lookup
    finally:
        server.stop()
    assert token.encode() not in (tmp_path / "fresh.db").read_bytes()


async def test_two_workers_share_sessions_and_idempotency(database_url, db, site):
    server = await asyncio.to_thread(ServerProcess(database_url, workers=2).start)
    try:
        # many connections, so both worker processes take some of them
        async def burst(i):
            async with httpx.AsyncClient(base_url=server.url,
                                         headers={"user-agent": BROWSER_UA}) as c:
                views = await c.post("/api/event", json={
                    "site": site.domain, "url": f"https://{site.domain}/p{i}",
                    "anonymous_id": "same-visitor"})
                order = await c.post("/api/event", json={
                    "site": site.domain, "name": "Purchase", "event_id": "order-7",
                    "anonymous_id": "same-visitor"})
                return views.status_code, order.status_code

        answers = await asyncio.gather(*[burst(i) for i in range(24)])
    finally:
        server.stop()
    assert set(answers) == {(202, 202)}
    events = await stored_events(db, site.id)
    assert len([e for e in events if e["type"] == "pageview"]) == 24
    assert len([e for e in events if e["name"] == "Purchase"]) == 1
    sessions = await stored_sessions(db, site.id)
    assert len(sessions) == 1 and sessions[0]["events"] == 25

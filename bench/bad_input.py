"""What the bad inputs of issue 7 cost: python bench/bad_input.py

Each input is posted to POST /api/event through the ASGI app (a SQLite database in a temporary
directory), ROUNDS times, fresh every time where a cache could help (a new user agent per
request); the median milliseconds are compared with those of a good pageview measured in the
same run (which includes its commit: on a loaded machine most of its time).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# the repository, not bench/ (whose graphql.py would hide the graphql package)
sys.path[0] = str(Path(__file__).resolve().parents[1])

import httpx  # noqa: E402
from asgi_lifespan import LifespanManager  # noqa: E402

from server.app import create_app  # noqa: E402
from server.auth.keys import create_api_key  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.sites import service as sites  # noqa: E402

ROUNDS = 21
BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")


def cases(domain: str, key: str) -> dict[str, tuple[bytes, dict]]:
    d = domain.encode()

    def revenue(amount: bytes) -> bytes:
        return b'{"site":"%s","name":"Purchase","revenue":{"amount":%s,"currency":"USD"}}' % (
            d, amount)

    keyed = {"authorization": f"Bearer {key}"}
    return {
        "good pageview (baseline)": (b'{"site":"%s","url":"https://%s/"}' % (d, d), {}),
        'amount "1e999990"': (revenue(b'"1e999990"'), {}),
        'amount "1e999999"': (revenue(b'"1e999999"'), {}),
        "amount 1e999990 (number)": (revenue(b"1e999990"), {}),
        'amount "1e-1000000000"': (revenue(b'"1e-1000000000"'), {}),
        "keyed timestamp 1e300000": (
            b'{"site":"%s","url":"https://%s/","timestamp":1e300000}' % (d, d), keyed),
        "User-Agent 24 KB": (b'{"site":"%s","url":"https://%s/"}' % (d, d),
                             {"user-agent": "Mozilla/5.0 " + "a" * 24 * 1024}),
        "browser User-Agent, a new one each time": (
            b'{"site":"%s","url":"https://%s/"}' % (d, d), {"user-agent": "fresh"}),
        "User-Agent 1 KB run of letters, new each time": (
            b'{"site":"%s","url":"https://%s/"}' % (d, d), {"user-agent": "fresh 1 KB"}),
        "NUL in url": (b'{"site":"%s","url":"https://%s/\\u0000"}' % (d, d), {}),
        "lone surrogate anonymous_id": (b'{"site":"%s","anonymous_id":"\\udfff"}' % d, {}),
    }


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, url)
        app = create_app(Settings(database_url=url, admin_token="bench", rate_limit=0.0))
        async with LifespanManager(app):
            db = app.state.db
            site = await sites.create(db, domain="bench.example")
            _, key = await create_api_key(db, site_id=site.id)
            transport = httpx.ASGITransport(app=app, client=("198.51.100.1", 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                         headers={"user-agent": BROWSER_UA}) as client:
                results = {}
                for name, (body, headers) in cases(site.domain, key).items():
                    times, statuses = [], set()
                    for _ in range(ROUNDS):
                        sent = dict(headers)
                        if sent.get("user-agent") == "fresh":  # a new visitor, not cached
                            sent["user-agent"] = f"{BROWSER_UA} {uuid.uuid4().hex}"
                        elif sent.get("user-agent") == "fresh 1 KB":
                            sent["user-agent"] = ("Mozilla/5.0 " + uuid.uuid4().hex
                                                  + "a" * 1000)[:1024]
                        start = time.perf_counter()
                        response = await client.post("/api/event", content=body, headers=sent)
                        times.append(time.perf_counter() - start)
                        statuses.add(response.status_code)
                    results[name] = (statistics.median(times) * 1000, statuses)
    base = results["good pageview (baseline)"][0]
    print(f"{'input':40} {'status':>8} {'median ms':>10} {'x baseline':>11}")
    for name, (ms, statuses) in results.items():
        print(f"{name:40} {','.join(map(str, sorted(statuses))):>8} {ms:10.2f} {ms / base:11.2f}")


if __name__ == "__main__":
    asyncio.run(main())

"""The dashboard (contract §7) in Debian's Chromium against a real `goalpost serve`, one server
per database backend for the whole run, with seeded events. Every test signs in on its own
browser context; tests that change goals or keys work on a site of their own.

Screenshots go to tests/browser/dashboard/artifacts/ (gitignored).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROME_UA, CHROMIUM_ARGS
from tests.support import databases
from tests.support.server_process import ServerProcess

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(__file__).parent / "artifacts"
AXE = ROOT / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"
ADMIN = "proc-admin"  # ServerProcess's admin token
TZ = "Europe/Berlin"


class Api:
    """GraphQL and ingestion as a client of the server under test."""

    def __init__(self, url: str):
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def gql(self, query: str, token: str = ADMIN, **variables) -> dict:
        r = self.http.post("/graphql", json={"query": query, "variables": variables},
                           headers={"authorization": f"Bearer {token}"})
        body = r.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def send(self, site: str, *, at: datetime, visitor: str, token: str = ADMIN,
             **fields) -> httpx.Response:
        body = {"site": site, "url": f"https://{site}/", "anonymous_id": visitor,
                "timestamp": at.astimezone(timezone.utc).isoformat(), "ip": "198.51.100.7",
                "user_agent": CHROME_UA, **fields}
        return self.http.post("/api/event", json=body, headers={"authorization": f"Bearer {token}"})

    def new_site(self, name: str = "Shop") -> dict:
        domain = f"s{uuid.uuid4().hex[:10]}.example"
        return self.gql("mutation($d: String!, $n: String, $t: String) { createSite(domain: $d, "
                        "name: $n, timezone: $t) { id domain name timezone } }",
                        d=domain, n=name, t=TZ)["createSite"]

    def goal(self, site_id: str, name: str, type: str, conditions: list[dict], **extra) -> dict:
        return self.gql("mutation($i: CreateGoalInput!) { createGoal(input: $i) { id name priority } }",
                        i={"siteId": site_id, "name": name, "type": type,
                           "conditions": conditions, **extra})["createGoal"]

    def goals(self, site_id: str) -> list[dict]:
        return self.gql("query($s: ID!) { goals(siteId: $s) { id name priority type "
                        "countsAsConversion badge { color } conditions { field operator value } } }",
                        s=site_id)["goals"]


@dataclass
class Seeded:
    """A site with goals and events on past days of its time zone."""
    site: dict
    goals: dict[str, dict]
    first_day: date  # the custom range the tests view: first_day .. last_day, inclusive
    last_day: date

    @property
    def range_query(self) -> str:
        return f"range=custom&from={self.first_day}&to={self.last_day}"

    def api_range(self) -> dict:
        tz = ZoneInfo(self.site["timezone"])
        start = datetime.combine(self.first_day, time(), tz)
        end = datetime.combine(self.last_day + timedelta(days=1), time(), tz)
        return {"from": start.isoformat(), "to": end.isoformat()}


def seed(api: Api, name: str = "Shop") -> Seeded:
    site = api.new_site(name)
    sid, domain = site["id"], site["domain"]
    goals = {
        "Purchase": api.goal(sid, "Purchase", "CUSTOM_EVENT",
                             [{"field": "EVENT_NAME", "operator": "EQUALS", "value": "Purchase"}],
                             badge={"color": "#DC2626"}),
        "Signup": api.goal(sid, "Signup", "PAGEVIEW",
                           [{"field": "PATH", "operator": "EQUALS", "value": "/signup"}],
                           badge={"color": "#059669"}),
        "Amazon": api.goal(sid, "Amazon", "CLICK",
                           [{"field": "DOMAIN", "operator": "EQUALS", "value": "amazon.de"}],
                           countsAsConversion=False, badge={"color": "#D97706"}),
    }
    tz = ZoneInfo(TZ)
    today = datetime.now(tz).date()
    first, last = today - timedelta(days=9), today - timedelta(days=3)
    for n in range(7):
        day = first + timedelta(days=n)
        noon = datetime.combine(day, time(12), tz)
        for v in range(n + 2):
            visitor = f"v{n}-{v}"
            at = noon + timedelta(minutes=v)
            ok = [api.send(domain, at=at, visitor=visitor, url=f"https://{domain}/pricing",
                           referrer="https://www.google.com/")]
            if v % 2 == 0:
                ok.append(api.send(domain, at=at + timedelta(seconds=20), visitor=visitor,
                                   url=f"https://{domain}/signup"))
            if v % 3 == 0:
                ok.append(api.send(domain, at=at + timedelta(seconds=40), visitor=visitor,
                                   type="click", click={"url": "https://www.amazon.de/dp/B08N5WRWNW",
                                                        "text": "Buy on Amazon"}))
            if v == 1:
                ok.append(api.send(domain, at=at + timedelta(seconds=50), visitor=visitor,
                                   name="Purchase", props={"plan": "pro"},
                                   revenue={"amount": f"{19 + n}.99", "currency": "EUR"}))
            if n == 6 and v == 0:
                ok.append(api.send(domain, at=at + timedelta(seconds=55), visitor=visitor,
                                   name="Purchase", revenue={"amount": "5", "currency": "USD"}))
            for r in ok:
                assert r.status_code == 202, r.text
    return Seeded(site=site, goals=goals, first_day=first, last_day=last)


@dataclass
class Dashboard:
    api: Api
    url: str
    shop: Seeded
    blog: Seeded


def _run(coro):
    """An async helper from sync code: Playwright's sync API owns this thread's event loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def served_database(backend, tmp_path_factory):
    """A migrated database of this backend for the dashboard's server (made here, not by the
    async fixtures of tests/conftest.py, whose event loop the sync Playwright API would hold)."""
    if backend == "sqlite":
        yield _run(databases.create_sqlite_database(tmp_path_factory.mktemp("dashboard")))
        return
    if not _run(databases.postgres_available()):
        if databases.POSTGRES_REQUIRED:
            pytest.fail(f"PostgreSQL is required but {databases.ADMIN_URL} is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    url = _run(databases.create_postgres_database())
    yield url
    _run(databases.drop_postgres_database(url))


@pytest.fixture(scope="session")
def dashboard(served_database) -> Dashboard:
    server = ServerProcess(served_database).start()
    try:
        api = Api(server.url)
        yield Dashboard(api=api, url=server.url, shop=seed(api, "Shop"), blog=seed(api, "Blog"))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module, closed when pytest leaves the module: Playwright's sync API
    holds this thread's event loop, which the async fixtures of the API tests that pytest runs
    between the two backends' groups of browser tests need."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def console_errors():
    return []


@pytest.fixture
def ui(browser, console_errors):
    """A fresh browser profile; fails the test on an uncaught error or a console error."""
    ctx = browser.new_context(user_agent=CHROME_UA, viewport={"width": 1280, "height": 900})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])

    def watch(page):
        page.on("pageerror", lambda exc: console_errors.append(f"pageerror: {exc}"))
        page.on("console", lambda m: m.type == "error" and console_errors.append(
            f"console: {m.text} at {m.location}"))
        page.on("response", lambda r: r.status >= 500 and console_errors.append(
            f"{r.status} from {r.url}"))

    ctx.on("page", watch)
    try:
        yield ctx
    finally:
        ctx.close()
    assert console_errors == [], console_errors


@pytest.fixture
def page(ui):
    return ui.new_page()


def sign_in(page, dashboard: Dashboard, token: str = ADMIN, path: str = "/",
            remember: bool = False):
    page.goto(dashboard.url + path)
    page.get_by_label("Token").fill(token)
    if remember:
        page.get_by_label("Remember me on this browser").check()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def screenshot(page, name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => !!window.axe"):
        # evaluated, not a <script>: the page's CSP rightly refuses inline and foreign scripts
        page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]

"""Every view of the dashboard at 1280 and 390 px: a screenshot (artifacts/), an axe-core scan
with no serious or critical violation, no horizontal scrolling, no console error; and the
headers that keep it fast and safe. Storage does not change what these check, so one backend."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.dashboard.conftest import Dashboard, axe_violations, screenshot, sign_in

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _no_horizontal_scroll(page):
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5).map((e) => e.outerHTML.slice(0, 120))""")
    assert width[0] <= width[1], f"scrollWidth {width[0]} > viewport {width[1]}: {wide}"


def _check(page, name: str, width: int):
    page.wait_for_load_state("networkidle")
    screenshot(page, f"{name}-{width}")
    assert axe_violations(page) == [], name
    _no_horizontal_scroll(page)


def _views(page, dashboard: Dashboard, width: int):
    shop = dashboard.shop
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(dashboard.url + "/")
    expect(page.get_by_label("Token")).to_be_visible()
    _check(page, "sign-in", width)

    sign_in(page, dashboard, path=f"/site/{shop.site['id']}?{shop.range_query}")
    expect(page.get_by_role("table", name="Goals")).to_be_visible()
    expect(page.get_by_role("list", name="Sessions")).to_be_visible()
    page.get_by_role("list", name="Sessions").locator("> li").first.get_by_role("button").click()
    _check(page, "dashboard", width)

    page.get_by_role("button", name="Settings").click()
    expect(page.get_by_role("menu", name="Settings")).to_be_visible()
    _check(page, "settings-menu", width)
    page.get_by_role("menuitem", name="Goals").click()
    dialog = page.get_by_role("dialog", name="Goals")
    expect(dialog.locator("li.goal-item")).to_have_count(3)
    _check(page, "goals", width)
    dialog.get_by_role("button", name="Add goal").click()
    _check(page, "goal-form", width)
    dialog.get_by_role("button", name="Cancel").click()
    dialog.get_by_role("listitem", name="Purchase").get_by_role("button", name="Test").click()
    dialog.get_by_label("Event name").fill("Purchase")
    dialog.get_by_role("button", name="Run test").click()
    expect(dialog.get_by_role("table", name="Condition results")).to_be_visible()
    _check(page, "goal-test", width)
    dialog.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Settings").click()
    page.get_by_role("menuitem", name="Site settings").click()
    expect(page.get_by_role("dialog", name="Site settings")).to_be_visible()
    _check(page, "site-settings", width)
    page.get_by_role("dialog", name="Site settings").get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Settings").click()
    page.get_by_role("menuitem", name="API keys").click()
    expect(page.get_by_role("dialog", name="API keys")).to_be_visible()
    _check(page, "api-keys", width)
    page.get_by_role("dialog", name="API keys").get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Add site").click()
    _check(page, "add-site", width)
    page.get_by_role("dialog", name="Add site").get_by_role("button", name="Close").click()

    empty = dashboard.api.new_site("Empty")
    page.goto(f"{dashboard.url}/site/{empty['id']}?range=today")
    expect(page.locator(".snippet")).to_be_visible()
    _check(page, "empty-site", width)
    page.get_by_role("button", name="Sign out").click()


def test_every_view_at_1280_px(page, dashboard: Dashboard):
    bearer: list[str] = []  # the token goes to /graphql only
    page.on("request", lambda r: "authorization" in r.headers and bearer.append(r.url))
    _views(page, dashboard, 1280)
    assert bearer and {url.removeprefix(dashboard.url) for url in bearer} == {"/graphql"}


def test_every_view_at_390_px(page, dashboard: Dashboard):
    _views(page, dashboard, 390)


def test_dark_mode(page, dashboard: Dashboard):
    page.emulate_media(color_scheme="dark")
    shop = dashboard.shop
    sign_in(page, dashboard, path=f"/site/{shop.site['id']}?{shop.range_query}")
    expect(page.get_by_role("table", name="Goals")).to_be_visible()
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 20, 24)"
    _check(page, "dashboard-dark", 1280)


def test_headers_csp_and_caching(dashboard: Dashboard):
    with httpx.Client(base_url=dashboard.url) as http:
        for path in ("/", f"/site/{dashboard.shop.site['id']}"):
            page = http.get(path)
            assert page.status_code == 200
            assert page.headers["cache-control"] == "no-cache"
            csp = page.headers["content-security-policy"]
            assert "script-src 'self';" in csp and "unsafe" not in csp
            assert "<script>" not in page.text  # no inline script
            assets = re.findall(r'(?:src|href)="(/app/assets/[^"]+)"', page.text)
        assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
        for asset in assets:
            r = http.get(asset, headers={"accept-encoding": "gzip"})
            assert r.status_code == 200
            assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert http.get("/app/assets/nope.js").status_code == 404


def test_first_render_is_fast(page, dashboard: Dashboard, record_property):
    """Measured, not asserted (speed is judged in bench/): navigation start to the KPI cards
    holding numbers, signed in, recorded as a property of this test."""
    shop = dashboard.shop
    sign_in(page, dashboard, path=f"/site/{shop.site['id']}?{shop.range_query}")
    page.reload()
    page.get_by_role("group", name="Visitors").locator(".value").wait_for()
    # the app's shell is painted at first-contentful-paint; its numbers arrive with the last
    # response of the first round of /graphql requests
    times = page.evaluate("""() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
      data: Math.max(...performance.getEntriesByType('resource')
                     .filter((e) => e.name.endsWith('/graphql')).map((e) => e.responseEnd)),
    })""")
    # the baseline, in the same browser and moment: a plain text page from the same server
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # JSON has no icon
    page.goto(dashboard.url + "/health")
    page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length")
    plain = page.evaluate("() => performance.getEntriesByName('first-contentful-paint')[0].startTime")
    record_property("first_contentful_paint_ms", round(times["fcp"]))
    record_property("numbers_shown_ms", round(times["data"]))
    record_property("plain_page_paint_ms", round(plain))
    print(f"first contentful paint {times['fcp']:.0f} ms, numbers {times['data']:.0f} ms; "
          f"a plain page paints at {plain:.0f} ms (ratio {times['fcp'] / plain:.1f})")

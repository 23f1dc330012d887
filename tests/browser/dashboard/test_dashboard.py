"""The dashboard end to end (contract §7): what it shows is what GraphQL returns, what it
changes is stored on the server. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from playwright.sync_api import expect

from server.schema.errors import unavailable_extensions
from tests.browser.dashboard.conftest import ADMIN, Dashboard, sign_in

KPIS = """query($s: ID!, $r: DateRange!) {
  kpis(siteId: $s, range: $r) { visitors sessions pageviews conversions conversionRate
                                revenue { amount currency } }
  goalStats(siteId: $s, range: $r) { goal { id name } conversions uniqueVisitors
                                     revenue { amount currency } } }"""


def view(dashboard: Dashboard, seeded=None) -> str:
    seeded = seeded or dashboard.shop
    return f"/site/{seeded.site['id']}?{seeded.range_query}"


def open_goals(page):
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("menuitem", name="Goals").click()
    dialog = page.get_by_role("dialog", name="Goals")
    expect(dialog).to_be_visible()
    return dialog


def goal_row(dialog, name: str):
    return dialog.get_by_role("listitem", name=name, exact=True)


def percent(rate: float) -> str:
    return f"{rate:.2f}%" if rate and abs(rate) < 10 else f"{rate:.1f}%"


def test_sign_in_and_sign_out(page, ui, dashboard: Dashboard):
    page.goto(dashboard.url + "/")
    page.get_by_label("Token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That token was not accepted.")

    sign_in(page, dashboard)
    expect(page.get_by_role("combobox", name="Site")).to_be_visible()
    page.reload()  # kept for the tab
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    other_tab = ui.new_page()  # not remembered: another tab signs in afresh
    other_tab.goto(dashboard.url + "/")
    expect(other_tab.get_by_label("Token")).to_be_visible()
    other_tab.close()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Token")).to_be_visible()
    assert page.evaluate("() => [sessionStorage.length, localStorage.length]") == [0, 0]
    page.reload()
    expect(page.get_by_label("Token")).to_be_visible()

    sign_in(page, dashboard, remember=True)
    remembered = ui.new_page()
    remembered.goto(dashboard.url + "/")
    expect(remembered.get_by_role("button", name="Sign out")).to_be_visible()
    remembered.get_by_role("button", name="Sign out").click()
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # this tab's copy
    assert page.evaluate("() => localStorage.length") == 0


def test_a_site_key_sees_only_its_site(page, dashboard: Dashboard):
    blog = dashboard.blog.site
    key = dashboard.api.gql("mutation($s: ID!) { createApiKey(siteId: $s, label: \"ui\") "
                            "{ secret } }", s=blog["id"])["createApiKey"]["secret"]
    sign_in(page, dashboard, token=key)
    picker = page.get_by_role("combobox", name="Site")
    expect(picker.locator("option")).to_have_count(1)
    expect(picker.locator("option")).to_have_text(f"Blog ({blog['domain']})")
    assert f"/site/{blog['id']}" in page.url
    expect(page.get_by_role("button", name="Add site")).to_have_count(0)
    page.get_by_role("button", name="Settings").click()
    expect(page.get_by_role("menuitem")).to_have_text(["Goals", "Site settings"])
    # another site's URL does not show that site
    page.goto(dashboard.url + view(dashboard))
    expect(page.get_by_role("combobox", name="Site")).to_have_value(blog["id"])


def test_kpi_cards_and_goals_panel_show_what_graphql_returns(page, dashboard: Dashboard):
    shop = dashboard.shop
    data = dashboard.api.gql(KPIS, s=shop.site["id"], r=shop.api_range())
    k = data["kpis"]
    assert k["visitors"] > 0 and len(k["revenue"]) == 2  # the seed is what the test reads
    sign_in(page, dashboard, path=view(dashboard))
    card = lambda name: page.get_by_role("group", name=name, exact=True).locator(".value")  # noqa: E731
    for name, key in (("Visitors", "visitors"), ("Sessions", "sessions"),
                      ("Pageviews", "pageviews"), ("Conversions", "conversions")):
        expect(card(name)).to_have_attribute("data-value", str(k[key]))
        expect(card(name)).to_have_text(str(k[key]))
    expect(card("Conversion rate")).to_have_attribute("data-value", re.compile(
        r"^" + re.escape(str(k["conversionRate"]))[:8]))
    expect(card("Conversion rate")).to_have_text(percent(k["conversionRate"]))
    expect(card("Revenue")).to_have_attribute(
        "data-value", "; ".join(f"{m['amount']} {m['currency']}" for m in k["revenue"]))
    expect(card("Revenue")).to_have_text("€160.93 · $5.00")

    table = page.get_by_role("table", name="Goals")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(data["goalStats"]))
    for i, stats in enumerate(data["goalStats"]):  # priority order
        row = rows.nth(i)
        expect(row.locator(".badge")).to_have_text(stats["goal"]["name"])
        expect(row.locator("[data-col=conversions]")).to_have_text(str(stats["conversions"]))
        expect(row.locator("[data-col=visitors]")).to_have_text(str(stats["uniqueVisitors"]))
        expect(row.locator("[data-col=rate]")).to_have_text(
            percent(stats["conversions"] / k["visitors"] * 100))
    expect(rows.nth(0).locator("[data-col=revenue]")).to_have_text("€160.93 · $5.00")


def test_conversion_cards_only_with_a_conversion_goal(page, dashboard: Dashboard):
    api = dashboard.api
    site = api.new_site("Plain")
    api.goal(site["id"], "Docs", "PAGEVIEW", [{"field": "PATH", "operator": "STARTS_WITH",
                                               "value": "/docs"}], countsAsConversion=False)
    sign_in(page, dashboard, path=f"/site/{site['id']}?range=7d")
    expect(page.get_by_role("group", name="Visitors")).to_be_visible()
    expect(page.get_by_role("group", name="Revenue")).to_be_visible()
    expect(page.get_by_role("group", name="Conversions")).to_have_count(0)
    expect(page.get_by_role("group", name="Conversion rate")).to_have_count(0)
    # an empty site is told what to do next: the snippet
    expect(page.locator(".snippet")).to_contain_text(f'data-site="{site["domain"]}"')


def test_create_edit_delete_a_goal_in_the_dialog(page, dashboard: Dashboard):
    api = dashboard.api
    site = api.new_site()
    api.goal(site["id"], "Existing", "PAGEVIEW", [{"field": "PATH", "operator": "EQUALS", "value": "/x"}])
    sign_in(page, dashboard, path=f"/site/{site['id']}?range=7d")
    dialog = open_goals(page)

    dialog.get_by_role("button", name="Add goal").click()
    dialog.get_by_label("Name").fill("Newsletter")
    dialog.get_by_label("Type").select_option(label="Custom event")
    dialog.get_by_label("Field").select_option(label="Event name")
    dialog.get_by_label("Operator").select_option(label="is empty")
    expect(dialog.get_by_label("Value")).to_have_count(0)  # no value for is empty
    dialog.get_by_label("Operator").select_option(label="equals")
    dialog.get_by_label("Value").fill("Newsletter")
    dialog.get_by_role("button", name="Add condition").click()
    dialog.get_by_label("Field").nth(1).select_option(label="Property key")
    dialog.get_by_label("Operator").nth(1).select_option(label="is not empty")
    dialog.get_by_label("Any condition (ANY)").check()
    dialog.get_by_label("Counts as conversion").uncheck()
    dialog.get_by_role("button", name="Create goal").click()
    expect(goal_row(dialog, "Newsletter")).to_be_visible()
    goal = next(g for g in api.goals(site["id"]) if g["name"] == "Newsletter")
    assert goal["type"] == "CUSTOM_EVENT" and goal["priority"] == 2
    assert goal["countsAsConversion"] is False
    assert goal["conditions"] == [
        {"field": "EVENT_NAME", "operator": "EQUALS", "value": "Newsletter"},
        {"field": "PROPERTY_KEY", "operator": "IS_NOT_EMPTY", "value": None}]

    # the server's errors appear at their field
    goal_row(dialog, "Newsletter").get_by_role("button", name="Edit").click()
    dialog.get_by_label("Name").fill("Existing")
    dialog.get_by_role("button", name="Save goal").click()
    expect(dialog.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator("#goal-name-error")).to_contain_text("already")
    dialog.get_by_label("Name").fill("Newsletter signup")
    dialog.get_by_label("Value").first.fill("")
    dialog.get_by_role("button", name="Save goal").click()
    expect(dialog.get_by_label("Value").first).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator("#goal-conditions-0-value-error")).to_contain_text("non-empty value")
    dialog.get_by_label("Value").first.fill("Subscribed")
    dialog.get_by_role("button", name="Save goal").click()
    expect(goal_row(dialog, "Newsletter signup")).to_be_visible()
    goal = next(g for g in api.goals(site["id"]) if g["id"] == goal["id"])
    assert goal["name"] == "Newsletter signup"
    assert goal["conditions"][0] == {"field": "EVENT_NAME", "operator": "EQUALS", "value": "Subscribed"}

    row = goal_row(dialog, "Newsletter signup")
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Cancel").click()
    assert len(api.goals(site["id"])) == 2
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(goal_row(dialog, "Newsletter signup")).to_have_count(0)
    assert [g["name"] for g in api.goals(site["id"])] == ["Existing"]


def _names(api, site_id):
    return [g["name"] for g in api.goals(site_id)]


def _three_goals_open(page, dashboard: Dashboard):
    """A new site with goals Alpha, Beta, Gamma (in that priority), its goals dialog open."""
    api = dashboard.api
    site = api.new_site()
    for name in ("Alpha", "Beta", "Gamma"):
        api.goal(site["id"], name, "CUSTOM_EVENT",
                 [{"field": "EVENT_NAME", "operator": "EQUALS", "value": name}])
    sign_in(page, dashboard, path=f"/site/{site['id']}?range=7d")
    return api, site, open_goals(page)


def test_drag_and_keyboard_reorder_save_priorities(page, dashboard: Dashboard):
    api, site, dialog = _three_goals_open(page, dashboard)

    # buttons, by keyboard
    goal_row(dialog, "Alpha").get_by_role("button", name="Move down").focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("listitem").first).to_have_accessible_name("Beta")
    page.wait_for_function("() => document.activeElement?.textContent?.startsWith('Move')")
    page.keyboard.press("Enter")  # focus stayed on Alpha's "Move down"
    expect(dialog.get_by_role("listitem").last).to_have_accessible_name("Alpha")
    _wait_order(api, site["id"], ["Beta", "Gamma", "Alpha"])
    goal_row(dialog, "Gamma").get_by_role("button", name="Move up").click()
    _wait_order(api, site["id"], ["Gamma", "Beta", "Alpha"])

    # the drag handle, by keyboard (dnd-kit: Space picks up, arrows move, Space drops)
    live = page.locator("[id^=DndLiveRegion]")  # dnd-kit's announcements, one move at a time
    goal_row(dialog, "Alpha").get_by_role("button", name="Drag Alpha").focus()
    page.keyboard.press("Space")
    expect(live).to_contain_text("position 3 of 3")
    # dnd-kit measures where the rows are in the frames after the pick-up; an arrow pressed
    # before that finds no row to move to (a CI flake)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.keyboard.press("ArrowUp")
    expect(live).to_have_text("Alpha is at position 2 of 3.")
    page.keyboard.press("ArrowUp")
    expect(live).to_have_text("Alpha is at position 1 of 3.")
    page.keyboard.press("Space")
    _wait_order(api, site["id"], ["Alpha", "Gamma", "Beta"])

    # the drag handle, by mouse
    handle = goal_row(dialog, "Beta").get_by_role("button", name="Drag Beta").bounding_box()
    target = goal_row(dialog, "Alpha").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + 5, target["y"] + 10, steps=12)
    page.mouse.move(handle["x"] + 5, target["y"] + 4, steps=4)
    page.mouse.up()
    _wait_order(api, site["id"], ["Beta", "Alpha", "Gamma"])
    assert [g["priority"] for g in api.goals(site["id"])] == [1, 2, 3]
    expect(dialog.locator("li.goal-item .badge")).to_have_text(["Beta", "Alpha", "Gamma"])


def test_moves_made_while_a_save_is_under_way_are_saved_after_it(page, dashboard: Dashboard):
    """Two moves in quick succession: the second is saved after the first, whatever order the
    network would have taken them in, and the list shows the order the server kept. (Without
    this, the first move's late answer put the list back as it was before the second move, and
    a move made on that list undid it: the CI failure of the test above.)"""
    held, finished = [], []

    def hold_the_first_reorder(route):
        if "reorderGoals" in (route.request.post_data or "") and not held:
            held.append(route)  # answered below, once the second move has been made
        else:
            route.continue_()

    page.on("requestfinished", lambda request: finished.append(request)
            if "reorderGoals" in (request.post_data or "") else None)
    api, site, dialog = _three_goals_open(page, dashboard)
    page.route("**/graphql", hold_the_first_reorder)
    goal_row(dialog, "Alpha").get_by_role("button", name="Move down").focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("listitem").nth(1)).to_have_accessible_name("Alpha")
    page.wait_for_function("() => document.activeElement?.textContent?.startsWith('Move')")
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("listitem").last).to_have_accessible_name("Alpha")
    page.wait_for_timeout(300)  # time for a second save to go out, were it not held back
    assert len(held) == 1
    held[0].continue_()
    for _ in range(100):
        if len(finished) >= 2:
            break
        page.wait_for_timeout(50)
    assert len(finished) == 2
    _wait_order(api, site["id"], ["Beta", "Gamma", "Alpha"])
    expect(dialog.locator("li.goal-item .badge")).to_have_text(["Beta", "Gamma", "Alpha"])
    page.wait_for_timeout(300)  # nothing arrives later to change them
    assert _names(api, site["id"]) == ["Beta", "Gamma", "Alpha"]
    expect(dialog.locator("li.goal-item .badge")).to_have_text(["Beta", "Gamma", "Alpha"])


def test_a_move_the_server_refuses_shows_why_and_the_order_it_kept(page, dashboard: Dashboard):
    api, site, dialog = _three_goals_open(page, dashboard)
    # answered as the server answers when its database is away (server/schema/errors.py); the
    # move never reaches it
    refusal = {"data": None, "errors": [{"message": "the database is unavailable, retry later",
                                         "extensions": unavailable_extensions()}]}
    page.route("**/graphql", lambda route: route.fulfill(json=refusal)
               if "reorderGoals" in (route.request.post_data or "") else route.continue_())
    goal_row(dialog, "Alpha").get_by_role("button", name="Move down").click()
    expect(dialog.get_by_role("alert")).to_have_text("the database is unavailable, retry later")
    expect(dialog.locator("li.goal-item .badge")).to_have_text(["Alpha", "Beta", "Gamma"])
    assert _names(api, site["id"]) == ["Alpha", "Beta", "Gamma"]


def _wait_order(api, site_id, names, tries=50):
    import time
    for _ in range(tries):
        if _names(api, site_id) == names:
            return
        time.sleep(0.1)
    assert _names(api, site_id) == names


def test_test_pane_shows_each_conditions_result(page, dashboard: Dashboard):
    api = dashboard.api
    site = api.new_site()
    api.goal(site["id"], "Echo", "CLICK", [
        {"field": "DOMAIN", "operator": "EQUALS", "value": "amazon.de"},
        {"field": "ASIN", "operator": "EQUALS", "value": "B08N5WRWNW"}])
    sign_in(page, dashboard, path=f"/site/{site['id']}?range=7d")
    dialog = open_goals(page)
    goal_row(dialog, "Echo").get_by_role("button", name="Test").click()
    dialog.get_by_label("Link URL").fill("https://www.amazon.de/dp/B000000000")
    dialog.get_by_role("button", name="Run test").click()
    results = dialog.get_by_role("table", name="Condition results").locator("tbody tr")
    expect(results).to_have_count(2)
    expect(results.nth(0)).to_contain_text("Link domain equals “amazon.de”")
    expect(results.nth(0).locator("td").nth(1)).to_have_text("amazon.de")
    expect(results.nth(0).locator("td").nth(2)).to_have_text("Matched")
    expect(results.nth(1).locator("td").nth(1)).to_have_text("B000000000")
    expect(results.nth(1).locator("td").nth(2)).to_have_text("Not matched")
    expect(dialog).to_contain_text("Echo does not match this event.")
    dialog.get_by_label("Link URL").fill("https://amazon.de/dp/B08N5WRWNW")
    dialog.get_by_role("button", name="Run test").click()
    expect(results.nth(1).locator("td").nth(2)).to_have_text("Matched")
    expect(dialog).to_contain_text("The event would record Echo.")


def test_expanding_a_session_shows_the_goal_badge(page, dashboard: Dashboard):
    shop = dashboard.shop
    sign_in(page, dashboard, path=view(dashboard))
    sessions = page.get_by_role("list", name="Sessions")
    expect(sessions.get_by_text("Converted").first).to_be_visible()
    # choosing a goal in the goals panel filters the sessions to it
    page.get_by_role("table", name="Goals").get_by_role("button", name="Purchase").click()
    expect(page.get_by_role("combobox", name="Goal filter")).to_have_value(shop.goals["Purchase"]["id"])
    expect(page.locator("#sessions-title")).to_contain_text("(8)")
    first = sessions.locator("> li").first
    first.get_by_role("button").click()
    events = first.get_by_role("list", name="Events").locator("li")
    purchase = events.filter(has_text="Purchase")
    expect(purchase.locator(".badge")).to_have_text("Purchase")
    expect(events.filter(has_text="pageview").first.locator(".badge")).to_have_count(0)
    # by conversion: not converted sessions carry no marker
    page.get_by_role("combobox", name="Goal filter").select_option(label="Any goal")
    page.get_by_role("combobox", name="Conversion filter").select_option(label="Not converted")
    expect(sessions.locator("> li").first).to_be_visible()
    expect(sessions.get_by_text("Converted")).to_have_count(0)
    page.get_by_role("combobox", name="Conversion filter").select_option(label="All sessions")
    expect(sessions.locator("> li")).to_have_count(20)
    page.get_by_role("button", name="Load more").click()
    expect(sessions.locator("> li")).to_have_count(35)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)


def test_a_new_key_is_shown_once_and_revoking_it_stops_ingestion(page, dashboard: Dashboard):
    api = dashboard.api
    site = api.new_site()
    sign_in(page, dashboard, path=f"/site/{site['id']}?range=7d")
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("menuitem", name="API keys").click()
    dialog = page.get_by_role("dialog", name="API keys")
    dialog.get_by_label("Label").fill("backend")
    dialog.get_by_role("button", name="Create key").click()
    secret = dialog.get_by_label("New key").input_value()
    assert secret
    dialog.get_by_role("button", name="Copy key").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    assert api.send(site["domain"], at=now, visitor="k", token=secret).status_code == 202

    dialog.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("menuitem", name="API keys").click()
    dialog = page.get_by_role("dialog", name="API keys")
    row = dialog.get_by_role("table", name="API keys").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("backend")
    assert secret not in page.content()  # shown once
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("Revoked")
    assert api.send(site["domain"], at=now, visitor="k", token=secret).status_code == 401


def test_the_url_reopens_the_same_site_and_range_and_back_works(page, dashboard: Dashboard):
    shop, blog = dashboard.shop.site, dashboard.blog.site
    sign_in(page, dashboard, path=view(dashboard), remember=True)
    site_picker = page.get_by_role("combobox", name="Site")
    ranges = page.get_by_role("combobox", name="Date range")
    expect(site_picker).to_have_value(shop["id"])
    expect(ranges).to_have_value("custom")
    expect(page.get_by_label("From")).to_have_value(str(dashboard.shop.first_day))

    site_picker.select_option(blog["id"])
    ranges.select_option(label="Last 7 days")
    expect(page).to_have_url(re.compile(rf"/site/{blog['id']}\?range=7d$"))
    link = page.url
    fresh = page.context.new_page()  # the link, in another tab
    fresh.goto(link)
    expect(fresh.get_by_role("combobox", name="Site")).to_have_value(blog["id"])
    expect(fresh.get_by_role("combobox", name="Date range")).to_have_value("7d")
    fresh.close()

    page.go_back()
    expect(ranges).to_have_value("custom")
    expect(site_picker).to_have_value(blog["id"])
    page.go_back()
    expect(site_picker).to_have_value(shop["id"])
    assert urlparse(page.url).path == f"/site/{shop['id']}"
    expect(page.get_by_role("group", name="Visitors").locator(".value")).to_have_attribute(
        "data-value", str(dashboard.api.gql(KPIS, s=shop["id"], r=dashboard.shop.api_range())
                          ["kpis"]["visitors"]))


def test_site_settings_and_add_site(page, dashboard: Dashboard):
    api = dashboard.api
    site = api.new_site("Before")
    sign_in(page, dashboard, path=f"/site/{site['id']}?range=7d")
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("menuitem", name="Site settings").click()
    dialog = page.get_by_role("dialog", name="Site settings")
    dialog.get_by_label("Name").fill("After")
    dialog.get_by_label("Time zone").select_option("America/New_York")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    saved = api.gql("query($s: ID!) { site(id: $s) { name timezone } }", s=site["id"])["site"]
    assert saved == {"name": "After", "timezone": "America/New_York"}
    expect(dialog.locator(".snippet")).to_contain_text(f'data-site="{site["domain"]}"')
    expect(dialog.get_by_role("link", name="Download the WordPress plugin")).to_have_attribute(
        "href", "/wordpress/goalpost.zip")
    dialog.get_by_role("button", name="Copy snippet").click()
    assert f'data-site="{site["domain"]}"' in page.evaluate("() => navigator.clipboard.readText()")
    dialog.get_by_role("button", name="Close").click()
    expect(page.get_by_role("combobox", name="Site").locator("option:checked")).to_have_text(
        f"After ({site['domain']})")

    page.get_by_role("button", name="Add site").click()
    add = page.get_by_role("dialog", name="Add site")
    add.get_by_label("Domain").fill("not a domain")
    add.get_by_role("button", name="Add site").click()
    expect(add.get_by_label("Domain")).to_have_attribute("aria-invalid", "true")
    domain = f"new-{site['domain']}"
    add.get_by_label("Domain").fill(f"https://{domain}/")
    add.get_by_role("button", name="Add site").click()
    expect(page.get_by_role("combobox", name="Site").locator("option:checked")).to_have_text(domain)
    assert domain in [s["domain"] for s in api.gql("{ sites { domain } }")["sites"]]


def test_ranges_are_days_of_the_sites_time_zone(page, dashboard: Dashboard):
    """What each choice of "Date range" asks the server for: whole days of the site's time zone
    (Europe/Berlin here), the ranges that include today ending now."""
    import json
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    def dashboard_query(request) -> bool:
        return (request.url.endswith("/graphql") and request.method == "POST"
                and json.loads(request.post_data or "{}").get("query", "").lstrip().startswith("query Dashboard("))

    sign_in(page, dashboard, path=view(dashboard))
    tz = ZoneInfo(dashboard.shop.site["timezone"])
    today = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)

    def midnight(days_ago: int) -> datetime:
        day = (today - timedelta(days=days_ago)).date()
        return datetime(day.year, day.month, day.day, tzinfo=tz)

    def at(iso: str) -> datetime:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))

    first_of_month = today.replace(day=1)
    last_month = (first_of_month - timedelta(days=1)).replace(day=1)
    expected = {
        "Today": (today, None), "Yesterday": (midnight(1), today),
        "Last 7 days": (midnight(6), None), "Last 30 days": (midnight(29), None),
        "This month": (first_of_month, None), "Last month": (last_month, first_of_month),
    }
    def asking_from(start: datetime):
        # the query of this range: a live refresh of the range before may be in flight too
        return lambda request: dashboard_query(request) and at(
            json.loads(request.post_data)["variables"]["range"]["from"]) == start

    for label, (start, end) in expected.items():
        # times out (fails) when no query asks for the range from `start`
        with page.expect_request(asking_from(start), timeout=15_000) as sent:
            page.get_by_role("combobox", name="Date range").select_option(label=label)
        variables = json.loads(sent.value.post_data)["variables"]
        if end is not None:
            assert at(variables["range"]["to"]) == end, label
        else:  # ends now
            assert abs((at(variables["range"]["to"]) - datetime.now(tz)).total_seconds()) < 120
        length = at(variables["range"]["to"]) - at(variables["range"]["from"])
        assert at(variables["previous"]["to"]) == at(variables["range"]["from"])
        assert at(variables["range"]["from"]) - at(variables["previous"]["from"]) == length
        assert variables["interval"] == ("HOUR" if length <= timedelta(days=2) else "DAY")


def test_new_events_appear_without_a_reload(page, dashboard: Dashboard):
    from datetime import datetime, timezone

    api = dashboard.api
    site = api.new_site("Live")
    subscribed = []
    page.on("websocket", lambda ws: ws.on(
        "framesent", lambda frame: subscribed.append(1) if '"subscribe"' in str(frame) else None))
    sign_in(page, dashboard, path=f"/site/{site['id']}?range=today")
    visitors = page.get_by_role("group", name="Visitors").locator(".value")
    expect(visitors).to_have_text("0")
    # at once, maybe before the subscription has started: the view re-reads when its socket is up
    assert api.send(site["domain"], at=datetime.now(timezone.utc), visitor="live-1").status_code == 202
    expect(visitors).to_have_text("1", timeout=20_000)
    expect(page.get_by_role("list", name="Sessions").locator("> li")).to_have_count(1)
    # once subscribed, the next event arrives through §8's subscription (the safety poll is 60 s)
    page.wait_for_function("() => true")  # lets Playwright deliver pending frame events
    assert subscribed, "the dashboard did not subscribe to Subscription.events"
    assert api.send(site["domain"], at=datetime.now(timezone.utc), visitor="live-2").status_code == 202
    expect(visitors).to_have_text("2", timeout=20_000)
    expect(page.get_by_role("list", name="Sessions").locator("> li")).to_have_count(2)


def test_sources_panel_follows_the_servers_schema(page, dashboard: Dashboard):
    """§8's breakdown by source: shown with the server's rows when the schema has
    Query.breakdown, absent (not faked) when it does not."""
    api = dashboard.api
    fields = api.gql('{ __type(name: "Query") { fields { name } } }')["__type"]["fields"]
    sign_in(page, dashboard, path=view(dashboard))
    expect(page.get_by_role("table", name="Goals")).to_be_visible()
    sources = page.get_by_role("region", name="Sources")
    if "breakdown" not in {f["name"] for f in fields}:
        expect(sources).to_have_count(0)
        return
    shop = dashboard.shop
    rows = api.gql("query($s: ID!, $r: DateRange) { breakdown(siteId: $s, by: SOURCE, range: $r, "
                   "first: 10) { value visitors conversions } }",
                   s=shop.site["id"], r=shop.api_range())["breakdown"]
    table = sources.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(len(rows))
    for i, row in enumerate(rows):
        cells = table.locator("tbody tr").nth(i).locator("td")
        expect(cells.nth(0)).to_have_text(row["value"] or "(none)")
        expect(cells.nth(1)).to_have_text(str(row["visitors"]))
        expect(cells.nth(2)).to_have_text(str(row["conversions"]))

"""The plugin's admin side on a real WordPress: the settings page (and who may change it), the
tracker tag, the constants, the dashboard widget, the WP-CLI command's methods and uninstall."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from server.goals import service as goals
from tests.conftest import BROWSER_UA
from tests.support.wordpress import tracker_tags
from tests.wordpress.helpers import wait_for_events

# the first test also installs WordPress and starts MariaDB, PHP and Goalpost
pytestmark = pytest.mark.timeout(600)

SETTINGS = "/wp-admin/options-general.php?page=goalpost"


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def _settings_form(client: httpx.Client, **changes) -> dict:
    """What the settings form posts, with changes."""
    html = client.get(SETTINGS).text
    return {"option_page": "goalpost", "action": "update",
            "_wpnonce": _hidden(html, "_wpnonce"), "_wp_http_referer": SETTINGS,
            **{f"goalpost_settings[{k}]": v for k, v in changes.items()}}


def _saved_url(wp) -> str:
    return wp.json("get_option('goalpost_settings')['url']")


async def test_settings_save_with_nonce_and_capability_and_never_print_the_key(wp_site):
    wp = wp_site.wp
    admin = wp.admin()
    page = admin.get(SETTINGS).text
    assert wp_site.key not in page
    assert "••••••••" + wp_site.key[-4:] in page  # its last four characters, to recognise it
    form = _settings_form(admin, url="https://stats.example.net/", site=wp_site.site.domain,
                          api_key="", ip_header="http_cf_connecting_ip", track_admins="1")
    answer = admin.post("/wp-admin/options.php", data=form)
    assert answer.status_code == 302
    saved = wp.json("get_option('goalpost_settings')")
    assert saved == {"url": "https://stats.example.net", "site": wp_site.site.domain,
                     "api_key": wp_site.key,  # an empty key field keeps the key
                     "track_admins": True, "ip_header": "HTTP_CF_CONNECTING_IP"}
    assert wp_site.key not in admin.get(SETTINGS).text


async def test_settings_refuse_a_change_without_nonce(db, wp_site):
    wp = wp_site.wp
    admin = wp.admin()
    form = _settings_form(admin, url="https://evil.example")
    del form["_wpnonce"]
    refused = admin.post("/wp-admin/options.php", data=form)
    assert refused.status_code == 403
    assert _saved_url(wp) == wp_site.server.url
    test = admin.post("/wp-admin/admin-post.php", data={"action": "goalpost_test_event"})
    assert test.status_code == 403
    assert await wait_for_events(db, wp_site.site.id, lambda es: True, "nothing") == []


async def test_settings_refuse_a_change_without_capability(db, wp_site):
    """A subscriber holding valid nonces of both actions is still refused."""
    wp = wp_site.wp
    subscriber = wp.subscriber()
    options_nonce = subscriber.get("/?gp_test_nonce=goalpost-options").text
    test_nonce = subscriber.get("/?gp_test_nonce=goalpost_test_event").text
    assert re.fullmatch(r"[0-9a-f]{10}", options_nonce), options_nonce
    refused = subscriber.post("/wp-admin/options.php", data={
        "option_page": "goalpost", "action": "update", "_wpnonce": options_nonce,
        "goalpost_settings[url]": "https://evil.example"})
    assert refused.status_code == 403
    assert _saved_url(wp) == wp_site.server.url
    test = subscriber.post("/wp-admin/admin-post.php", data={
        "action": "goalpost_test_event", "_wpnonce": test_nonce})
    assert test.status_code == 403
    assert subscriber.get(SETTINGS).status_code == 403
    assert await wait_for_events(db, wp_site.site.id, lambda es: True, "nothing") == []


async def test_send_test_event_shows_the_servers_answer(db, wp_site):
    admin = wp_site.wp.admin()
    nonce = _hidden(admin.get(SETTINGS).text, "_wpnonce")  # the first form is the settings'
    html = admin.get(SETTINGS).text
    test_nonce = re.search(r'name="action" value="goalpost_test_event">'
                           r'<input type="hidden" id="_wpnonce" name="_wpnonce" value="([^"]+)"',
                           html).group(1)
    assert test_nonce != nonce
    sent = admin.post("/wp-admin/admin-post.php", data={"action": "goalpost_test_event",
                                                         "_wpnonce": test_nonce})
    assert sent.status_code == 302
    page = admin.get(SETTINGS).text
    assert "goalpost-test-result" in page and "202 — Accepted." in page
    events = await wait_for_events(db, wp_site.site.id, bool, "the test event")
    assert [(e["type"], e["name"]) for e in events] == [("custom", "Goalpost test event")]


def _front_page(client: httpx.Client) -> str:
    return client.get("/gp-plain/", headers={"user-agent": BROWSER_UA}).text


async def test_the_tracker_tag_on_the_front_end_and_not_for_administrators(wp_site):
    wp = wp_site.wp
    expected = (f'<script defer src="{wp_site.server.url}/js/goalpost.js" '
                f'data-site="{wp_site.site.domain}" data-forms="html"')
    visitor = _front_page(wp.client())
    tags = tracker_tags(visitor)
    assert len(tags) == 1 and tags[0].startswith(expected)
    assert "plugins/goalpost" not in visitor  # nothing else of the plugin on the front end
    assert len(tracker_tags(_front_page(wp.subscriber()))) == 1
    assert tracker_tags(_front_page(wp.admin())) == []
    wp.php("$o = get_option('goalpost_settings'); $o['track_admins'] = true;"
           "update_option('goalpost_settings', $o);")
    assert len(tracker_tags(_front_page(wp.admin()))) == 1


async def test_wp_config_constants_override_the_options_and_alone_are_enough(db, wp_site):
    wp = wp_site.wp
    wp.php("delete_option('goalpost_settings');")
    constants = {"GOALPOST_URL": wp_site.server.url, "GOALPOST_SITE": wp_site.site.domain,
                 "GOALPOST_API_KEY": wp_site.key, "GOALPOST_TRACK_ADMINS": False,
                 "GOALPOST_IP_HEADER": "HTTP_X_REAL_IP"}
    answer = wp.json("(new Goalpost\\Command(new Goalpost\\Delivery()))->send_test_event()",
                     defines=constants)
    assert answer["code"] == 202, answer
    assert len(await wait_for_events(db, wp_site.site.id, bool, "the test event")) == 1
    # options that say otherwise lose to the constants
    wp.php("update_option('goalpost_settings', array('url' => 'https://other.example', "
           "'site' => 'other.example', 'api_key' => 'other', 'ip_header' => 'REMOTE_ADDR'));")
    lines = wp.json("(new Goalpost\\Command(new Goalpost\\Delivery()))->status_lines()",
                    defines=constants)
    assert f"url: {wp_site.server.url}" in lines and f"site: {wp_site.site.domain}" in lines
    assert "ip header: HTTP_X_REAL_IP" in lines
    assert not any(wp_site.key in line for line in lines)  # masked in `wp goalpost status`


async def test_the_dashboard_widget_shows_todays_numbers(db, wp_site, client):
    site = wp_site.site
    await goals.create_goal(db, site_id=site.id, name="Purchase", type="CUSTOM_EVENT",
                            conditions=[("EVENT_NAME", "EQUALS", "Purchase")])
    auth = {"authorization": f"Bearer {wp_site.key}"}
    for body in ({"type": "pageview", "url": f"https://{site.domain}/"},
                 {"name": "Purchase", "revenue": {"amount": "29.99", "currency": "EUR"}}):
        answer = await client.post("/api/event", headers=auth, json={
            "site": site.domain, "ip": "198.51.100.4", "user_agent": BROWSER_UA, **body})
        assert answer.status_code == 202
    html = await asyncio.to_thread(lambda: wp_site.wp.admin().get("/wp-admin/index.php").text)
    widget = html[html.index('class="goalpost-widget"'):]
    row = lambda name: re.search(rf'goalpost-{name}"><th scope="row">[^<]*</th><td>([^<]*)<',
                                 widget).group(1)
    assert (row("visitors"), row("conversions"), row("conversion-rate"), row("revenue")) == (
        "1", "1", "100.0 %", "29.99 EUR")
    assert f'href="{wp_site.server.url}/"' in widget
    # another visitor arrives: the widget keeps its cached numbers for a few minutes
    answer = await client.post("/api/event", headers=auth, json={
        "site": site.domain, "ip": "198.51.100.5", "user_agent": BROWSER_UA,
        "url": f"https://{site.domain}/"})
    assert answer.status_code == 202
    html = await asyncio.to_thread(lambda: wp_site.wp.admin().get("/wp-admin/index.php").text)
    widget = html[html.index('class="goalpost-widget"'):]
    assert row("visitors") == "1"
    assert 0 < wp_site.wp.json("get_option('_transient_timeout_goalpost_widget_stats') - time()"
                               ) <= 300


async def test_uninstall_leaves_no_option_and_no_cron_event(wp_site):
    wp = wp_site.wp
    wp.php("update_option('goalpost_queue', array(array('event' => array('event_id' => 'x'), "
           "'attempts' => 1, 'next_attempt' => time() + 60)));"
           "update_option('goalpost_status', array('dropped' => 3));"
           "set_transient('goalpost_widget_stats', array(1), 60);"
           "set_transient('goalpost_test_result_1', array(1), 60);"
           "wp_schedule_single_event(time() + 60, 'goalpost_retry');")
    left = wp.json("""(function () {
        global $wpdb;
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        deactivate_plugins('goalpost/goalpost.php');
        uninstall_plugin('goalpost/goalpost.php');
        $names = $wpdb->get_col("SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '%goalpost%'");
        $cron = wp_next_scheduled('goalpost_retry');
        activate_plugin('goalpost/goalpost.php');
        return array('options' => $names, 'cron' => $cron);
    })()""")
    assert left == {"options": [], "cron": False}

"""Form submissions on a real WordPress become Goalpost `form` events from the server: once each,
in the visitor's browser session, never for spam, and never lost when Goalpost is down.

The form plugins are stand-ins (tests/fixtures/wordpress/plugins/) that fire the real plugins'
success actions with the argument shapes recorded in tests/fixtures/wordpress/hooks.md."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.conftest import BROWSER_UA
from tests.support.server_process import free_port
from tests.wordpress.helpers import of_type, stored_event_keys, wait_for_events

# the first test also installs WordPress and starts MariaDB, PHP and Goalpost
pytestmark = pytest.mark.timeout(600)

TYPED = "Ada Lovelace typed this"


async def _submit_in_browser(page, wp, slug: str, fill, submit: str, answered: str):
    await page.goto(f"{wp.url}/{slug}/")
    for selector, value in fill:
        await page.fill(selector, value)
    await page.click(submit)
    await page.wait_for_selector(answered)


async def _assert_one_form_event_in_the_pageview_session(db, site, plugin, form_id, title,
                                                         slug):
    events = await wait_for_events(
        db, site.id, lambda es: of_type(es, "form") and of_type(es, "pageview"),
        "the pageview and the form event")
    forms = of_type(events, "form")
    assert len(forms) == 1, [(f["form_plugin"], f["form_id"], f["form_name"], f["event_id"], f["url"]) for f in forms]
    form = forms[0]
    assert (form["form_plugin"], form["form_id"], form["form_name"]) == (plugin, form_id, title)
    assert form["form_page_url"] == f"/{slug}/"
    pageviews = [e for e in of_type(events, "pageview") if e["url"].endswith(f"/{slug}/")]
    assert pageviews, "the tracker's pageview of the form's page"
    assert form["session_id"] == pageviews[0]["session_id"]
    assert form["visitor_id"] == pageviews[0]["visitor_id"]
    assert TYPED not in json.dumps([str(v) for v in form.values()])
    return events


@pytest.mark.parametrize("slug, fill, submit, answered, plugin, form_id, title", [
    ("gp-cf7", [("input[name=your-name]", TYPED)], "input.wpcf7-submit",
     "text=Thank you for your message", "cf7", "5", "GP Contact"),
    ("gp-wpforms", [("input[name='wpforms[fields][0]']", TYPED)], "button.wpforms-submit",
     "#wpforms-7[data-answered]", "wpforms", "7", "GP Newsletter"),
    ("gp-gravity", [("#input_1_1", TYPED)], "#gform_submit_button_1",
     "#gform_confirmation_wrapper_1", "gravity", "1", "GP Quote Request"),
], ids=["cf7", "wpforms", "gravity"])
async def test_a_submission_is_stored_once_in_the_visitors_session(
        db, wp_site, page, slug, fill, submit, answered, plugin, form_id, title):
    await _submit_in_browser(page, wp_site.wp, slug, fill, submit, answered)
    await _assert_one_form_event_in_the_pageview_session(db, wp_site.site, plugin, form_id,
                                                         title, slug)
    # the server's event was sent during the form's request: nothing more arrives later
    assert wp_site.wp.queue() == []
    assert wp_site.wp.status()["last"]["code"] == 202


async def test_a_gravity_spam_entry_is_not_stored(db, wp_site, page):
    await _submit_in_browser(page, wp_site.wp, "gp-gravity", [("#input_1_1", "CHEAP PILLS")],
                             "#gform_submit_button_1", "#gform_confirmation_wrapper_1")
    # the confirmation page's own pageview arrives after the submission was handled
    events = await wait_for_events(db, wp_site.site.id,
                                   lambda es: len(of_type(es, "pageview")) >= 2, "two pageviews")
    assert [(f["form_plugin"], f["form_id"], f["form_name"], f["url"]) for f in of_type(events, "form")] == []
    assert wp_site.wp.queue() == [] and wp_site.wp.status() == []


def _post_cf7(wp) -> httpx.Response:
    """The CF7 stand-in's form posted without JavaScript, as a browser would."""
    return httpx.post(f"{wp.url}/gp-cf7/", headers={"user-agent": BROWSER_UA}, timeout=30,
                      data={"_wpcf7": "5", "_wpcf7_unit_tag": "wpcf7-f5-p4-o1",
                            "_wpcf7_container_post": "4", "your-name": TYPED})


def _point_at(wp, url: str) -> None:
    wp.php(f"$o = get_option('goalpost_settings'); $o['url'] = '{url}';"
           "update_option('goalpost_settings', $o);")


async def test_goalpost_down_the_form_answers_and_flush_stores_the_event_once(db, wp_site):
    wp = wp_site.wp
    await asyncio.to_thread(_point_at, wp, f"http://127.0.0.1:{free_port()}")  # nobody listens
    answer = await asyncio.to_thread(_post_cf7, wp)
    assert answer.status_code == 200 and "Thank you for your message" in answer.text
    queue = wp.queue()
    assert len(queue) == 1 and queue[0]["attempts"] == 1
    queued = queue[0]["event"]
    assert queued["form"] == {"plugin": "cf7", "id": "5", "title": "GP Contact"}
    assert wp.next_retry(), "a goalpost_retry cron event is scheduled"

    await asyncio.to_thread(_point_at, wp, wp_site.server.url)  # Goalpost is back
    code, message = wp.json("(new Goalpost\\Command(new Goalpost\\Delivery()))->flush_queue()")
    assert code == 0, message
    assert wp.queue() == [] and wp.next_retry() is False
    events = await wait_for_events(db, wp_site.site.id, lambda es: of_type(es, "form"), "form")
    assert [e["id"] for e in of_type(events, "form")] == [
        (await stored_event_keys(db, wp_site.site.id))[queued["event_id"]]]

    # a retry whose answer was lost reaches the server again: still stored once
    wp.php("update_option('goalpost_queue', json_decode("
           f"'{json.dumps([{**queue[0], 'next_attempt': 0}])}', true));")
    code, _ = wp.json("(new Goalpost\\Command(new Goalpost\\Delivery()))->flush_queue()")
    assert code == 0
    assert len(of_type(await wait_for_events(db, wp_site.site.id, bool, "events"), "form")) == 1


async def test_flush_exits_non_zero_while_goalpost_is_still_down(wp_site):
    wp = wp_site.wp
    await asyncio.to_thread(_point_at, wp, f"http://127.0.0.1:{free_port()}")
    await asyncio.to_thread(_post_cf7, wp)
    code, message = wp.json("(new Goalpost\\Command(new Goalpost\\Delivery()))->flush_queue()")
    assert code == 1 and "still queued 1" in message
    assert len(wp.queue()) == 1 and wp.queue()[0]["attempts"] == 2


async def test_wp_cron_retries_a_queued_event_with_its_event_id(db, wp_site):
    wp = wp_site.wp
    await asyncio.to_thread(_point_at, wp, f"http://127.0.0.1:{free_port()}")
    await asyncio.to_thread(_post_cf7, wp)
    queued = wp.queue()[0]["event"]
    await asyncio.to_thread(_point_at, wp, wp_site.server.url)
    # make it due now, then let WordPress's own wp-cron.php run it
    wp.php("$q = get_option('goalpost_queue'); $q[0]['next_attempt'] = 0;"
           "update_option('goalpost_queue', $q);"
           "wp_clear_scheduled_hook('goalpost_retry');"
           "wp_schedule_single_event(time() - 1, 'goalpost_retry');")
    cron = await asyncio.to_thread(httpx.get, f"{wp.url}/wp-cron.php", timeout=30)
    assert cron.status_code == 200
    events = await wait_for_events(db, wp_site.site.id, lambda es: of_type(es, "form"), "form")
    assert [e["id"] for e in of_type(events, "form")] == [
        (await stored_event_keys(db, wp_site.site.id))[queued["event_id"]]]
    assert wp.queue() == [] and wp.next_retry() is False


async def test_a_wrong_key_is_shown_in_the_settings_and_not_retried(db, wp_site):
    wp = wp_site.wp
    wp.php("$o = get_option('goalpost_settings'); $o['api_key'] = 'gp_wrong_key';"
           "update_option('goalpost_settings', $o);")
    answer = await asyncio.to_thread(_post_cf7, wp)
    assert "Thank you for your message" in answer.text
    assert wp.queue() == [] and wp.next_retry() is False
    assert wp.status()["rejected"]["code"] == 401
    settings = await asyncio.to_thread(
        lambda: wp.admin().get("/wp-admin/options-general.php?page=goalpost").text)
    assert "401 —" in settings and "refused an event" in settings
    assert await wait_for_events(db, wp_site.site.id, lambda es: True, "nothing") == []


class _Answering:
    """A Goalpost stand-in for failure modes only: answers every request with one status, or
    accepts connections and never answers (status None)."""

    def __init__(self, status: int | None):
        import socket
        import threading

        self.status = status
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.open: list = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            if self.status is not None:
                conn.recv(65536)
                body = b'{"error": {"code": "x", "message": "stand-in answer"}}'
                conn.sendall(f"HTTP/1.1 {self.status} X\r\ncontent-type: application/json\r\n"
                             f"content-length: {len(body)}\r\nretry-after: 1\r\n"
                             "connection: close\r\n\r\n".encode() + body)
                conn.close()

    def close(self):
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.mark.parametrize("status, queued", [(None, True), (429, True), (503, True),
                                            (400, False), (404, False)],
                         ids=["no-answer", "429", "503", "400", "404"])
async def test_failures_are_queued_and_other_4xx_are_not_retried(wp_site, status, queued):
    wp = wp_site.wp
    server = _Answering(status)
    try:
        await asyncio.to_thread(_point_at, wp, server.url)
        answer = await asyncio.to_thread(_post_cf7, wp)
    finally:
        server.close()
    assert answer.status_code == 200 and "Thank you for your message" in answer.text
    state = wp.json("array('queue' => get_option('goalpost_queue', array()), "
                    "'status' => get_option('goalpost_status'), "
                    "'cron' => wp_next_scheduled('goalpost_retry'))")
    if queued:
        assert len(state["queue"]) == 1 and bool(state["cron"])
        assert "rejected" not in state["status"]
    else:
        assert state["queue"] == [] and state["cron"] is False
        assert state["status"]["rejected"]["code"] == status
    assert state["status"]["last"]["code"] == (status or 0)


async def test_the_queue_keeps_the_newest_500_and_counts_the_dropped(wp_site):
    wp = wp_site.wp
    wp.php("$q = array(); for ($i = 0; $i < 500; $i++) { $q[] = array('event' => "
           "array('event_id' => 'old-' . $i, 'type' => 'form'), 'attempts' => 1, "
           "'next_attempt' => time() + 60, 'error' => ''); }"
           "update_option('goalpost_queue', $q, false);")
    await asyncio.to_thread(_point_at, wp, f"http://127.0.0.1:{free_port()}")
    await asyncio.to_thread(_post_cf7, wp)
    queue = wp.queue()
    assert len(queue) == 500
    assert queue[0]["event"]["event_id"] == "old-1"  # the oldest went
    assert queue[-1]["event"]["form"]["plugin"] == "cf7"
    assert wp.status()["dropped"] == 1

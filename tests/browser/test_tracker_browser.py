"""The tracker (server/static/goalpost.js) in Chromium against the real server: what is stored."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

FORMS = Path(__file__).resolve().parents[1] / "fixtures" / "forms"


def fixture_markup(name: str) -> str:
    """A *.form.html of tests/fixtures/forms."""
    return (FORMS / name).read_text()


# What a visitor types in the tests: none of it may ever reach the server.
TYPED = ("Jane Secret Doe", "jane.secret@example.com", "my secret message 4711")


def loaded(page):
    page.wait_for_function("window.goalpost && window.goalpost.loaded === true")


def settle(goalpost, page, prefix):
    """Send a last custom event and wait until it is stored: everything sent before it has been
    answered by then (beacons leave in order); then a short grace for stragglers."""
    page.evaluate("goalpost.track('Barrier')")
    goalpost.wait_events(prefix, lambda ev: any(e["name"] == "Barrier" for e in ev), what="Barrier")
    time.sleep(0.15)
    return [e for e in goalpost.events(prefix) if e["name"] != "Barrier"]


def of_type(events, type_):
    return [e for e in events if e["type"] == type_]


def form_rows(events, keys=("form_plugin", "form_id", "form_name")):
    return [tuple(f[k] for k in keys) for f in of_type(events, "form")]


def one_form_stored(goalpost, prefix):
    """Wait until the first form event is stored (by the signal under test alone)."""
    goalpost.wait_events(prefix, lambda ev: len(of_type(ev, "form")) == 1, what="a form event")


def assert_nothing_typed_stored(goalpost):
    for table in ("events", "sessions", "visitors"):
        for row in goalpost.rows(f"SELECT * FROM {table}"):
            text = json.dumps(row, default=str)
            for typed in TYPED:
                assert typed not in text, f"{typed!r} stored in {table}: {row}"


# --- pageviews -------------------------------------------------------------------------------

def test_pageview_on_load(goalpost, make_page, page):
    url = make_page("<h1>Hello</h1>")
    page.goto(url, referer="https://www.google.com/")
    loaded(page)
    events = settle(goalpost, page, make_page.prefix)
    assert [e["type"] for e in events] == ["pageview"]  # once, not again on DOMContentLoaded/load
    pv = events[0]
    assert pv["url"] == url
    assert pv["path"] == urlsplit(url).path
    assert pv["referrer"] == "https://www.google.com/"


def test_spa_navigation_pushstate_replacestate_popstate(goalpost, make_page, page):
    url = make_page("<main>app</main>")
    page.goto(url)
    loaded(page)
    page.evaluate("""() => {
        history.pushState({}, '', 'a');
        history.pushState({}, '', 'a');        // same URL again: no second pageview
        history.replaceState({}, '', 'b');
        history.replaceState({n: 1}, '');      // routers do this: same URL
    }""")
    goalpost.wait_events(make_page.prefix, lambda ev: len(of_type(ev, "pageview")) >= 3)
    page.go_back()  # popstate -> .../a
    goalpost.wait_events(make_page.prefix, lambda ev: len(of_type(ev, "pageview")) >= 4)
    events = settle(goalpost, page, make_page.prefix)
    assert [e["url"] for e in of_type(events, "pageview")] == [url, url + "a", url + "b", url + "a"]


# --- the API ---------------------------------------------------------------------------------

def test_queue_before_load_and_track_with_revenue(goalpost, make_page, page):
    url = make_page("""<p>shop</p>
        <script>
          goalpost.track('Signup', {plan: 'pro'});
          goalpost.track('Preorder', null, {amount: '10.50', currency: 'eur'});
        </script>""")
    page.goto(url)
    loaded(page)
    page.evaluate("goalpost.track('Purchase', {plan: 'pro', seats: 3}, {amount: 29.99, currency: 'usd'})")
    events = settle(goalpost, page, make_page.prefix)
    assert [e["type"] + ":" + (e["name"] or "") for e in events] == [
        "pageview:", "custom:Signup", "custom:Preorder", "custom:Purchase"]
    signup, preorder, purchase = events[1:]
    assert json.loads(signup["props"]) == {"plan": "pro"}
    assert signup["revenue_micros"] is None
    assert (preorder["revenue_micros"], preorder["revenue_currency"]) == (10_500_000, "EUR")
    assert json.loads(purchase["props"]) == {"plan": "pro", "seats": 3}
    assert (purchase["revenue_micros"], purchase["revenue_currency"]) == (29_990_000, "USD")


# --- clicks ----------------------------------------------------------------------------------

CLICKS = """
<p><a id="cta-amazon" class="btn btn-buy amazon-cta" href="https://www.amazon.de/dp/B08N5WRWNW">
     Buy
       <b>now</b>
   </a></p>
<p><a id="docs-link" class="ext-link" href="https://docs.example.net/guide">Read&nbsp;the   guide</a></p>
<p><a id="logo-link" class="logo" href="https://example.org/"><img alt="Example  logo" width="10"
      height="10" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></a></p>
<p><a id="hidden-bits" class="x-link" href="https://example.org/x"><span hidden>secret-label</span>Visible</a></p>
<p><a id="internal" class="nav" href="/pricing">Pricing</a> <a id="anchor" href="#top">Top</a></p>
"""


def test_outbound_clicks_url_and_visible_text(goalpost, make_page, context, page):
    url = make_page(CLICKS)
    page.goto(url)
    loaded(page)
    page.click("#docs-link", button="middle")                # auxclick, new tab
    page.click("#logo-link", modifiers=["Control"])           # new tab
    page.click("#hidden-bits", modifiers=["Shift"])           # new window
    page.click("#internal", modifiers=["Control"])            # same host: not a click event
    page.click("#anchor")
    page.click("#cta-amazon")                                  # leaves the page
    page.wait_for_url("https://www.amazon.de/**")
    goalpost.wait_events(make_page.prefix, lambda ev: len(of_type(ev, "click")) >= 4)
    barrier = context.new_page()
    barrier.goto(url)
    loaded(barrier)
    events = settle(goalpost, barrier, make_page.prefix)
    assert len(of_type(events, "click")) == 4   # one event per click, never two
    clicks = {e["click_url"]: e for e in of_type(events, "click")}
    assert {u: e["click_text"] for u, e in clicks.items()} == {
        "https://docs.example.net/guide": "Read the guide",
        "https://example.org/": "Example logo",
        "https://example.org/x": "Visible",
        "https://www.amazon.de/dp/B08N5WRWNW": "Buy now",
    }
    assert len(of_type(events, "pageview")) == 2   # the #top anchor is no page of its own
    for e in clicks.values():
        assert e["url"].split("#")[0] == url
        for css in ("btn", "cta", "ext-link", "logo-link", "x-link", "secret"):
            assert css not in (e["click_text"] or "")
    assert clicks["https://www.amazon.de/dp/B08N5WRWNW"]["click_domain"] in ("amazon.de", "www.amazon.de")
    assert clicks["https://www.amazon.de/dp/B08N5WRWNW"]["click_asin"] == "B08N5WRWNW"


def test_data_goal_clicks(goalpost, make_page, page):
    url = make_page("""
      <button id="g1" class="cta-primary" data-goal="Signup CTA"
              data-goal-props='{"plan":"pro","seats":3}'>Start <em>trial</em></button>
      <button id="g2" data-goal="Bad Props" data-goal-props='{plan: pro}'>Bad</button>
      <div data-goal="Card"><span id="inner">click inside</span></div>
      <a id="g3" data-goal="Outbound Goal" href="https://example.org/signup">Go</a>
      <button id="none">no goal</button>""")
    page.goto(url)
    loaded(page)
    page.click("#g1")
    page.click("#g2")
    page.click("#inner")
    page.click("#none")
    page.click("#g3", modifiers=["Control"])
    events = settle(goalpost, page, make_page.prefix)
    customs = {e["name"]: e for e in of_type(events, "custom")}
    assert sorted(e["name"] for e in of_type(events, "custom")) == [
        "Bad Props", "Card", "Outbound Goal", "Signup CTA"]   # one event per click
    assert json.loads(customs["Signup CTA"]["props"]) == {"plan": "pro", "seats": 3}
    assert customs["Bad Props"]["props"] in (None, "{}")   # invalid JSON ignored, event kept
    assert customs["Card"]["props"] in (None, "{}")
    assert [e["click_url"] for e in of_type(events, "click")] == ["https://example.org/signup"]


# --- forms -----------------------------------------------------------------------------------

# Contact Form 7's wpcf7mailsent detail (tests/fixtures/forms/cf7.events.json), with the
# visitor's typed values in `inputs` as CF7 really sends them.
CF7_DETAIL = {
    "contactFormId": 123, "pluginVersion": "6.1", "contactFormLocale": "en_US",
    "unitTag": "wpcf7-f123-p45-o1", "containerPostId": 45, "status": "mail_sent",
    "inputs": [{"name": "your-name", "value": TYPED[0]}, {"name": "your-email", "value": TYPED[1]},
               {"name": "your-message", "value": TYPED[2]}],
    "apiResponse": {"contact_form_id": 123, "status": "mail_sent",
                    "message": "Thank you for your message. It has been sent.",
                    "posted_data_hash": "3f1c2e9b8a7d6c5b4a39281706f5e4d3",
                    "into": "#wpcf7-f123-p45-o1", "invalid_fields": []},
}

# What CF7's own script does on submit (includes/js/src/submit.js): stop the native submission,
# post it with fetch, then fire the outcome's event and wpcf7submit on the form.
CF7_EMULATION = """<script>
document.addEventListener('submit', function (e) {
  var form = e.target;
  if (!form.matches('.wpcf7-form')) return;
  e.preventDefault();
  var detail = JSON.parse(form.getAttribute('data-test-detail'));
  detail.formData = new FormData(form);
  detail.inputs = [];
  detail.formData.forEach(function (value, name) {
    if (name[0] !== '_') detail.inputs.push({name: name, value: value});
  });
  form.dispatchEvent(new CustomEvent('wpcf7mailsent', {bubbles: true, detail: detail}));
  form.dispatchEvent(new CustomEvent('wpcf7submit', {bubbles: true, detail: detail}));
});
</script>"""


def fill_typed(page, *selectors):
    for selector, value in zip(selectors, TYPED):
        page.fill(selector, value)


def test_cf7_one_event_identifiers_only(goalpost, make_page, context, page):
    markup = fixture_markup("cf7.form.html").replace(
        'data-status="init"', "data-status=\"init\" data-test-detail='"
        + json.dumps({k: v for k, v in CF7_DETAIL.items() if k != "inputs"}) + "'")
    url = make_page(markup + CF7_EMULATION)
    bodies: list[str] = []

    context.on("request", lambda r: bodies.append(r.post_data or "")
               if r.url == f"{goalpost.origin}/api/event" else None)
    page.goto(url)
    loaded(page)
    # 1: a visitor fills the form in and submits it (CF7's flow, emulated)
    fill_typed(page, "input[name=your-name]", "input[name=your-email]", "textarea[name=your-message]")
    page.click("input.wpcf7-submit")
    goalpost.wait_events(make_page.prefix, lambda ev: len(of_type(ev, "form")) >= 1)
    # 2: the real event fired on the form with the fixture's detail, inputs included; failures
    # and wpcf7submit are not successful submissions of their own
    page.evaluate("""detail => {
        const form = document.querySelector('form.wpcf7-form');
        const fire = (name, d) => form.dispatchEvent(new CustomEvent(name, {bubbles: true, detail: d}));
        fire('wpcf7mailfailed', {...detail, status: 'mail_failed'});
        fire('wpcf7submit', {...detail, status: 'mail_failed'});
        fire('wpcf7invalid', {...detail, status: 'validation_failed'});
        fire('wpcf7spam', {...detail, status: 'spam'});
        fire('wpcf7mailsent', detail);
        fire('wpcf7submit', detail);
    }""", CF7_DETAIL)
    events = settle(goalpost, page, make_page.prefix)
    forms = of_type(events, "form")
    assert len(forms) == 2, forms   # two successful submissions, one event each
    path = urlsplit(url).path
    for f in forms:
        assert (f["form_plugin"], f["form_id"], f["form_page_url"]) == ("cf7", "123", path)
    sent = [json.loads(b) for b in bodies if '"form"' in b]
    assert [s["form"] for s in sent] == [{
        "plugin": "cf7", "contactFormId": 123, "unitTag": "wpcf7-f123-p45-o1",
        "containerPostId": 45, "status": "mail_sent"}] * 2
    for b in bodies:
        for typed in TYPED:
            assert typed not in b
    assert_nothing_typed_stored(goalpost)


# WPForms' AJAX success (assets/js/frontend/wpforms.js): a jQuery event on the form, then the
# confirmation replaces the form.
WPFORMS_EMULATION = """<script>
document.addEventListener('DOMContentLoaded', function () {
  var $form = jQuery('#wpforms-form-123');
  $form.on('submit', function (e) {
    e.preventDefault();
    var json = {success: true, data: {confirmation: '<div class="wpforms-confirmation-container-full" id="wpforms-confirmation-123"><p>Thanks!</p></div>'}};
    $form.trigger('wpformsAjaxSubmitSuccess', [json]);
    jQuery('#wpforms-123').html(json.data.confirmation);
  });
});
</script>"""


def test_wpforms_jquery_loaded_after_the_tracker(goalpost, make_page, page):
    # the tracker runs first (both deferred, in order): it must attach once jQuery is there
    url = make_page(fixture_markup("wpforms.form.html"),
                    head='<script defer src="/jquery.min.js"></script>' + WPFORMS_EMULATION)
    page.goto(url)
    loaded(page)
    fill_typed(page, "#wpforms-123-field_1", "#wpforms-123-field_2", "#wpforms-123-field_3")
    page.click("#wpforms-submit-123")
    page.wait_for_selector("#wpforms-confirmation-123")
    events = settle(goalpost, page, make_page.prefix)
    forms = of_type(events, "form")
    assert len(forms) == 1, forms   # the native submit is not a second (html) event
    assert (forms[0]["form_plugin"], forms[0]["form_id"], forms[0]["form_name"]) == (
        "wpforms", "123", "Simple Contact Form")
    assert_nothing_typed_stored(goalpost)


def test_wpforms_jquery_loaded_before_the_tracker(goalpost, make_page, page):
    markup = fixture_markup("wpforms.form.html").replace(
        '<div class="wpforms-head-container"><div class="wpforms-title">Simple Contact Form</div></div>', "")
    url = make_page(markup, head='<script src="/jquery.min.js"></script>')
    page.goto(url)
    loaded(page)
    page.evaluate("""() => {
        jQuery('#wpforms-form-123').trigger('wpformsAjaxSubmitSuccess',
            [{success: true, data: {form_id: 123, redirect_url: 'https://example.com/thank-you/'}}]);
        jQuery('#wpforms-form-123').trigger('wpformsAjaxSubmitFailed', [{success: false}]);
        // a native event of the same name is not WPForms' signal
        document.dispatchEvent(new CustomEvent('wpformsAjaxSubmitSuccess'));
    }""")
    events = settle(goalpost, page, make_page.prefix)
    assert form_rows(events) == [("wpforms", "123", None)]   # no title shown: none sent


def test_wpforms_jquery_injected_after_load(goalpost, make_page, page):
    # e.g. a consent manager or lazy loader adds jQuery and WPForms once the page has loaded
    url = make_page(fixture_markup("wpforms.form.html"))
    page.goto(url)
    loaded(page)
    page.wait_for_load_state("load")
    page.evaluate("""() => new Promise(resolve => {
        const s = document.createElement('script');
        s.src = '/jquery.min.js';
        s.onload = () => {
            jQuery('#wpforms-form-123').on('submit', function (e) {
                e.preventDefault();   // then the AJAX answer, later
                setTimeout(() => jQuery(this).trigger('wpformsAjaxSubmitSuccess', [{success: true, data: {}}]), 20);
            });
            resolve();
        };
        document.head.appendChild(s);
    })""")
    fill_typed(page, "#wpforms-123-field_1", "#wpforms-123-field_2", "#wpforms-123-field_3")
    page.click("#wpforms-submit-123")
    goalpost.wait_events(make_page.prefix, lambda ev: len(of_type(ev, "form")) >= 1)
    events = settle(goalpost, page, make_page.prefix)
    assert form_rows(events, ("form_plugin", "form_id")) == [("wpforms", "123")]


GF_CONFIRMATION = (
    "<div id='gf_1' class='gform_anchor' tabindex='-1'></div><div id='gform_confirmation_wrapper_1' "
    "class='gform_confirmation_wrapper '><div id='gform_confirmation_message_1' "
    "class='gform_confirmation_message_1 gform_confirmation_message'>Thanks for contacting us! "
    "We will get in touch with you shortly.</div></div>")
GF_STUB = ("<script>window.gform = {submission: {handleButtonClick: function () {}}};</script>")


def test_gravity_iframe_mode_confirmation_loaded(goalpost, make_page, page):
    url = make_page(fixture_markup("gravityforms.form.html").replace("action='/contact/#gf_1'",
                    "action='/contact/#gf_1' target='gform_ajax_frame_1'"),
                    head='<script src="/jquery.min.js"></script>' + GF_STUB)
    page.goto(url)
    loaded(page)
    fill_typed(page, "#input_1_1", "#input_1_2", "#input_1_3")
    # what the iframe's onload script does (form_display.php): swap in the confirmation, then
    # fire gform_confirmation_loaded; the render events follow
    page.evaluate("""html => {
        jQuery('#gform_wrapper_1').replaceWith(html);
        jQuery(document).trigger('gform_confirmation_loaded', [1]);
    }""", GF_CONFIRMATION)
    one_form_stored(goalpost, make_page.prefix)  # gform_confirmation_loaded alone was enough
    page.evaluate("""() => {
        jQuery(document).trigger('gform_post_render', [1, undefined]);
        document.dispatchEvent(new CustomEvent('gform/post_render', {detail: {formId: 1, currentPage: undefined}}));
    }""")
    events = settle(goalpost, page, make_page.prefix)
    assert form_rows(events) == [("gravity", "1", "Contact Us")]  # the render events add none
    assert_nothing_typed_stored(goalpost)


def test_gravity_post_render_with_confirmation_wrapper(goalpost, make_page, page):
    url = make_page(fixture_markup("gravityforms.form.html") + GF_STUB)
    page.goto(url)
    loaded(page)
    page.evaluate("""html => {
        const render = () => document.dispatchEvent(
            new CustomEvent('gform/post_render', {detail: {formId: 1, currentPage: 1}}));
        render();   // the form rendered: not a submission
        render();
        document.getElementById('gform_wrapper_1').outerHTML = html;
        render();   // re-rendered showing the confirmation: one submission
        render();
    }""", GF_CONFIRMATION)
    events = settle(goalpost, page, make_page.prefix)
    assert form_rows(events) == [("gravity", "1", "Contact Us")]


def test_gravity_full_page_postback(goalpost, make_page, page):
    # the default method: the page comes back from the POST with the confirmation in it
    url = make_page("<div class='entry-content'>" + GF_CONFIRMATION + "</div>")
    page.goto(url + "#gf_1")
    loaded(page)
    page.wait_for_load_state("load")
    one_form_stored(goalpost, make_page.prefix)  # the wrapper on load alone was enough
    page.evaluate("""() => document.dispatchEvent(
        new CustomEvent('gform/post_render', {detail: {formId: 1, currentPage: 1}}))""")
    events = settle(goalpost, page, make_page.prefix)
    assert form_rows(events, ("form_plugin", "form_id")) == [("gravity", "1")]
    assert events[0]["type"] == "pageview"


def test_html_form_submit_and_plugin_forms_never_twice(goalpost, make_page, context, page):
    plugin_forms = (fixture_markup("cf7.form.html") + fixture_markup("wpforms.form.html")
                    + fixture_markup("gravityforms.form.html"))
    # the plugins' scripts stop their forms' native submissions (CF7, WPForms AJAX) or submit
    # them themselves; here nothing else happens, so no plugin signal: no event at all
    prevent = ("<script>document.addEventListener('submit', function (e) {"
               " if (e.target.id !== 'signup') e.preventDefault(); });</script>")
    url = make_page(plugin_forms + fixture_markup("native.form.html"), head=GF_STUB + prevent)
    page.goto(url)
    loaded(page)
    page.fill("input[name=your-email]", TYPED[1])
    page.click("input.wpcf7-submit")
    page.fill("#wpforms-123-field_2", TYPED[1])
    page.click("#wpforms-submit-123")
    page.fill("#input_1_2", TYPED[1])
    page.click("#gform_submit_button_1")
    page.fill("#signup-email", TYPED[1])
    with page.expect_navigation():
        page.click("#signup button[type=submit]")
    assert page.content().find("Thanks!") > 0
    barrier = context.new_page()
    barrier.goto(url)
    loaded(barrier)
    events = settle(goalpost, barrier, make_page.prefix)
    assert form_rows(events) == [("html", "signup", "newsletter")]
    assert_nothing_typed_stored(goalpost)


# --- opting out, automation ------------------------------------------------------------------

def test_localstorage_goalpost_ignore_stops_all_sending(goalpost, make_page, page):
    url = make_page('<button id="g" data-goal="Ignored Goal">x</button>'
                    '<a id="out" href="https://example.org/">out</a>')
    page.goto(url)
    loaded(page)
    goalpost.wait_events(make_page.prefix, lambda ev: len(ev) == 1)
    page.evaluate("localStorage.goalpost_ignore = 'true'")
    page.reload()
    loaded(page)
    page.evaluate("goalpost.track('Ignored')")
    page.click("#g")
    page.click("#out", modifiers=["Control"])
    page.evaluate("history.pushState({}, '', 'spa')")
    page.evaluate("localStorage.removeItem('goalpost_ignore')")
    events = settle(goalpost, page, make_page.prefix)
    assert [e["type"] for e in events] == ["pageview"]   # the one before the flag was set


def test_automation_skipped_without_data_allow_automation(goalpost, make_page, page):
    skipped = make_page('<button id="g" data-goal="Robot">x</button>', tag_attrs="")
    allowed = make_page("")
    page.goto(skipped)
    loaded(page)
    assert page.evaluate("navigator.webdriver") is True
    page.evaluate("goalpost.track('Robot')")
    page.click("#g")
    page.goto(allowed)
    loaded(page)
    events = settle(goalpost, page, make_page.prefix)
    assert [(e["type"], e["url"]) for e in events] == [("pageview", allowed)]


# --- the page's security and integrity ---------------------------------------------------------

def test_strict_csp_events_arrive_without_violations(goalpost, make_page, context, page):
    csp = (f"default-src 'self'; script-src {goalpost.origin}; "
           f"connect-src {goalpost.origin}")
    sink = make_page("<p>sent</p>", tracker=False, snippet=False)
    url = make_page('<button id="g" data-goal="CSP Goal" data-goal-props=\'{"a":"b"}\'>go</button>'
                    '<a id="out" href="https://example.org/csp">Elsewhere</a>'
                    f'<form name="f" id="f" action="{sink}" target="sink"><button id="s">send</button>'
                    '</form><iframe name="sink" title="sink"></iframe>',
                    snippet=False, headers={"content-security-policy": csp})
    # init scripts are not subject to the page's CSP
    context.add_init_script("""document.addEventListener('securitypolicyviolation', e => {
        (window.__violations = window.__violations || []).push(e.violatedDirective + ' ' + e.blockedURI);
    });""")
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    loaded(page)
    page.click("#g")
    page.click("#out", modifiers=["Control"])
    page.click("#s")
    page.evaluate("history.pushState({}, '', 'next')")
    events = settle(goalpost, page, make_page.prefix)
    assert sorted((e["type"], e["name"] or "") for e in events) == sorted([
        ("pageview", ""), ("pageview", ""), ("custom", "CSP Goal"), ("click", ""), ("form", "")])
    assert page.evaluate("window.__violations || []") == []
    assert console_errors == []
    # the check itself works: a request the policy forbids is reported
    page.evaluate("fetch('http://127.0.0.1:9/forbidden').catch(() => {})")
    page.wait_for_function("(window.__violations || []).length > 0")


def test_fetch_keepalive_fallback_without_sendbeacon(goalpost, make_page, context, page):
    context.add_init_script("delete Navigator.prototype.sendBeacon")
    url = make_page()
    page.goto(url)
    loaded(page)
    assert page.evaluate("typeof navigator.sendBeacon") == "undefined"
    page.evaluate("goalpost.track('Via fetch', {x: 1})")
    events = settle(goalpost, page, make_page.prefix)
    assert [(e["type"], e["name"]) for e in events] == [("pageview", None), ("custom", "Via fetch")]


def test_no_global_but_goalpost_and_no_cookie(goalpost, make_page, context, page):
    bare = make_page("<p>x</p>", tracker=False, snippet=False)
    tracked = make_page("<p>x</p>", snippet=False)
    names = "Object.getOwnPropertyNames(window)"
    page.goto(bare)
    page.wait_for_load_state("load")
    before = set(page.evaluate(names))
    page.goto(tracked)
    page.wait_for_load_state("load")
    goalpost.wait_events(make_page.prefix, lambda ev: len(ev) == 1)
    after = set(page.evaluate(names))
    assert after - before == {"goalpost"}
    assert page.evaluate("document.cookie") == ""
    assert context.cookies() == []


def test_hostile_events_never_throw_into_the_page(goalpost, make_page, context, page):
    url = make_page(fixture_markup("wpforms.form.html"), head='<script src="/jquery.min.js"></script>')
    page.goto(url)
    loaded(page)
    page.evaluate("""() => {
        document.dispatchEvent(new CustomEvent('wpcf7mailsent', {bubbles: true}));
        document.dispatchEvent(new CustomEvent('gform/post_render'));
        document.dispatchEvent(new CustomEvent('gform/post_render', {detail: null}));
        jQuery(document).trigger('gform_confirmation_loaded');
        jQuery(document).trigger('wpformsAjaxSubmitSuccess');
        goalpost.track();
        goalpost.track({}, 5, 'x');
        history.pushState({}, '', '?q=1');
        document.body.dispatchEvent(new MouseEvent('click', {bubbles: true}));
        document.body.dispatchEvent(new MouseEvent('auxclick', {bubbles: true, button: 1}));
    }""")
    events = settle(goalpost, page, make_page.prefix)
    assert context.page_errors == []
    assert of_type(events, "form") == []   # signals without a form to name report nothing

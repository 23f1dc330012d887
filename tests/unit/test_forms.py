"""Form adapters against the source-verified fixtures in tests/fixtures/forms/. Pure."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from server.errors import InvalidInput
from server.ingest.forms import MAX_FORM_NAME, FormFacts, form_facts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "forms"
SUGGESTED = "suggested_normalization (our design, not plugin behaviour)"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


CF7 = load("cf7.events.json")
WPFORMS = load("wpforms.events.json")
GRAVITY = load("gravityforms.events.json")
NATIVE = load("native.events.json")


def _expected(fixture: dict) -> FormFacts:
    block = fixture.get(SUGGESTED) or fixture["suggested_normalization (our design)"]
    return FormFacts(**block["expected"])


class _Markup(HTMLParser):
    """Collects what a tracker can read from the page: form attributes and shown titles."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.titles: list[str] = []
        self.hidden: dict[str, str] = {}
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.hidden[attrs["name"]] = attrs.get("value") or ""
        classes = (attrs.get("class") or "").split()
        self._in_title = "gform_title" in classes or "wpforms-title" in classes

    def handle_data(self, data):
        if self._in_title and data.strip():
            self.titles.append(data.strip())
            self._in_title = False


def markup(name: str) -> _Markup:
    parser = _Markup()
    parser.feed((FIXTURES / name).read_text())
    return parser


# --------------------------------------------------------------------------- typed values

def _typed_values() -> set[str]:
    """Every value a visitor typed in the fixtures (and the WPForms anti-spam token)."""
    values = set()
    for fixture in (CF7, WPFORMS, GRAVITY):
        text = json.dumps(fixture, default=str)
        values.update(re.findall(r'"value": "([^"]+)"', text))
    wp_hook = WPFORMS["server_hooks"][0]["sample_args"]
    values.update(wp_hook["entry"]["fields"].values())
    values.add(wp_hook["entry"]["token"])
    gf_entry = GRAVITY["server_hooks"][0]["sample_args"]["entry"]
    values.update(v for k, v in gf_entry.items() if k.isdigit())
    values.add(gf_entry["ip"])
    return values


TYPED = _typed_values()


def assert_no_typed_values(result: FormFacts):
    assert {"Jane Doe", "jane@example.com", "Hello there"} <= TYPED
    rendered = [repr(result), str(dataclasses.asdict(result))]
    rendered += [str(getattr(result, f.name)) for f in dataclasses.fields(result)]
    for value in TYPED:
        for text in rendered:
            assert value not in text, (value, text)
    assert [f.name for f in dataclasses.fields(result)] == ["form_name", "form_id", "plugin",
                                                            "page_url"]
    assert not hasattr(result, "__dict__")  # nothing else can hang on it


# --------------------------------------------------------------------------- Contact Form 7

def cf7_event(name: str) -> dict:
    for event in CF7["dom_events"]["events"]:
        if event["name"] == name:
            return event
    raise KeyError(name)


def test_cf7_browser_mailsent_detail():
    detail = copy.deepcopy(cf7_event("wpcf7mailsent")["sample_detail"])
    assert detail["inputs"]  # the fixture really carries typed values
    result = form_facts({"plugin": "cf7", **detail}, "https://example.com/contact/?a=1")
    expected = _expected(CF7)
    # CF7 puts no title in the page: the browser shape has no name
    assert result == FormFacts(form_name=None, form_id=expected.form_id, plugin="cf7",
                               page_url=expected.page_url)
    assert result.form_id == str(detail["contactFormId"]) == "123"
    assert_no_typed_values(result)


def test_cf7_browser_with_title_from_our_wordpress_plugin():
    detail = cf7_event("wpcf7mailsent")["sample_detail"]
    title = CF7["server_objects"]["WPCF7_ContactForm"]["title()"]
    result = form_facts({"plugin": "cf7", "title": title, **detail}, "/contact/")
    assert result == _expected(CF7)
    assert_no_typed_values(result)


def test_cf7_submit_event_with_mail_sent_is_accepted():
    detail = cf7_event("wpcf7submit")["sample_detail"]
    assert detail["status"] == "mail_sent"
    assert form_facts({"plugin": "cf7", **detail}, "/contact/").form_id == "123"


@pytest.mark.parametrize("name", [e["name"] for e in CF7["dom_events"]["events"]
                                  if e.get("sample_detail") and
                                  e["sample_detail"].get("status") != "mail_sent"])
def test_cf7_unsuccessful_statuses_are_refused(name):
    detail = cf7_event(name)["sample_detail"]
    with pytest.raises(InvalidInput) as e:
        form_facts({"plugin": "cf7", **detail}, "/contact/")
    assert e.value.field == "form.status" and e.value.status == 400
    assert "Jane" not in e.value.message


def test_cf7_failure_statuses_from_the_fixture_are_all_refused():
    statuses = [s for s in CF7["dom_events"]["dispatch_rules"]["api_status_to_class_status"]
                if not s.startswith("<")]
    assert "mail_failed" in statuses and "spam" in statuses
    for status in statuses:
        payload = {"plugin": "cf7", "contactFormId": 123, "status": status}
        if status == "mail_sent":
            assert form_facts(payload, "/").form_id == "123"
        else:
            with pytest.raises(InvalidInput):
                form_facts(payload, "/")


def test_cf7_api_response_status_counts_when_status_is_absent():
    detail = copy.deepcopy(cf7_event("wpcf7mailfailed")["sample_detail"])
    del detail["status"]
    with pytest.raises(InvalidInput) as e:
        form_facts({"plugin": "cf7", **detail}, "/")
    assert e.value.field == "form.status"
    ok = copy.deepcopy(cf7_event("wpcf7mailsent")["sample_detail"])
    del ok["status"]
    assert form_facts({"plugin": "cf7", **ok}, "/").form_id == "123"


def test_cf7_observed_real_detail_from_readme():
    readme = (FIXTURES / "README.md").read_text()
    observed = json.loads(readme.split("```json", 1)[1].split("```", 1)[0], parse_float=Decimal)
    result = form_facts({"plugin": "cf7", **observed}, "/contact/")
    assert result == FormFacts(None, "4", "cf7", "/contact/")


def test_cf7_wordpress_hook_shape():
    obj = CF7["server_objects"]["WPCF7_ContactForm"]
    result = form_facts({"plugin": "cf7", "id": obj["id()"], "title": obj["title()"]},
                            "/contact/")
    assert result == _expected(CF7)


def test_cf7_markup_has_no_title():
    page = markup("cf7.form.html")
    assert page.titles == [] and page.forms and "name" not in page.forms[0]


# --------------------------------------------------------------------------- WPForms

def test_wpforms_browser_shape_from_markup():
    page = markup("wpforms.form.html")
    form_id = page.forms[0]["data-formid"]
    assert form_id == "123"
    result = form_facts({"plugin": "wpforms", "formId": form_id, "title": page.titles[0]},
                            "https://example.com/contact/")
    assert result == _expected(WPFORMS)


def test_wpforms_browser_shape_without_title():
    result = form_facts({"plugin": "wpforms", "formId": 123}, "/contact/")
    assert result == FormFacts(None, "123", "wpforms", "/contact/")


def test_wpforms_wordpress_hook_shape_drops_fields():
    args = WPFORMS["server_hooks"][0]["sample_args"]
    payload = {"plugin": "wpforms", "id": args["form_data"]["id"],
               "title": args["form_data"]["settings"]["form_title"],
               "fields": args["fields"], "entry": args["entry"]}
    result = form_facts(payload, "/contact/")
    assert result == _expected(WPFORMS)
    assert_no_typed_values(result)


# --------------------------------------------------------------------------- Gravity Forms

def test_gravity_browser_shapes():
    page = markup("gravityforms.form.html")
    assert page.titles == ["Contact Us"]
    events = {e["name"]: e for e in GRAVITY["dom_events"]}
    confirmation_form_id = events["gform_confirmation_loaded"]["sample_args"][0]
    render_form_id = events["gform/post_render"]["detail"]["formId"]
    for form_id in (confirmation_form_id, render_form_id, page.forms[0]["data-formid"]):
        result = form_facts({"plugin": "gravity", "formId": form_id,
                                 "title": page.titles[0]}, "/contact/")
        assert result == _expected(GRAVITY)
    assert form_facts({"plugin": "gravity", "formId": 1}, "/contact/") == FormFacts(
        None, "1", "gravity", "/contact/")


def test_gravity_wordpress_hook_shape_drops_entry():
    args = GRAVITY["server_hooks"][0]["sample_args"]
    payload = {"plugin": "gravity", "id": args["form"]["id"], "title": args["form"]["title"],
               "entry": args["entry"], "form": args["form"]}
    result = form_facts(payload, "/contact/")
    assert result == _expected(GRAVITY)
    assert_no_typed_values(result)


def test_gravity_spam_entry_is_refused():
    args = GRAVITY["server_hooks"][0]["sample_args"]
    entry = {**args["entry"], "status": "spam"}
    with pytest.raises(InvalidInput) as e:
        form_facts({"plugin": "gravity", "id": 1, "entry": entry}, "/contact/")
    assert e.value.field == "form.entry.status"


# --------------------------------------------------------------------------- plain HTML

def test_html_form_attributes_from_markup():
    attrs = markup("native.form.html").forms[0]
    result = form_facts({"plugin": "html", "name": attrs["name"], "id": attrs["id"]},
                            "/newsletter/")
    assert result == _expected(NATIVE)


@pytest.mark.parametrize("attrs,expected", [
    ({"name": "newsletter"}, ("newsletter", "newsletter")),
    ({"id": "signup"}, ("signup", "signup")),
    ({"id": "signup", "title": "Weekly news"}, ("Weekly news", "signup")),
    ({}, (None, None)),
    ({"name": "", "id": ""}, (None, None)),
])
def test_html_fallbacks(attrs, expected):
    result = form_facts({"plugin": "html", **attrs}, "/p")
    assert (result.form_name, result.form_id) == expected


# --------------------------------------------------------------------------- validation

@pytest.mark.parametrize("form,field", [
    ([], "form"),
    ("cf7", "form"),
    (None, "form"),
    ({}, "form.plugin"),
    ({"plugin": None}, "form.plugin"),
    ({"plugin": 7}, "form.plugin"),
    ({"plugin": "gravityforms", "formId": 1}, "form.plugin"),
    ({"plugin": "CF7 ", "id": 1}, "form.plugin"),
    ({"plugin": "cf7"}, "form.contactFormId"),
    ({"plugin": "wpforms", "title": "x"}, "form.formId"),
    ({"plugin": "cf7", "contactFormId": True}, "form.contactFormId"),
    ({"plugin": "cf7", "contactFormId": Decimal("4.0")}, "form.contactFormId"),
    ({"plugin": "wpforms", "formId": {"id": 1}}, "form.formId"),
    ({"plugin": "gravity", "id": [1]}, "form.id"),
    ({"plugin": "gravity", "id": ""}, "form.id"),
    ({"plugin": "gravity", "id": "9" * 201}, "form.id"),
    ({"plugin": "gravity", "id": 1, "title": ["x"]}, "form.title"),
    ({"plugin": "html", "id": 1.5}, "form.id"),
    ({"plugin": "html", "name": {"x": 1}}, "form.name"),
    ({"plugin": "html", "id": "x" * 201}, "form.id"),
    ({"plugin": "cf7", "id": 1, "status": 5}, "form.status"),
    ({"plugin": "cf7", "id": 1, "status": "mail_failed"}, "form.status"),
])
def test_wrong_shapes_are_refused(form, field):
    with pytest.raises(InvalidInput) as e:
        form_facts(form, "/")
    assert e.value.field == field and e.value.status == 400


def test_browser_key_wins_and_extra_keys_are_ignored():
    result = form_facts({"plugin": "wpforms", "formId": "7", "id": "8", "extra": {"a": 1},
                             "formData": {"secret": "typed"}}, "/x")
    assert result == FormFacts(None, "7", "wpforms", "/x")
    assert "typed" not in repr(result)


def test_names_are_collapsed_and_truncated():
    result = form_facts({"plugin": "wpforms", "formId": 1, "title": "  Simple \n Form "}, "/")
    assert result.form_name == "Simple Form"
    long = form_facts({"plugin": "gravity", "formId": 1, "title": "T" * 1000}, "/")
    assert long.form_name == "T" * MAX_FORM_NAME
    blank = form_facts({"plugin": "gravity", "formId": 1, "title": "   "}, "/")
    assert blank.form_name is None


def test_result_is_frozen_and_page_url_is_a_path():
    result = form_facts({"plugin": "gravity", "formId": 1}, "https://e.com/a/b?x=1#y")
    assert result.page_url == "/a/b"
    assert form_facts({"plugin": "gravity", "formId": 1}, None).page_url is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.form_id = "2"  # type: ignore[misc]


# --------------------------------------------------------------------------- every fixture file

# Each fixture file's content, read by the shapes a tracker or our WordPress plugin sends:
# (what form_facts makes of it, what the fixtures say it must be). The plugin codes come from
# the fixtures' `normalized_plugin`, the ids and titles from the samples and markup themselves, so
# editing any of them, or adding a file no reader knows, turns this red.

def _cf7_events() -> list[tuple[FormFacts, FormFacts]]:
    expected, plugin = _expected(CF7), CF7["normalized_plugin"]
    obj = CF7["server_objects"]["WPCF7_ContactForm"]
    readings = [(form_facts({"plugin": plugin, "id": obj["id()"], "title": obj["title()"]},
                                expected.page_url), expected)]
    successes = [e["sample_detail"] for e in CF7["dom_events"]["events"]
                 if e.get("api_status") == "mail_sent"]
    assert successes
    readings += [(form_facts({"plugin": plugin, **detail}, expected.page_url),
                  dataclasses.replace(expected, form_name=None)) for detail in successes]
    return readings


def _wpforms_events() -> list[tuple[FormFacts, FormFacts]]:
    args = WPFORMS["server_hooks"][0]["sample_args"]
    payload = {"plugin": WPFORMS["normalized_plugin"], "id": args["form_data"]["id"],
               "title": args["form_data"]["settings"]["form_title"],
               "fields": args["fields"], "entry": args["entry"]}
    page = WPFORMS["markup"]["hidden_inputs"]["page_url"]
    return [(form_facts(payload, page), _expected(WPFORMS))]


def _gravity_events() -> list[tuple[FormFacts, FormFacts]]:
    expected, plugin = _expected(GRAVITY), GRAVITY["normalized_plugin"]
    form = GRAVITY["server_hooks"][0]["sample_args"]["form"]
    readings = [(form_facts({"plugin": plugin, "id": form["id"], "title": form["title"]},
                                expected.page_url), expected)]
    browser_ids = [e["sample_args"][0] for e in GRAVITY["dom_events"] if "sample_args" in e]
    browser_ids += [e["detail"]["formId"] for e in GRAVITY["dom_events"]
                    if "formId" in (e.get("detail") or {})]
    assert len(browser_ids) == 5
    readings += [(form_facts({"plugin": plugin, "formId": form_id}, expected.page_url),
                  dataclasses.replace(expected, form_name=None)) for form_id in browser_ids]
    return readings


def _native_events() -> list[tuple[FormFacts, FormFacts]]:
    expected, form = _expected(NATIVE), NATIVE["markup"]["form"]
    payload = {"plugin": NATIVE["normalized_plugin"], "name": form["name"], "id": form["id"]}
    return [(form_facts(payload, expected.page_url), expected)]


def _markup_reading(name: str, fixture: dict, form_id: str) -> list[tuple[FormFacts, FormFacts]]:
    page = markup(name)
    payload = {"plugin": fixture["normalized_plugin"], "formId": page.hidden.get(form_id) or
               page.forms[0].get(form_id)}
    if page.titles:
        payload["title"] = page.titles[0]
    expected = _expected(fixture)
    if not page.titles:
        expected = dataclasses.replace(expected, form_name=None)
    if fixture is CF7:
        payload["contactFormId"] = payload.pop("formId")
    return [(form_facts(payload, page.forms[0]["action"]), expected)]


def _native_markup() -> list[tuple[FormFacts, FormFacts]]:
    attrs = markup("native.form.html").forms[0]
    expected = _expected(NATIVE)
    payload = {"plugin": NATIVE["normalized_plugin"], "name": attrs["name"], "id": attrs["id"]}
    return [(form_facts(payload, expected.page_url), expected)]


def _readme() -> list[tuple[FormFacts, FormFacts]]:
    readme = (FIXTURES / "README.md").read_text()
    observed = json.loads(readme.split("```json", 1)[1].split("```", 1)[0], parse_float=Decimal)
    response = observed["apiResponse"]
    assert response["status"] == "mail_sent"
    return [(form_facts({"plugin": "cf7", **observed}, "/contact/"),
             FormFacts(None, str(response["contact_form_id"]), "cf7", "/contact/"))]


READERS = {
    "README.md": _readme,
    "cf7.events.json": _cf7_events,
    "cf7.form.html": lambda: _markup_reading("cf7.form.html", CF7, "_wpcf7"),
    "wpforms.events.json": _wpforms_events,
    "wpforms.form.html": lambda: _markup_reading("wpforms.form.html", WPFORMS, "data-formid"),
    "gravityforms.events.json": _gravity_events,
    "gravityforms.form.html": lambda: _markup_reading("gravityforms.form.html", GRAVITY,
                                                      "data-formid"),
    "native.events.json": _native_events,
    "native.form.html": _native_markup,
}


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_every_fixture_file_gives_its_expected_form(name):
    assert name in READERS, f"no test reads tests/fixtures/forms/{name}"
    readings = READERS[name]()
    assert readings
    for result, expected in readings:
        assert result == expected
        assert_no_typed_values(result)

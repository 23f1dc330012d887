"""The pure attribution functions (server/ingest/attribution.py), the cohort rounding
(server/stats/cohort.py) and `goalpost update-referrers`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from server.cli import main
from server.ingest import attribution
from server.ingest.attribution import (
    DIRECT,
    attribution_of,
    client_of,
    source_of,
    utm_of,
    write_referers,
)
from server.stats.cohort import minor_unit, per_visitor


@pytest.mark.parametrize("referrer, source", [
    ("https://www.google.com/search?q=shoes", "Google"),
    ("https://www.google.co.uk/", "Google"),
    ("https://www.bing.com/search?q=x", "Bing"),
    ("https://duckduckgo.com/", "DuckDuckGo"),
    ("https://news.ycombinator.com/item?id=1", "Hacker News"),
    ("https://t.co/abc", "Twitter"),
    ("https://l.facebook.com/l.php?u=x", "Facebook"),
    ("https://blog.example.org/post", "blog.example.org"),
    ("https://www.elsewhere.net/", "elsewhere.net"),
    ("https://shop.example.com/", DIRECT),  # the page the event was on
    ("https://example.com/a", DIRECT),
    ("https://www.example.com/a", DIRECT),
    ("https://WWW.Example.com./", DIRECT),
    (None, DIRECT),
    ("", DIRECT),
    ("not a url", DIRECT),
])
def test_source(referrer, source):
    assert source_of(referrer, site_domain="example.com",
                     page_url="https://shop.example.com/x") == source


def test_source_of_a_www_site():
    assert source_of("https://example.com/", site_domain="www.example.com") == DIRECT


def test_utm_fields_from_the_landing_query():
    assert utm_of("https://example.com/p?utm_source=news&utm_medium=email"
                  "&utm_campaign=Spring%20Sale&utm_term=&utm_content=a+b&utm_source=second") \
        == ("news", "email", "Spring Sale", None, "a b")
    assert utm_of("https://example.com/p") == (None,) * 5
    assert utm_of(None) == (None,) * 5
    assert utm_of("/p?utm_campaign=" + "x" * 300)[2] == "x" * attribution.MAX_VALUE


@pytest.mark.parametrize("ua, browser, os, device", [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", "Chrome", "Windows", "desktop"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7; rv:133.0) Gecko/20100101 Firefox/133.0",
     "Firefox", "Mac OS X", "desktop"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Mobile Safari", "iOS", "mobile"),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "Mobile Safari", "iOS", "tablet"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "Android", "mobile"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", "Chrome", "Android", "tablet"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge", "Linux", "desktop"),
    ("Stripe/1.0 (+https://stripe.com/docs/webhooks)", None, None, None),
    ("", None, None, None),
])
def test_client(ua, browser, os, device):
    assert client_of(ua) == attribution.Client(browser, os, device)


def test_user_agents_are_parsed_once_per_string():
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 unit-test"
    client_of(ua)
    hits = client_of.cache_info().hits
    assert client_of(ua) == attribution.Client("Firefox", "Linux", "desktop")
    assert client_of.cache_info().hits == hits + 1
    assert client_of.cache_info().maxsize == attribution.UA_CACHE_SIZE


def test_attribution_of_an_event():
    got = attribution_of(url="https://example.com/a?utm_source=x&utm_medium=cpc",
                         referrer="https://t.co/1", site_domain="example.com",
                         user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                                    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
                                    "Safari/537.36")
    assert got == attribution.Attribution("Twitter", "x", "cpc", None, None, None, "Chrome",
                                          "Windows", "desktop")


@pytest.mark.parametrize("currency, places", [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3),
                                              ("CLP", 0), ("XAU", 6)])
def test_minor_units_from_iso_4217(currency, places):
    assert minor_unit(currency) == places


@pytest.mark.parametrize("amount, visitors, currency, expected", [
    ("20.01", 2, "USD", "10.00"),   # 10.005: half to even
    ("20.03", 2, "USD", "10.02"),   # 10.015: half to even
    ("10.00", 3, "USD", "3.33"),
    ("1001", 2, "JPY", "500"),
    ("1003", 2, "JPY", "502"),
    ("1.0005", 1, "BHD", "1.000"),
])
def test_revenue_per_visitor_rounds_half_even(amount, visitors, currency, expected):
    got = per_visitor(Decimal(amount), visitors, currency)
    assert got == Decimal(expected) and str(got) == expected


SMALL = {"search": {"Findit": {"domains": ["findit.example"], "parameters": ["q"]}},
         "social": {"Chirp": {"domains": ["chirp.example"]}}}


def test_update_referrers_from_a_file(tmp_path, capsys):
    out = tmp_path / "referers.json"
    source = tmp_path / "latest.yaml"
    source.write_text("search:\n  Findit:\n    domains: [findit.example]\n"
                      "social:\n  Chirp:\n    domains: [chirp.example]\n")
    assert main(["update-referrers", str(source), "--output", str(out)]) == 0
    assert json.loads(out.read_text()) == {"search": {"Findit": {"domains": ["findit.example"]}},
                                          "social": {"Chirp": {"domains": ["chirp.example"]}}}
    assert "2 referrers" in capsys.readouterr().out


def test_update_referrers_refuses_another_shape(tmp_path):
    out = tmp_path / "referers.json"
    out.write_text("kept")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"search": {"Findit": {"domains": "findit.example"}}}))
    assert main(["update-referrers", str(bad), "--output", str(out)]) == 2
    assert out.read_text() == "kept"


def test_the_database_in_use_is_the_file(tmp_path, monkeypatch):
    path = tmp_path / "referers.json"
    write_referers(json.dumps(SMALL), path)
    monkeypatch.setattr(attribution, "REFERERS_FILE", path)
    attribution._referers.cache_clear()
    attribution._named.cache_clear()
    try:
        assert source_of("https://chirp.example/x", site_domain="example.com") == "Chirp"
        assert source_of("https://www.google.com/", site_domain="example.com") == "google.com"
    finally:
        attribution._referers.cache_clear()
        attribution._named.cache_clear()

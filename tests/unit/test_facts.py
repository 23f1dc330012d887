"""The pure helpers that turn URLs and click texts into the facts goals match. Pure."""

from __future__ import annotations

import pytest

from server.errors import InvalidInput
from server.ingest.facts import (
    _path_by_urlsplit, asin_of, click_facts, domain_of, path_of, visible_text,
)


@pytest.mark.parametrize("url,expected", [
    ("https://example.com/pricing?plan=pro", "/pricing"),
    ("https://example.com/pricing?plan=pro#top", "/pricing"),
    ("https://example.com/a/b/#x", "/a/b/"),
    ("https://example.com", "/"),
    ("https://example.com?x=1", "/"),
    ("https://example.com:8443/Path/With%20Space", "/Path/With%20Space"),
    ("//cdn.example.com/x", "/x"),
    ("/already/a/path", "/already/a/path"),
    ("/already/a/path?q=1#f", "/already/a/path"),
    ("/", "/"),
    ("?q=1", "/"),
    ("http://[::1/broken?x", "/broken"),
    (None, None),
    ("", None),
])
def test_path_of(url, expected):
    assert path_of(url) == expected


def test_path_of_reads_every_url_as_urlsplit_does():
    """path_of reads plain http(s) URLs with one regular expression, and everything else with
    urlsplit: both must give the same path for any URL."""
    starts = ["https://", "http://", "HTTPS://", " https://", "\thttp://", "https:/", "ftp://",
              "https:", "//", ""]
    hosts = ["example.com", "[::1]", "[::1", "::1]", "ex ample.com", "exämple.com",
             "u:p@h.example:8080", "", "h.example\n", "ｅxample.com"]
    rests = ["", "/", "/a/b", "/a b", "/x?y=1", "?q=1", "#f", "/a#b?c", "/a?b#c", "/\t/x",
             "/é", "/a\x00b", "/[x]", " ", "/a/", "/%20"]
    for start in starts:
        for host in hosts:
            for rest in rests:
                url = start + host + rest
                if url:
                    assert path_of(url) == _path_by_urlsplit(url), url


def test_path_of_refuses_non_strings():
    with pytest.raises(InvalidInput):
        path_of(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("url,expected", [
    ("https://www.Amazon.DE/dp/B08N5WRWNW", "amazon.de"),
    ("https://WWW.EXAMPLE.com:8080/x", "example.com"),
    ("https://user:pw@shop.example.com/", "shop.example.com"),
    ("https://wwwexample.com/", "wwwexample.com"),
    ("https://www.www.example.com/", "www.example.com"),
    ("https://example.com./", "example.com"),
    ("/relative/path", None),
    ("mailto:someone@example.com", None),
    ("http://[::1/broken", None),
    (None, None),
    ("", None),
])
def test_domain_of(url, expected):
    assert domain_of(url) == expected


@pytest.mark.parametrize("url,expected", [
    ("https://www.amazon.de/dp/B08N5WRWNW", "B08N5WRWNW"),
    ("https://www.amazon.com/dp/b08n5wrwnw?tag=x-20", "B08N5WRWNW"),
    ("https://www.amazon.com/Some-Product-Name/dp/B08N5WRWNW/ref=sr_1_1", "B08N5WRWNW"),
    ("https://www.amazon.co.uk/gp/product/0131103628", "0131103628"),
    ("https://smile.amazon.com/gp/product/B000000001/", "B000000001"),
    ("https://www.amazon.co.jp/gp/aw/d/B08N5WRWNW", "B08N5WRWNW"),
    ("https://amazon.com.au/dp/B08N5WRWNW#reviews", "B08N5WRWNW"),
    ("https://www.amazon.de/dp/B08N5WRWNWX", None),  # 11 characters
    ("https://www.amazon.de/dp/B08N5", None),
    ("https://www.amazon.de/s?k=B08N5WRWNW", None),
    ("https://www.amazon.de/?x=/dp/B08N5WRWNW", None),  # in the query, not the path
    ("https://amzn.to/3abcDEF", None),  # short link: nothing guessed
    ("https://notamazon.com/dp/B08N5WRWNW", None),
    ("https://amazon.evil.com/dp/B08N5WRWNW", None),
    ("https://example.com/dp/B08N5WRWNW", None),
    (None, None),
])
def test_asin_of(url, expected):
    assert asin_of(url) == expected


@pytest.mark.parametrize("text,expected", [
    ("  Buy   now \n", "Buy now"),
    ("Buy\u00a0now", "Buy now"),
    ("\tA\t\tB  C", "A B C"),
    ("   ", None),
    ("", None),
    (None, None),
])
def test_visible_text(text, expected):
    assert visible_text(text) == expected


def test_click_facts():
    assert click_facts("https://www.amazon.de/dp/B08N5WRWNW", "  Buy   now ") == (
        "https://www.amazon.de/dp/B08N5WRWNW", "amazon.de", "Buy now", "B08N5WRWNW")
    assert click_facts("https://partner.example.org/p?x=1", None) == (
        "https://partner.example.org/p?x=1", "partner.example.org", None, None)
    assert click_facts(None, "Text") == (None, None, "Text", None)
    assert click_facts("", "") == (None, None, None, None)


def test_click_facts_type_errors():
    with pytest.raises(InvalidInput) as e:
        click_facts(5, "x")  # type: ignore[arg-type]
    assert e.value.field == "click.url"
    with pytest.raises(InvalidInput) as e:
        click_facts("https://x.com", ["x"])  # type: ignore[arg-type]
    assert e.value.field == "click.text"

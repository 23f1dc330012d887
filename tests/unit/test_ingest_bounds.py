"""Bad input is refused before anything costly touches it. Pure: no storage.

"Cheap" is shown by structure, not by a clock: the checks run under a decimal context that can't
represent the values at all, so any arithmetic on them would raise; and the crawler check is
shown never to read more than BOT_CHECK_CHARS."""

from __future__ import annotations

import decimal
import json
import re
from decimal import Decimal

import pytest

from server.errors import InvalidInput
from server.ingest import bots
from server.ingest.parse import (
    may_hold_unstorable_text, parse_json, parse_timestamp, refuse_unstorable_text,
)
from server.money import parse_amount

# far below the exponents tried: converting or scaling them under it raises Overflow
TIGHT = decimal.Context(prec=28, Emax=40, Emin=-40,
                        traps=[decimal.Overflow, decimal.InvalidOperation, decimal.Underflow])


@pytest.mark.parametrize("raw", ["1e999990", "1e999999", "-1e999999", "1e-1000000000",
                                 Decimal("1e999990"), Decimal("-1e-999999999"),
                                 Decimal("1234567890123456789012345678901234567890123.5"),
                                 10**60])
def test_amounts_are_refused_before_any_arithmetic(raw):
    with decimal.localcontext(TIGHT), pytest.raises(InvalidInput) as error:
        parse_amount(raw)
    assert error.value.field == "revenue.amount"


def test_amount_conversion_is_exact_beyond_the_context_precision():
    # 28 significant digits would round this one; it has 7 places, so it is refused
    with pytest.raises(InvalidInput):
        parse_amount(Decimal("123456789012.1234567000000000000000000001"))
    assert parse_amount(Decimal("123456789012.1234560000000000000000000000")) == \
        123_456_789_012_123_456


@pytest.mark.parametrize("raw", [Decimal("1e300000"), Decimal("-1e300000"), 10**63])
def test_timestamps_are_bounded_before_they_are_converted(raw):
    with decimal.localcontext(TIGHT), pytest.raises(InvalidInput) as error:
        parse_timestamp(raw)
    assert error.value.field == "timestamp"


def test_number_literals_are_bounded_while_decoding():
    for body in (b'{"a": %s}' % (b"1" * 65), b'{"a": 1e9999999999999999999}',
                 b'{"a": 1.%s}' % (b"5" * 64)):
        with pytest.raises(InvalidInput) as error:
            parse_json(body)
        assert error.value.field == "body"
    assert parse_json(b'{"a": 1e999999, "b": 12}') == {"a": Decimal("1e999999"), "b": 12}


@pytest.mark.parametrize("body", [
    b'{"a": 1.50, "b": [{"c": 1e2}, 2], "d": {"e": [0.5]}}',
    b'{"a": 12345678901234567890123, "b": -0, "c": 1E+2}',
    b'{"a": "\\ud83d\\ude00", "b": "\\u00e9", "c": [true, false, null]}',
    b'\xef\xbb\xbf{"a": "b"}',
])
def test_json_is_read_exactly_as_the_standard_decoder_reads_it(body):
    """parse_json tries orjson first: every number with a fraction or an exponent is a Decimal
    still, whatever depth it is found at."""
    expected = json.loads(body.decode("utf-8-sig"), parse_float=Decimal)
    got = parse_json(body)
    assert got == expected
    assert repr(got) == repr(expected)  # Decimal("1.50"), not 1.5


@pytest.mark.parametrize("text", ["a\x00b", "\udfff", "a\ud800b", "\x00", "ok", "🙂"])
def test_only_a_body_that_may_hold_unstorable_text_is_walked(text):
    """The pipeline walks a body's strings only when may_hold_unstorable_text says so: it must
    say so for every body that parses and holds text no column can hold."""
    bodies = [json.dumps({"props": {"k": [text]}}).encode(), json.dumps({text: 1}).encode(),
              json.dumps({"k": text}, ensure_ascii=False).encode("utf-8", "surrogatepass"),
              b'{"k": "%s"}' % text.encode("utf-8", "surrogatepass")]
    unstorable = 0
    for body in bodies:
        try:
            data = parse_json(body)
        except InvalidInput:
            continue  # refused before anything walks it
        try:
            refuse_unstorable_text(data)
        except InvalidInput:
            unstorable += 1
            assert may_hold_unstorable_text(body), body
    assert unstorable or text in ("ok", "🙂")


def test_the_crawler_check_reads_a_bounded_prefix(monkeypatch):
    seen = []

    class Recorder:
        def sub(self, replacement, user_agent):
            seen.append(len(user_agent))
            return user_agent

    monkeypatch.setattr(bots, "_EXCLUSIONS", Recorder())
    bots._is_listed.cache_clear()
    for length in (300, 8 * 1024, 24 * 1024):
        assert bots.is_bot("Mozilla/5.0 " + "a" * length) is False
    assert seen and max(seen) <= bots.BOT_CHECK_CHARS
    bots._is_listed.cache_clear()


def test_the_crawler_expression_has_no_quadratic_alternative():
    """A run of letters costs the crawler search linear time only: no alternative may start
    with an unbounded run that the rest of the expression must then be tried after."""
    assert not re.search(r"(^|\|)\[[^\]]*\]\*", bots._CRAWLERS.pattern)


def test_the_crawler_list_answers_as_crawlerdetect_does():
    from crawlerdetect import CrawlerDetect

    detector = CrawlerDetect()
    for ua in ("Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0",
               "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
               "Mozilla/5.0 (X11; Linux x86_64) mycrawler-1", "Mozilla/5.0 acme_spider/2",
               "python-requests/2.32", "WordPress/6.5; https://example.com",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/131.0.0.0 Safari/537.36",
               "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"):
        assert bots._is_listed(ua) is detector.isCrawler(ua), ua


@pytest.mark.parametrize("ua, bot", [
    ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
     "+http://www.google.com/bot.html)", True),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 14_7_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/14.1.2 Mobile/15E148 Safari/604.1 (compatible; AdsBot-Google-Mobile; "
     "+http://www.google.com/mobile/adsbot.html)", True),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/435.0.0.38.110;FBBV/532416483;FBDV/iPhone14,5;"
     "FBMD/iPhone;FBSN/iOS;FBSV/17.0;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/0]", False),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", False),
])
def test_long_real_user_agents_are_still_told_apart(ua, bot):
    assert bots.is_bot(ua) is bot


def test_unstorable_text_is_found_at_any_depth_without_recursion():
    deep: list = ["ok"]
    for _ in range(10_000):  # far deeper than Python's recursion limit
        deep = [deep]
    refuse_unstorable_text({"props": {"a": deep}})
    deep[0] = "\x00"
    with pytest.raises(InvalidInput) as error:
        refuse_unstorable_text({"props": {"a": [deep]}})
    assert error.value.field == "props.a"

"""Bad input is refused before anything costly touches it. Pure: no storage.

"Cheap" is shown by structure, not by a clock: the checks run under a decimal context that can't
represent the values at all, so any arithmetic on them would raise; and the crawler check is
shown never to read more than BOT_CHECK_CHARS."""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

import pytest

from server.errors import InvalidInput
from server.ingest import bots
from server.ingest.parse import parse_json, parse_timestamp, refuse_unstorable_text
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

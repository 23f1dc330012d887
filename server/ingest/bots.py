"""Which user agents are not people: crawlers, command-line clients, headless automation."""

from __future__ import annotations

import re
from functools import lru_cache

from crawlerdetect import providers

# The longest user agent accepted at all (the User-Agent header and the `user_agent` field): a
# real browser's is well under 1 KB.
MAX_USER_AGENT = 1024
# How much of it the crawler list reads: that list is one expression of some 1,500 alternatives,
# tried at every position, so its cost grows with the length read (24 KB took 29 s). The first
# 256 characters hold the marker of every crawler that names itself (Googlebot's smartphone
# agent names itself after 150) and cost a few milliseconds at worst.
BOT_CHECK_CHARS = 256

# crawlerdetect's lists, applied as its CrawlerDetect does (exclusions removed, then the crawler
# expression searched), less the leading "[a-z0-9\-_]*" of its generic "…bot|crawl|spider…"
# alternative: for a yes-or-no answer that prefix changes nothing (it may match nothing), and it
# made the search quadratic in the length of a run of letters.
_CRAWLERS = re.compile(
    "|".join(p.removeprefix("[a-z0-9\\-_]*") for p in providers.crawlers.data), re.IGNORECASE)
_EXCLUSIONS = re.compile("|".join(providers.exclusions.data), re.IGNORECASE)
# automation that crawlerdetect does not list
_AUTOMATION = re.compile(r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs",
                         re.IGNORECASE)


def is_bot(user_agent: str) -> bool:
    if not user_agent or len(user_agent) < 8:
        return True
    return _is_listed(user_agent[:BOT_CHECK_CHARS])


@lru_cache(maxsize=4096)
def _is_listed(user_agent: str) -> bool:
    if _AUTOMATION.search(user_agent):
        return True
    rest = _EXCLUSIONS.sub("", user_agent.strip())
    return bool(rest) and _CRAWLERS.search(rest) is not None

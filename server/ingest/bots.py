"""Which user agents are not people: crawlers, command-line clients, headless automation."""

from __future__ import annotations

import re
from functools import lru_cache

from crawlerdetect import CrawlerDetect

# The longest user agent accepted at all (the User-Agent header and the `user_agent` field): a
# real browser's is well under 1 KB.
MAX_USER_AGENT = 1024
# How much of it the crawler list reads. That list is one regular expression of some 1,500
# alternatives, and one of them is quadratic in the length of a run of letters and digits:
# 24 KB took 29 s. 256 characters cost a few milliseconds at worst, and hold the marker of
# every crawler that names itself (they do so early: "Mozilla/5.0 (compatible; Googlebot/2.1").
BOT_CHECK_CHARS = 256

_detector = CrawlerDetect()
# automation that crawlerdetect does not list
_AUTOMATION = re.compile(r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs",
                         re.IGNORECASE)


def is_bot(user_agent: str) -> bool:
    if not user_agent or len(user_agent) < 8:
        return True
    return _is_listed(user_agent[:BOT_CHECK_CHARS])


@lru_cache(maxsize=4096)
def _is_listed(user_agent: str) -> bool:
    return bool(_AUTOMATION.search(user_agent)) or _detector.isCrawler(user_agent)

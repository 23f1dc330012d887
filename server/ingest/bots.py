"""Which user agents are not people: crawlers, command-line clients, headless automation."""

from __future__ import annotations

import re
from functools import lru_cache

from crawlerdetect import CrawlerDetect

_detector = CrawlerDetect()
# automation that crawlerdetect does not list
_AUTOMATION = re.compile(r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs",
                         re.IGNORECASE)


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    if not user_agent or len(user_agent) < 8:
        return True
    return bool(_AUTOMATION.search(user_agent)) or _detector.isCrawler(user_agent)

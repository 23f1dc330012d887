"""Where a session came from and on what: pure functions of the event, no database.

* source - the referrer's name in Snowplow's referer-parser database (`Google`, `Bing`,
  `Hacker News`, `Twitter` for t.co, ...), looked up by the Snowplow `referer_parser` library in
  our copy of the database (data/referers.json; `goalpost update-referrers` refreshes it);
  else the referrer's host; `Direct / None` when there is no referrer, or it is the site itself
  (`www.` or not, or the host of the page the event was on).
* utm_source, utm_medium, utm_campaign, utm_term, utm_content - from the landing URL's query.
* browser, os, device - from the user agent with ua-parser (its compiled Rust resolver,
  ua-parser-rs); the device type (`desktop` / `mobile` / `tablet`) by user-agents' rules over
  that parse. Families ua-parser does not know (`Other`) are stored as null.

The raw user agent is only read here: it is never stored.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import ua_parser
from referer_parser import Referer, load_referers
from ua_parser import Domain
from user_agents.parsers import UserAgent, parse_browser, parse_device, parse_operating_system

from server.ingest.facts import domain_of

DIRECT = "Direct / None"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
REFERERS_FILE = Path(__file__).with_name("data") / "referers.json"
MAX_VALUE = 200  # longer values (UTM, hosts, families) are cut: stored and compared so
UA_CACHE_SIZE = 4096  # per process; a parse costs ~0.1 ms, a cached answer ~0.3 us


@dataclass(frozen=True, slots=True)
class Client:
    browser: str | None
    os: str | None
    device: str | None


@dataclass(frozen=True, slots=True)
class Attribution:
    """What a session records from its first event."""

    source: str
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    browser: str | None = None
    os: str | None = None
    device: str | None = None


def attribution_of(*, url: str | None, referrer: str | None, site_domain: str,
                   user_agent: str) -> Attribution:
    client = client_of(user_agent)
    return Attribution(source_of(referrer, site_domain=site_domain, page_url=url),
                       *utm_of(url), browser=client.browser, os=client.os, device=client.device)


# --- source ----------------------------------------------------------------------------------

@functools.cache
def _referers() -> dict:
    return load_referers(str(REFERERS_FILE))


def source_of(referrer: str | None, *, site_domain: str, page_url: str | None = None) -> str:
    host = domain_of(referrer)
    if host is None:
        return DIRECT
    own = {domain_of(f"http://{site_domain}"), domain_of(page_url)}
    if host in own:
        return DIRECT
    return _named(referrer) or host[:MAX_VALUE]


@functools.lru_cache(maxsize=UA_CACHE_SIZE)
def _named(referrer: str) -> str | None:
    """The referrer's name in the database, or None. Cached: a few referrers (a search engine's
    home page, t.co) make most of the traffic."""
    try:
        return Referer(referrer, referers=_referers()).referer
    except ValueError:  # a URL urlsplit accepted but the library's parse does not
        return None


# --- UTM -------------------------------------------------------------------------------------

def utm_of(url: str | None) -> tuple[str | None, ...]:
    """(utm_source, utm_medium, utm_campaign, utm_term, utm_content) of a URL's query: the
    first value of each, as decoded from the query; empty values are none."""
    if not url or "?" not in url:
        return (None,) * len(UTM_FIELDS)
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return (None,) * len(UTM_FIELDS)
    return tuple((query[f][0][:MAX_VALUE] or None) if query.get(f) else None
                 for f in UTM_FIELDS)


# --- user agent ------------------------------------------------------------------------------

@functools.cache
def _ua_parser() -> ua_parser.Parser:
    # the compiled resolver without ua-parser's own cache: client_of caches the whole answer
    from ua_parser.regex import Resolver

    return ua_parser.Parser(Resolver(ua_parser.load_builtins()))


class _Parsed(UserAgent):
    """user-agents' device rules over a result of the fast parser (its own constructor would
    parse again with ua-parser's slow legacy API)."""

    def __init__(self, ua: str, result: ua_parser.Result):  # noqa: super not called on purpose
        # a part ua-parser found nothing for is None: user-agents expects the family "Other"
        agent, os, device = result.user_agent, result.os, result.device
        self.ua_string = ua
        self.browser = (parse_browser(agent.family, agent.major, agent.minor, agent.patch)
                        if agent else parse_browser("Other"))
        self.os = (parse_operating_system(os.family, os.major, os.minor, os.patch)
                   if os else parse_operating_system("Other"))
        self.device = (parse_device(device.family, device.brand, device.model)
                       if device else parse_device("Other", None, None))


def _known(family: str) -> str | None:
    return None if family == "Other" else family[:MAX_VALUE]


@functools.lru_cache(maxsize=UA_CACHE_SIZE)
def client_of(user_agent: str) -> Client:
    if not user_agent:
        return Client(None, None, None)
    parsed = _Parsed(user_agent, _ua_parser()(user_agent, Domain.ALL).complete())
    if parsed.is_tablet:
        device = "tablet"
    elif parsed.is_mobile:
        device = "mobile"
    elif parsed.is_pc:
        device = "desktop"
    else:
        device = None
    return Client(_known(parsed.browser.family), _known(parsed.os.family), device)


def warm_up() -> None:
    """Load the referrer database and compile the user-agent rules (~0.7 s) before the first
    event rather than during it."""
    _referers()
    _ua_parser()("Mozilla/5.0", Domain.ALL)


# --- the referrer database -------------------------------------------------------------------

SNOWPLOW_LATEST = ("https://s3-eu-west-1.amazonaws.com/snowplow-hosted-assets/third-party/"
                   "referer-parser/referers-latest.json")


def check_referers(data: object) -> int:
    """Raise ValueError unless `data` has the shape of Snowplow's database
    ({medium: {source: {"domains": [...], "parameters": [...]?}}}); the number of sources."""
    if not isinstance(data, dict) or not data:
        raise ValueError("expected {medium: {source: {domains: [...]}}}")
    count = 0
    for medium, sources in data.items():
        if not isinstance(sources, dict):
            raise ValueError(f"medium {medium!r}: expected an object of sources")
        for name, entry in sources.items():
            domains = entry.get("domains") if isinstance(entry, dict) else None
            if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
                raise ValueError(f"{medium}/{name}: expected a list of domains")
            count += 1
    return count


def write_referers(text: str, path: Path = REFERERS_FILE) -> int:
    """Replace the database with `text` (Snowplow's JSON or YAML format) after checking it;
    the number of sources. The file is replaced atomically: a reader never sees half of it."""
    try:
        data = json.loads(text)
    except ValueError:
        import yaml

        data = yaml.safe_load(text)
    count = check_referers(data)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    _referers.cache_clear()
    _named.cache_clear()
    return count

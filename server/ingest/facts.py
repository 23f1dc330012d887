"""Pure helpers that turn what a tracker sends into the facts goal matching looks at."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from server.errors import InvalidInput

__all__ = ["path_of", "click_facts", "domain_of", "asin_of", "visible_text", "MAX_HOST"]

MAX_HOST = 253  # the longest DNS name, and the width of events.click_domain


def path_of(url: str | None) -> str | None:
    """The path of a URL, without query string or fragment; "/" when the URL has no path.

    ``"https://example.com/pricing?plan=pro#top"`` -> ``"/pricing"``;
    ``"https://example.com"`` -> ``"/"``; a value that is already a path (``"/a/b?x=1"``) gives
    that path (``"/a/b"``). ``None`` or ``""`` -> ``None`` (no URL). The path is kept as sent
    (no case change, no percent-decoding).
    """
    if url is None:
        return None
    if not isinstance(url, str):
        raise InvalidInput("url must be a string", field="url")
    if url == "":
        return None
    if url.isascii() and url.isprintable():
        # nothing urlsplit would strip, remove or check: the common URL read in one match
        plain = _PLAIN_URL.match(url)
        if plain is not None:
            return plain.group(1) or "/"
    return _path_by_urlsplit(url)


# http(s)://host, the host without brackets, and the path up to the query or fragment
_PLAIN_URL = re.compile(r"https?://[^/?#\[\]]*(?=[/?#]|$)([^?#]*)")


def _path_by_urlsplit(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. an unbalanced "[" in the host: cut by hand
        path = url
        if "://" in path:
            path = path.split("://", 1)[1]
            path = path[path.find("/"):] if "/" in path else ""
        path = path.split("#", 1)[0].split("?", 1)[0]
    return path or "/"


def domain_of(url: str | None) -> str | None:
    """Lower-case host of an absolute URL with a leading "www." removed; None when there is none."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host or None


# Amazon storefront hosts (plus any subdomain such as smile. or www.). Short links (amzn.to,
# a.co) are deliberately not followed: the ASIN is not in them.
_AMAZON_SUFFIXES = (
    "com", "de", "co.uk", "fr", "it", "es", "nl", "se", "pl", "com.be", "ie", "com.tr",
    "ca", "com.mx", "com.br", "co.jp", "jp", "cn", "in", "com.au", "sg", "ae", "sa", "eg",
    "co.za", "at",
)
_AMAZON_HOST = re.compile(
    r"(?:^|\.)amazon\.(?:" + "|".join(re.escape(s) for s in _AMAZON_SUFFIXES) + r")$"
)
_ASIN_PATH = re.compile(
    r"/(?:dp|dp/product|gp/product|gp/aw/d|exec/obidos/asin|o/asin)/([a-z0-9]{10})(?=[/?#;]|$)",
    re.IGNORECASE,
)


def asin_of(url: str | None) -> str | None:
    """The ASIN (10 alphanumerics, upper-cased) of an Amazon product URL, else None.

    Recognised: ``/dp/<ASIN>``, ``/<slug>/dp/<ASIN>``, ``/gp/product/<ASIN>``,
    ``/gp/aw/d/<ASIN>`` (mobile), ``/dp/product/<ASIN>``, ``/exec/obidos/ASIN/<ASIN>`` on an
    amazon.<storefront> host (any subdomain). Nothing is guessed for other hosts or short links.
    """
    return _asin(url, domain_of(url))


def _asin(url: str | None, host: str | None) -> str | None:
    if host is None or not _AMAZON_HOST.search(host):
        return None
    m = _ASIN_PATH.search(path_of(url) or "")
    return m.group(1).upper() if m else None


def visible_text(text: str | None) -> str | None:
    """Text as a reader sees it: surrounding whitespace dropped, inner runs collapsed to one
    space (any Unicode whitespace, incl. no-break space). None when nothing is left."""
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def click_facts(url: str | None, text: str | None
                ) -> tuple[str | None, str | None, str | None, str | None]:
    """``(click_url, click_domain, click_text, asin)`` of a click event's ``{url, text}``.

    click_url is the URL as sent (``None`` for ``""``); click_domain see :func:`domain_of`;
    click_text see :func:`visible_text`; asin see :func:`asin_of`.
    """
    if url is not None and not isinstance(url, str):
        raise InvalidInput("click.url must be a string", field="click.url")
    if text is not None and not isinstance(text, str):
        raise InvalidInput("click.text must be a string", field="click.text")
    url = url or None
    host = domain_of(url)  # one host lookup serves the domain and the ASIN
    return url, host, visible_text(text), _asin(url, host)

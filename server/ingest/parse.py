"""Reading and checking the body of POST /api/event: sizes, JSON, field types."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
import simplejson

from server.clock import US, from_datetime, now_us
from server.errors import InvalidInput, TooLarge
from server.goals.model import EVENT_TYPES
from server.ingest.event import Event
from server.ingest.facts import MAX_HOST, domain_of
from server.money import parse_amount, parse_currency

MAX_TEXT = 2048  # urls, referrers, link texts
MAX_ID = 200  # anonymous_id, user_id, event_id
# A JSON number literal longer than this is refused while decoding: every number that gets
# further has a bounded number of digits, so converting it later is cheap.
MAX_NUMBER_CHARS = 64
MAX_TIMESTAMP_CHARS = 64
# What no column can hold: NUL (PostgreSQL text) and lone UTF-16 surrogates (not encodable as
# UTF-8: the JSON escape "\udfff" decodes to one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def _json_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number longer than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _json_decimal(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number longer than {MAX_NUMBER_CHARS} characters")
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can represent
        raise ValueError(f"the number {text} is out of range") from None


# numbers with a fraction become Decimal: no binary floating point touches revenue or props
_decoder = json.JSONDecoder(parse_float=_json_decimal, parse_int=_json_int,
                            parse_constant=_no_constants)


def parse_json(body: bytes) -> dict[str, Any]:
    # orjson first: a fifth of the standard decoder's time. What it reads as a float (a
    # fraction, an exponent, an integer beyond 64 bits) must be a Decimal, and what it refuses
    # the standard decoder refuses too and says why: both go the exact way below.
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if data.__class__ is dict and not _holds_float(data):
        return data
    try:
        data = _decoder.decode(body.decode("utf-8-sig" if body[:3] == b"\xef\xbb\xbf" else "utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"malformed JSON: {exc}", field="body", code="malformed_json") from None
    except RecursionError:
        raise InvalidInput("malformed JSON: nested too deeply", field="body",
                           code="malformed_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", field="body", code="malformed_json")
    return data


def _holds_float(data: dict[str, Any]) -> bool:
    stack: list = [data]
    while stack:
        value = stack.pop()
        for item in value.values() if value.__class__ is dict else value:
            kind = item.__class__
            if kind is float:
                return True
            if kind is dict or kind is list:
                stack.append(item)
    return False


def may_hold_unstorable_text(body: bytes) -> bool:
    """Whether a JSON body's strings may hold what no column can: only a \\u escape can make
    one (the decoders refuse raw control characters in strings, and UTF-8 has no lone
    surrogates), so a body without one needs no walk through its strings."""
    return b"\\u" in body


def refuse_unstorable_text(data: dict[str, Any]) -> None:
    """Every string of the body, keys included and at any depth, must be storable: one that is
    not would fail the whole group commit it joins (other sites' events too)."""
    stack: list[tuple[Any, tuple | None]] = [(data, None)]  # (value, (key, parent path))
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise _unstorable(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    raise _unstorable(path)
                stack.append((item, (key, path)))
        elif isinstance(value, list):
            stack.extend((item, path) for item in value)


def _unstorable(path: tuple | None) -> InvalidInput:
    keys = []
    while path is not None:
        key, path = path
        keys.append(key)
    field = ".".join(reversed(keys)) or "body"
    return InvalidInput(f"{field} holds a NUL character or a lone UTF-16 surrogate",
                        field=field, code="invalid_text")


def _text(value: Any, field: str, *, max_len: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    if len(value) > max_len:
        raise InvalidInput(f"{field} is longer than {max_len} characters", field=field)
    return value


def _id(value: Any, field: str) -> str | None:
    """An identifier: a non-empty string, or an integer taken as its decimal text."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    value = _text(value, field, max_len=MAX_ID)
    if value == "":
        raise InvalidInput(f"{field} must not be empty", field=field)
    return value


def put_fields(event: Event, data: dict[str, Any], *, max_props_bytes: int,
               text_checked: bool = False) -> Event:
    """Type-check every field and copy it onto the event; nothing typed is kept unchecked.
    text_checked: the caller has refused unstorable text already (refuse_unstorable_text)."""
    if not text_checked:
        refuse_unstorable_text(data)
    event.raw = data
    name = data.get("name")
    if name is not None:
        if not isinstance(name, str):
            raise InvalidInput("name must be a string", field="name", code="invalid_name")
        if not 1 <= len(name) <= 100:
            raise InvalidInput("name must be 1 to 100 characters", field="name",
                               code="invalid_name")
        if name.startswith("__"):
            raise InvalidInput("names starting with __ are reserved", field="name",
                               code="invalid_name")
    event.name = name

    kind = data.get("type")
    if kind is None:
        kind = "custom" if name is not None else "pageview"
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise InvalidInput("type must be one of pageview, click, form, custom", field="type")
    event.type = kind
    if kind == "custom" and name is None:
        raise InvalidInput("a custom event needs a name", field="name", code="invalid_name")

    event.url = _text(data.get("url"), "url")
    event.referrer = _text(data.get("referrer"), "referrer") or None
    event.anonymous_id = _id(data.get("anonymous_id"), "anonymous_id")
    event.user_id = _id(data.get("user_id"), "user_id")
    event.event_key = _id(data.get("event_id"), "event_id")

    props = data.get("props")
    if props is not None:
        if not isinstance(props, dict):
            raise InvalidInput("props must be an object", field="props")
        for key, value in props.items():
            if value is not None and not isinstance(value, (str, int, Decimal, bool)):
                raise InvalidInput(f"props.{key} must be a string, number, boolean or null",
                                   field=f"props.{key}")
        text = simplejson.dumps(props, use_decimal=True, ensure_ascii=False,
                                separators=(",", ":"))
        if len(text.encode()) > max_props_bytes:
            raise TooLarge(f"props over {max_props_bytes} bytes", field="props")
        event.props = props
        event.props_json = text

    revenue = data.get("revenue")
    if revenue is not None:
        if not isinstance(revenue, dict):
            raise InvalidInput("revenue must be an object {amount, currency}", field="revenue")
        if kind != "custom":
            raise InvalidInput("revenue is only allowed on custom events", field="revenue")
        event.revenue_micros = parse_amount(revenue.get("amount"))
        event.revenue_currency = parse_currency(revenue.get("currency"))

    click = data.get("click")
    if click is not None and not isinstance(click, dict):
        raise InvalidInput("click must be an object {url, text}", field="click")
    if kind == "click":
        if click is None:
            raise InvalidInput("a click event needs click {url, text}", field="click")
        _text(click.get("url"), "click.url")
        _text(click.get("text"), "click.text")
        if not click.get("url"):
            raise InvalidInput("click.url is required", field="click.url")
        host = domain_of(click["url"])
        if host is not None and len(host) > MAX_HOST:
            raise InvalidInput(f"the host of click.url is longer than {MAX_HOST} characters",
                               field="click.url")
    form = data.get("form")
    if form is not None and not isinstance(form, dict):
        raise InvalidInput("form must be an object", field="form")
    if kind == "form" and form is None:
        raise InvalidInput("a form event needs form {plugin, ...}", field="form")
    return event


def parse_timestamp(raw: Any) -> int:
    """ISO 8601 (a naive time is UTC) or seconds since the epoch."""
    latest = now_us() + 5 * 60 * US
    if isinstance(raw, bool):
        raise InvalidInput("timestamp must be ISO 8601 or epoch seconds", field="timestamp")
    if isinstance(raw, (int, Decimal)):
        # bounded before converting: 1e300000 seconds would take seconds to become an int
        seconds = Decimal(raw)
        if seconds > latest // US:
            raise InvalidInput("timestamp is in the future", field="timestamp")
        if seconds < 0:
            raise InvalidInput("timestamp is before 1970", field="timestamp")
        value = int(seconds.scaleb(6))
    elif isinstance(raw, str):
        if len(raw) > MAX_TIMESTAMP_CHARS:
            raise InvalidInput("timestamp must be ISO 8601 or epoch seconds", field="timestamp")
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("timestamp must be ISO 8601 or epoch seconds",
                               field="timestamp") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        value = from_datetime(parsed)
    else:
        raise InvalidInput("timestamp must be ISO 8601 or epoch seconds", field="timestamp")
    if value > latest:
        raise InvalidInput("timestamp is in the future", field="timestamp")
    if value < 0:
        raise InvalidInput("timestamp is before 1970", field="timestamp")
    return value

"""Reading and checking the body of POST /api/event: sizes, JSON, field types."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import simplejson

from server.clock import from_datetime, now_us
from server.errors import InvalidInput, TooLarge
from server.ingest.event import Event
from server.money import parse_amount, parse_currency

EVENT_TYPES = ("pageview", "click", "form", "custom")
MAX_TEXT = 2048  # urls, referrers, link texts
MAX_ID = 200  # anonymous_id, user_id, event_id
KNOWN_KEYS = frozenset({
    "site", "type", "url", "referrer", "name", "props", "revenue", "click", "form",
    "anonymous_id", "user_id", "event_id", "ip", "user_agent", "timestamp",
})


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


# numbers with a fraction become Decimal: no binary floating point touches revenue or props
_decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constants)


def parse_json(body: bytes) -> dict[str, Any]:
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


def put_fields(event: Event, data: dict[str, Any], *, max_props_bytes: int) -> Event:
    """Type-check every field and copy it onto the event; nothing typed is kept unchecked."""
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
    form = data.get("form")
    if form is not None and not isinstance(form, dict):
        raise InvalidInput("form must be an object", field="form")
    if kind == "form" and form is None:
        raise InvalidInput("a form event needs form {plugin, ...}", field="form")
    return event


def parse_timestamp(raw: Any) -> int:
    """ISO 8601 (a naive time is UTC) or seconds since the epoch."""
    if isinstance(raw, bool):
        raise InvalidInput("timestamp must be ISO 8601 or epoch seconds", field="timestamp")
    if isinstance(raw, (int, Decimal)):
        value = int(Decimal(raw) * 1_000_000)
    elif isinstance(raw, str):
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
    if value > now_us() + 5 * 60 * 1_000_000:
        raise InvalidInput("timestamp is in the future", field="timestamp")
    if value < 0:
        raise InvalidInput("timestamp is before 1970", field="timestamp")
    return value

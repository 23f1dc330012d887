"""The three custom scalars of the contract.

* DateTime - ISO 8601. Output: the instant with its UTC offset (UTC, or the site's zone where
  a field says so). Input: any ISO 8601 date-time from 1900 to 8999; one without an offset
  is UTC.
* Decimal  - exact, serialised as a string ("29.99"). Output only: no argument or input field
  takes one (add a parse_value that refuses floats before one does).
* JSON     - any JSON value. Numbers with a fraction are kept exact: they are read as Decimal
  (request bodies are decoded with `parse_float=Decimal`, literals from their source text) and
  written back as the same JSON number (responses are encoded with simplejson's use_decimal).
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import strawberry
from graphql import (
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from strawberry.scalars import JSON

from server.errors import InvalidInput

DATETIME_MIN = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc)
DATETIME_MAX = dt.datetime(9000, 1, 1, tzinfo=dt.timezone.utc)


def _serialize_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat()


def _parse_datetime(value: Any) -> dt.datetime:
    """Refusals are InvalidInput (BAD_USER_INPUT): a number, "yesterday", month 13, an offset
    beyond ±24 h, and instants outside DATETIME_MIN..DATETIME_MAX (so that no range, bucket
    or time zone shift near them leaves the calendar Python can represent)."""
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput("DateTime must be an ISO 8601 string, e.g. 2025-01-31T12:00:00Z")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        in_utc = parsed.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidInput(f"{value!r} is not an ISO 8601 date-time, e.g. "
                           "2025-01-31T12:00:00Z") from None
    if not DATETIME_MIN <= in_utc < DATETIME_MAX:
        raise InvalidInput(f"a DateTime must lie from {DATETIME_MIN.isoformat()} to before "
                           f"{DATETIME_MAX.isoformat()}")
    return parsed


def _json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, (StringValueNode, BooleanValueNode)):
        return node.value
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return decimal.Decimal(node.value)
    if isinstance(node, EnumValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [_json_literal(v, variables) for v in node.values]
    if isinstance(node, ObjectValueNode):
        return {f.name.value: _json_literal(f.value, variables) for f in node.fields}
    if isinstance(node, VariableNode):
        return (variables or {}).get(node.name.value)
    raise ValueError("not a JSON value")


DATETIME = strawberry.scalar(
    name="DateTime", description="An instant, ISO 8601 (e.g. 2025-01-31T12:00:00+00:00).",
    serialize=_serialize_datetime, parse_value=_parse_datetime)
DECIMAL = strawberry.scalar(
    name="Decimal", description="An exact decimal number, serialised as a string.",
    serialize=str)
JSON_SCALAR = strawberry.scalar(
    name="JSON", description="Any JSON value; numbers are kept exact.",
    serialize=lambda v: v, parse_value=lambda v: v, parse_literal=_json_literal)

SCALAR_MAP = {dt.datetime: DATETIME, decimal.Decimal: DECIMAL, JSON: JSON_SCALAR}

__all__ = ["SCALAR_MAP", "JSON"]

"""The three custom scalars of the contract.

* DateTime - ISO 8601. Output: the instant with its UTC offset (UTC, or the site's zone where
  a field says so). Input: any ISO 8601 date-time; one without an offset is UTC.
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


def _serialize_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat()


def _parse_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    parsed = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


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

"""Exact money: amounts travel as Decimal and are stored as integer millionths of a unit."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

import pycountry

from server.errors import InvalidInput

SCALE = 1_000_000
PLACES = 6
# |amount| below 10^12 units: a sum of a million such amounts still fits a signed 64-bit
# integer of millionths on SQLite.
MAX_ABS_MICROS = 10**12 * SCALE - 1


@lru_cache(maxsize=512)
def _known_currency(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code) is not None


def parse_currency(raw: object, *, field: str = "revenue.currency") -> str:
    if not isinstance(raw, str) or len(raw) != 3 or not raw.isascii() or not raw.isalpha():
        raise InvalidInput("currency must be an ISO 4217 code such as USD", field=field,
                           code="invalid_currency")
    code = raw.upper()
    if not _known_currency(code):
        raise InvalidInput(f"{raw!r} is not an ISO 4217 currency code", field=field,
                           code="invalid_currency")
    return code


def parse_amount(raw: object, *, field: str = "revenue.amount") -> int:
    """A decimal string or JSON number (already parsed as Decimal, never float) -> micros."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise InvalidInput("amount must be a decimal string or a number", field=field,
                           code="invalid_amount")
    try:
        amount = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{raw!r} is not a decimal amount", field=field,
                           code="invalid_amount") from None
    if not amount.is_finite():
        raise InvalidInput("amount must be finite", field=field, code="invalid_amount")
    micros = amount.scaleb(PLACES)
    if micros != micros.to_integral_value():
        raise InvalidInput(f"amount has more than {PLACES} decimal places", field=field,
                           code="invalid_amount")
    micros = int(micros)
    if abs(micros) > MAX_ABS_MICROS:
        raise InvalidInput("amount is too large", field=field, code="invalid_amount")
    return micros


def to_decimal(micros: int) -> Decimal:
    """Millionths back to a Decimal with trailing zeros trimmed, at least two places."""
    value = Decimal(int(micros)).scaleb(-PLACES)
    exponent = min(value.normalize().as_tuple().exponent, -2)
    return value.quantize(Decimal(1).scaleb(exponent))

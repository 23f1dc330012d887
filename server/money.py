"""Exact money: amounts travel as Decimal and are stored as integer millionths of a unit."""

from __future__ import annotations

import re
from decimal import Decimal
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


# Plain ASCII decimal notation only: Decimal() alone would also take "1_000", "٣", "１２", "Inf"
# and surrounding Unicode spaces.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
MAX_AMOUNT_CHARS = 40
# the largest storable |amount| is below 10^12 units (see MAX_ABS_MICROS)
_MAX_ADJUSTED = 11


def parse_amount(raw: object, *, field: str = "revenue.amount") -> int:
    """A decimal string or JSON number (already parsed as int or Decimal, never float) -> micros.

    Size and shape are checked before any conversion: an exponent such as 1e999990 would
    otherwise cost seconds of CPU (or overflow) to turn into an integer."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise InvalidInput("amount must be a decimal string or a number", field=field,
                           code="invalid_amount")
    if isinstance(raw, str):
        if len(raw) > MAX_AMOUNT_CHARS or not _DECIMAL.fullmatch(raw):
            raise InvalidInput("amount must be a decimal number in ASCII digits such as "
                               "\"29.99\"", field=field, code="invalid_amount")
        amount = Decimal(raw)
    elif isinstance(raw, int):
        if abs(raw) > MAX_ABS_MICROS:  # a cheap first bound; the exact one is below
            raise InvalidInput("amount is too large", field=field, code="invalid_amount")
        amount = Decimal(raw)
    else:
        amount = raw
    if not amount.is_finite():
        raise InvalidInput("amount must be finite", field=field, code="invalid_amount")
    if not amount:
        return 0  # zero in any notation (0e-999999999 too) is exactly zero
    if amount.adjusted() > _MAX_ADJUSTED:
        raise InvalidInput("amount is too large", field=field, code="invalid_amount")
    sign, digits, exponent = amount.as_tuple()
    if amount.adjusted() < -PLACES or len(digits) > MAX_AMOUNT_CHARS:
        raise InvalidInput(f"amount has more than {PLACES} decimal places", field=field,
                           code="invalid_amount")
    # now at most 40 digits and an exponent near zero: exact integer arithmetic is cheap
    # (Decimal arithmetic would round to the context's 28 digits)
    coefficient = int("".join(map(str, digits)))
    shift = exponent + PLACES
    if shift >= 0:
        micros = coefficient * 10**shift
    else:
        micros, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise InvalidInput(f"amount has more than {PLACES} decimal places", field=field,
                               code="invalid_amount")
    if micros > MAX_ABS_MICROS:
        raise InvalidInput("amount is too large", field=field, code="invalid_amount")
    return -micros if sign else micros


def to_decimal(micros: int) -> Decimal:
    """Millionths back to a Decimal with trailing zeros trimmed, at least two places."""
    value = Decimal(int(micros)).scaleb(-PLACES)
    exponent = min(value.normalize().as_tuple().exponent, -2)
    return value.quantize(Decimal(1).scaleb(exponent))

"""The one reading of `Authorization: Bearer <token>`, for ingestion and GraphQL alike."""

from __future__ import annotations


class MalformedAuthorization(ValueError):
    """An Authorization header that is not `Bearer <token>`."""


def bearer_token(header: str | None) -> str | None:
    """The token of the header; None without a header. Raises MalformedAuthorization for any
    other scheme or an empty token."""
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise MalformedAuthorization(header)
    return token

"""Site API keys and the admin token. Only hashes are stored; secrets are shown once.

A key reads `gp_<key id, 32 hex>_<secret>`: the id finds the row, the secret is compared with
the stored SHA-256 in constant time. Secrets carry 256 random bits, so a fast hash is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from server.clock import now_us
from server.db.engine import Database
from server.db.models import api_keys, app_config, sites
from server.errors import InvalidInput, NotFound
from server.db.upsert import insert_ignore
from server.ids import new_id

ADMIN_HASH_KEY = "admin_token_sha256"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: uuid.UUID
    site_id: uuid.UUID
    label: str | None
    created_at: int
    revoked_at: int | None


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _row(row) -> ApiKey:
    return ApiKey(row.id, row.site_id, row.label, row.created_at, row.revoked_at)


def split_token(token: str) -> tuple[uuid.UUID, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "gp" or len(parts[1]) != 32:
        return None
    try:
        return uuid.UUID(hex=parts[1]), parts[2]
    except ValueError:
        return None


async def create_api_key(db: Database, *, site_id: uuid.UUID, label: str | None = None
                         ) -> tuple[ApiKey, str]:
    if label is not None and len(label) > 200:
        raise InvalidInput("label is longer than 200 characters", field="label")
    key_id = new_id()
    secret = secrets.token_urlsafe(32)
    values = dict(site_id=site_id, id=key_id, label=label, secret_hash=_hash(secret),
                  created_at=now_us(), revoked_at=None)
    async with db.write.begin() as conn:
        exists = (await conn.execute(select(sites.c.id).where(sites.c.id == site_id))).first()
        if not exists:
            raise NotFound("no such site", field="siteId")
        await conn.execute(api_keys.insert().values(**values))
    return ApiKey(key_id, site_id, label, values["created_at"], None), f"gp_{key_id.hex}_{secret}"


async def get_api_key(db: Database, *, key_id: uuid.UUID) -> ApiKey | None:
    async with db.read.connect() as conn:
        row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
    return _row(row) if row else None


async def list_api_keys_for_sites(db: Database, *, site_ids: list[uuid.UUID]
                                  ) -> dict[uuid.UUID, list[ApiKey]]:
    """Each site's keys, oldest first (never their secrets: only hashes exist)."""
    async with db.read.connect() as conn:
        rows = await conn.execute(select(api_keys).where(api_keys.c.site_id.in_(site_ids))
                                  .order_by(api_keys.c.created_at, api_keys.c.id))
    found: dict[uuid.UUID, list[ApiKey]] = {}
    for row in rows:
        found.setdefault(row.site_id, []).append(_row(row))
    return found


async def revoke_api_key(db: Database, *, key_id: uuid.UUID) -> ApiKey:
    async with db.write.begin() as conn:
        await conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now_us())
        )
        row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
    if row is None:
        raise NotFound("no such API key", field="id")
    return _row(row)


async def authenticate_key(db: Database, token: str) -> ApiKey | None:
    """The active key this token is, or None (unknown, wrong secret or revoked)."""
    parsed = split_token(token)
    if parsed is None:
        return None
    key_id, secret = parsed
    async with db.read.connect() as conn:
        row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
    if row is None or not hmac.compare_digest(_hash(secret), row.secret_hash):
        return None
    if row.revoked_at is not None:
        return None
    return _row(row)


class AdminTokens:
    """The admin credential: GOALPOST_ADMIN_TOKEN when set, else the one generated on first
    start, whose hash every process reads from the database."""

    def __init__(self, db: Database, env_token: str | None):
        self._db = db
        self._env_hash = _hash(env_token) if env_token else None
        self._stored_hash: bytes | None = None

    async def is_admin(self, token: str) -> bool:
        expected = self._env_hash
        if expected is None:
            if self._stored_hash is None:
                async with self._db.read.connect() as conn:
                    value = (await conn.execute(
                        select(app_config.c.value).where(app_config.c.key == ADMIN_HASH_KEY)
                    )).scalar()
                if value is None:
                    return False
                self._stored_hash = bytes.fromhex(value)
            expected = self._stored_hash
        return hmac.compare_digest(_hash(token), expected)


async def ensure_admin_token(db: Database) -> str | None:
    """Create and return the admin token when none exists yet; None when one does."""
    token = "gpadmin_" + secrets.token_urlsafe(32)
    async with db.write.begin() as conn:
        # a second process starting at the same moment inserts nothing and prints nothing
        created = (await conn.execute(
            insert_ignore(conn, app_config, [{"key": ADMIN_HASH_KEY, "value": _hash(token).hex()}])
            .returning(app_config.c.key)
        )).first()
    return token if created else None

"""`alembic upgrade head` from code, for `goalpost migrate`, `serve` and the tests.

Configured here rather than from alembic.ini, which an installed package does not have
(alembic.ini stays for developers running `alembic` by hand in a checkout)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

_SERVER = Path(__file__).resolve().parents[1]


def script_location() -> Path:
    """The migration tree: server/migrations in an installed wheel (setup.py puts the
    repository's alembic/ there), alembic/ beside server/ in a checkout or editable install."""
    packaged = _SERVER / "migrations"
    return packaged if packaged.is_dir() else _SERVER.parent / "alembic"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)

"""`alembic upgrade head` from code, for `goalpost migrate`, `serve` and the tests.

Configured here rather than from alembic.ini, which an installed package does not have
(alembic.ini stays for developers running `alembic` by hand in a checkout)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from server.db import partitions

_SERVER = Path(__file__).resolve().parents[1]


def script_location() -> Path:
    """The migration tree: server/migrations in an installed wheel (setup.py puts the
    repository's alembic/ there), alembic/ beside server/ in a checkout or editable install."""
    packaged = _SERVER / "migrations"
    return packaged if packaged.is_dir() else _SERVER.parent / "alembic"


def revision_module(file_name: str):
    """An earlier migration's module, for a later one that reuses its statements (a migration's
    file name starts with a digit, so it is loaded by path, from the same tree)."""
    import importlib.util

    path = script_location() / "versions" / file_name
    spec = importlib.util.spec_from_file_location(f"goalpost_migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def include_name(name, type_, parent_names) -> bool:
    """Alembic's comparison skips the partitions of `events`: the parent is the table."""
    return not (type_ == "table" and partitions.is_partition(name))


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)

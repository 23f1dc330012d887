"""Packaging that pyproject.toml cannot say: the one migration tree, kept at alembic/ in the
repository, ships inside the package as server/migrations (server/db/migrate.py finds either)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["server", "server.*"])
    + ["server.migrations", "server.migrations.versions"],
    package_dir={"server.migrations": "alembic"},
    package_data={"server": ["static/*", "static/app/*", "static/app/assets/*"], "server.migrations": ["script.py.mako"]},
)

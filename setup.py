"""Packaging that pyproject.toml cannot say: the one migration tree, kept at alembic/ in the
repository, ships inside the package as server/migrations (server/db/migrate.py finds either);
the WordPress plugin, kept at adapters/wordpress/goalpost/, as server/wordpress_plugin (for
GET /wordpress/goalpost.zip; server/wordpress.py finds either)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["server", "server.*"])
    + ["server.migrations", "server.migrations.versions", "server.wordpress_plugin"],
    package_dir={"server.migrations": "alembic",
                 "server.wordpress_plugin": "adapters/wordpress/goalpost"},
    package_data={"server": ["static/*", "static/app/*", "static/app/assets/*",
                              "ingest/data/*.json"],
                  "server.migrations": ["script.py.mako"],
                  "server.wordpress_plugin": ["*.php", "readme.txt", "src/*.php"]},
)

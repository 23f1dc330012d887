"""Every site-owned table (one with a site_id column) of the migrated database, partitions
included, has site_id first in its primary key and in every unique index: each row lives with
its site when the tables are distributed by site_id (docs/scaling.md)."""

from __future__ import annotations

from sqlalchemy import inspect


def _keys(sync_conn) -> dict[str, list[list[str]]]:
    inspector = inspect(sync_conn)
    out = {}
    for table in inspector.get_table_names():
        if "site_id" not in {c["name"] for c in inspector.get_columns(table)}:
            continue
        keys = [inspector.get_pk_constraint(table)["constrained_columns"]]
        keys += [u["column_names"] for u in inspector.get_unique_constraints(table)]
        keys += [i["column_names"] for i in inspector.get_indexes(table) if i["unique"]]
        out[table] = keys
    return out


async def test_site_id_leads_every_key_of_every_site_owned_table(db):
    async with db.write.connect() as conn:
        keys = await conn.run_sync(_keys)
    assert {"events", "sessions", "visitors", "event_keys", "goals", "goal_conditions",
            "api_keys", "rollup_hourly", "visitor_sketches", "rollup_coverage"} <= set(keys)
    if not db.is_sqlite:
        assert any(name.startswith("events_p") for name in keys)  # partitions are checked too
    for table, table_keys in keys.items():
        assert table_keys[0], f"{table} has no primary key"
        for columns in table_keys:
            assert columns[0] == "site_id", (table, columns)


def test_the_citus_statements_distribute_every_site_owned_table():
    """docs/scaling.md's create_distributed_table list names each table with a site_id."""
    import re
    from pathlib import Path

    from server.lifecycle.erasure import site_owned_tables

    text = (Path(__file__).resolve().parents[3] / "docs" / "scaling.md").read_text()
    listed = set(re.findall(r"create_distributed_table\('(\w+)'", text))
    assert listed == {t.name for t in site_owned_tables()}

"""The plugin's files: valid PHP, a wordpress.org readme, and the zip the server serves."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from server.wordpress import build_zip

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "adapters" / "wordpress" / "goalpost"
PHP_FILES = sorted([*PLUGIN.rglob("*.php"), *(ROOT / "tests" / "fixtures" / "wordpress").rglob("*.php")])


@pytest.mark.parametrize("path", PHP_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_php_lint(path):
    done = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_plugin_headers_and_readme():
    main = (PLUGIN / "goalpost.php").read_text()
    for header in ("Plugin Name: ", "Requires at least: 6.1", "Requires PHP:      7.4",
                   "Text Domain:       goalpost", "License:"):
        assert header in main
    readme = (PLUGIN / "readme.txt").read_text()
    assert readme.startswith("=== Goalpost ===")
    for section in ("== Description ==", "== Installation ==", "== Changelog ==",
                    "Requires at least: 6.1", "Requires PHP: 7.4", "Stable tag: 0.1.0"):
        assert section in readme
    # every PHP file refuses to run outside WordPress
    for path in PLUGIN.rglob("*.php"):
        text = path.read_text()
        assert "defined( 'ABSPATH' )" in text or "defined( 'WP_UNINSTALL_PLUGIN' )" in text, path


async def test_the_server_serves_the_plugin_zipped_from_its_folder(client):
    answer = await client.get("/wordpress/goalpost.zip")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"goalpost/{p.relative_to(PLUGIN).as_posix()}"
                               for p in PLUGIN.rglob("*") if p.is_file())
        assert archive.read("goalpost/goalpost.php") == (PLUGIN / "goalpost.php").read_bytes()
    assert answer.content == build_zip()
    again = await client.get("/wordpress/goalpost.zip",
                             headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304

"""The package as a user installs it: a wheel built from this checkout, installed (not editable)
into a fresh virtual environment, started with `goalpost serve` from an empty directory. It
must migrate its database, serve the tracker, store an event and report it through GraphQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from server.wordpress import build_zip
from tests.conftest import BROWSER_UA
from tests.support.server_process import free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "wheel-admin-token"


def run(*command, cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def checkout_copy(dest: Path) -> Path:
    """The files git tracks or would track, so building leaves nothing in the checkout."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(source.read_bytes())
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ directory of a fresh venv holding only the wheel. Its dependencies are read from
    this interpreter's site-packages through a .pth line (so no download); a path added that way
    is not scanned for .pth files, so the editable install of the checkout stays out of it."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = checkout_copy(tmp / "src")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
        tmp / "dist", source, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("goalpost-*.whl")
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet",
        wheel, cwd=tmp)
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                       cwd=tmp).strip())
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    (purelib / "_goalpost_test_dependencies.pth").write_text(
        "".join(f"{p}\n" for p in sorted(ours) if Path(p).is_dir()))
    return venv / "bin"


def test_installed_wheel_serves_migrates_and_stores(installed, tmp_path):
    here = tmp_path / "elsewhere"
    here.mkdir()
    code = run(installed / "python", "-c",
               "import server, server.db.migrate as m; print(server.__file__); "
               "print(m.script_location())", cwd=here).split()
    venv = installed.parent
    assert all(Path(path).is_relative_to(venv) for path in code), code

    env = {**os.environ, "GOALPOST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}",
           "GOALPOST_ADMIN_TOKEN": ADMIN, "GOALPOST_RATE_LIMIT": "0"}
    env.pop("PYTHONPATH", None)
    site_id = run(installed / "goalpost", "create-site", "wheel.example",
                  cwd=here, env=env).split("\t")[0]
    port = free_port()
    server = subprocess.Popen(
        [installed / "goalpost", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=here, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode(errors="replace")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "goalpost serve did not become healthy"
            time.sleep(0.2)

        tracker = httpx.get(f"{base}/js/goalpost.js")
        assert tracker.status_code == 200
        assert tracker.content == (ROOT / "server" / "static" / "goalpost.js").read_bytes()
        # the dashboard's build ships too: its page and every asset it names
        page = httpx.get(f"{base}/")
        assert page.status_code == 200
        for asset in re.findall(r'"(/app/assets/[^"]+)"', page.text):
            assert httpx.get(f"{base}{asset}").content == \
                (ROOT / "server" / "static" / "app" / asset.removeprefix("/app/")).read_bytes()

        plugin = httpx.get(f"{base}/wordpress/goalpost.zip")  # the plugin ships in the wheel
        assert plugin.status_code == 200
        assert plugin.content == build_zip(ROOT / "adapters" / "wordpress" / "goalpost")

        event = {"site": "wheel.example", "url": "https://wheel.example/installed/"}
        answer = httpx.post(f"{base}/api/event", json=event, headers={"user-agent": BROWSER_UA})
        assert answer.status_code == 202, answer.text

        query = """query ($id: ID!) { sessions(siteId: $id) {
            totalCount edges { node { entryPath events { type path } } } } }"""
        result = httpx.post(f"{base}/graphql", json={"query": query, "variables": {"id": site_id}},
                            headers={"authorization": f"Bearer {ADMIN}"}).json()
        assert "errors" not in result, result
        sessions = result["data"]["sessions"]
        assert sessions["totalCount"] == 1
        assert sessions["edges"][0]["node"]["events"] == [
            {"type": "pageview", "path": "/installed/"}]
    finally:
        stop_group(server)

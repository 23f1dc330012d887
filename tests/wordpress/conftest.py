"""One real WordPress per run (Debian's package, MariaDB, `php -S`) with the plugin installed from
its zip, one `goalpost serve` per storage backend, one Chromium; each test gets a fresh Goalpost
site with its own key, and the plugin's options, queue and status reset to that site."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from playwright.async_api import async_playwright

from server.auth import keys
from tests.conftest import BROWSER_UA
from tests.support.server_process import ServerProcess
from tests.support.wordpress import MariaDB, WordPress, install_wordpress

PLUGIN_PATH = "wp-content/plugins/goalpost/"


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wordpress")
    mariadb = MariaDB(tmp).start()
    wp = None
    try:
        wp = install_wordpress(tmp, mariadb)
        yield wp
    finally:
        if wp is not None:
            wp.stop()
        mariadb.stop()


@pytest.fixture(scope="session")
def goalpost_server(database_url):
    server = ServerProcess(database_url).start()
    yield server
    server.stop()


@dataclass
class WpSite:
    wp: WordPress
    server: ServerProcess
    site: object
    key: str


@pytest.fixture
async def wp_site(db, site, wordpress, goalpost_server) -> WpSite:
    """WordPress pointed at this test's own Goalpost site, with its key; nothing queued."""
    _, key = await keys.create_api_key(db, site_id=site.id, label="wordpress")
    await asyncio.to_thread(wordpress.configure, url=goalpost_server.url, site=site.domain,
                            api_key=key)
    return WpSite(wordpress, goalpost_server, site, key)


@pytest.fixture(autouse=True)
def no_php_notice_from_the_plugin(request):
    """Every test here also proves that the plugin logged no PHP notice, warning or deprecation
    (WP_DEBUG is on, PHP 8.2)."""
    if "wordpress" not in request.fixturenames:
        yield
        return
    wp: WordPress = request.getfixturevalue("wordpress")
    start = wp.debug_log.stat().st_size if wp.debug_log.exists() else 0
    yield
    if wp.debug_log.exists():
        with wp.debug_log.open("rb") as log:
            log.seek(start)
            lines = [line for line in log.read().decode(errors="replace").splitlines()
                     if PLUGIN_PATH in line]
        assert lines == [], "PHP messages from the plugin:\n" + "\n".join(lines)


@pytest.fixture(scope="session")
async def browser():
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-features=LocalNetworkAccessChecks"])
        yield b
        await b.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(user_agent=BROWSER_UA)
    errors: list[str] = []
    context.on("page", lambda p: p.on("pageerror", lambda exc: errors.append(str(exc))))
    yield await context.new_page()
    await context.close()
    assert errors == [], f"errors thrown in the page: {errors}"

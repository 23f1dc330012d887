"""A real WordPress for the plugin's tests: Debian's `wordpress` package copied into a temporary
folder with its own wp-config.php and database, served by `php -S`, the plugin installed from
the zip that `GET /wordpress/goalpost.zip` serves, and the form plugins' stand-ins beside it.

MariaDB: the one at 127.0.0.1:3306 when it answers (as root without a password), else a private
`mariadbd` on a free port with a temporary data directory.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.wordpress import build_zip
from tests.support.server_process import free_port, stop_group

WORDPRESS_CORE = Path("/usr/share/wordpress")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wordpress"
ADMIN_PASSWORD = "gp-admin-" + secrets.token_hex(6)
SUBSCRIBER_PASSWORD = "gp-sub-" + secrets.token_hex(6)
STAND_INS = ("gp-standin-cf7", "gp-standin-wpforms", "gp-standin-gravity")
PAGES = {"gp-cf7": '[contact-form-7 id="5" title="GP Contact"]',
         "gp-wpforms": '[wpforms id="7"]',
         "gp-gravity": '[gravityform id="1" title="true"]',
         "gp-plain": "<p>A page with no form.</p>"}


def _php_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _answers("127.0.0.1", port):
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on {port}")
        time.sleep(0.1)


class MariaDB:
    """A MariaDB server reachable as root without password; create_database() per WordPress."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.process: subprocess.Popen | None = None
        self.port = 3306
        self.databases: list[str] = []

    def start(self) -> "MariaDB":
        if os.environ.get("GOALPOST_TEST_MARIADB") != "private" and self._root_works(3306):
            return self
        self._start_private()
        return self

    def _root_works(self, port: int) -> bool:
        if not _answers("127.0.0.1", port):
            return False
        done = subprocess.run(
            ["php", "-r", f"mysqli_report(MYSQLI_REPORT_OFF); exit(@mysqli_connect('127.0.0.1', "
                          f"'root', '', '', {port}) ? 0 : 1);"], capture_output=True, timeout=30)
        return done.returncode == 0

    def _start_private(self) -> None:
        server = shutil.which("mariadbd") or shutil.which("mysqld") or "/usr/sbin/mariadbd"
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if not Path(server).exists() or install is None:
            raise RuntimeError("no MariaDB at 127.0.0.1:3306 and no mariadbd to start "
                               "(apt-get install mariadb-server)")
        datadir = self.tmp / "mariadb"
        datadir.mkdir()
        subprocess.run([install, "--no-defaults", f"--datadir={datadir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        self.port = free_port()
        self.process = subprocess.Popen(
            [server, "--no-defaults", f"--datadir={datadir}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={datadir}/mysqld.sock", "--user=root",
             "--skip-log-bin", "--innodb-buffer-pool-size=32M"],
            stdout=subprocess.DEVNULL, stderr=open(self.tmp / "mariadb.log", "wb"))
        _wait_for_port(self.port, self.process, "mariadbd")

    def _sql(self, statement: str) -> None:
        code = (f"mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);"
                f"$c = mysqli_connect('127.0.0.1', 'root', '', '', {self.port});"
                f"mysqli_query($c, {_php_string(statement)});")
        subprocess.run(["php", "-r", code], check=True, capture_output=True, timeout=60)

    def create_database(self) -> str:
        name = f"gp_wp_{secrets.token_hex(6)}"
        self._sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        self.databases.append(name)
        return name

    def stop(self) -> None:
        if self.process is None:
            for name in self.databases:
                self._sql(f"DROP DATABASE IF EXISTS `{name}`")
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class WordPress:
    root: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def debug_log(self) -> Path:
        return self.root / "wp-content" / "debug.log"

    # --- PHP inside this WordPress -------------------------------------------------------

    def php(self, code: str, *, defines: dict | None = None, installing: bool = False) -> str:
        """Runs PHP code inside WordPress (loaded from the command line, as WP-CLI does)."""
        env = {**os.environ, "GP_WP_DEFINE": json.dumps(defines or {})}
        if installing:
            env["GP_WP_INSTALLING"] = "1"
        done = subprocess.run(["php", str(FIXTURES / "wp-run.php"), str(self.root)],
                              input=code.encode(), capture_output=True, env=env, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"PHP failed ({done.returncode}):\n{done.stdout.decode()}\n"
                               f"{done.stderr.decode()}")
        return done.stdout.decode()

    def json(self, expression: str, *, defines: dict | None = None):
        """The value of a PHP expression, through JSON."""
        out = self.php(f"echo \"\\n@@\" . wp_json_encode({expression});", defines=defines)
        return json.loads(out.rsplit("\n@@", 1)[1])

    # --- HTTP ----------------------------------------------------------------------------

    def client(self, user: str | None = None, password: str | None = None) -> httpx.Client:
        """An HTTP client, logged in as user when given."""
        c = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        if user:
            c.cookies.set("wordpress_test_cookie", "WP Cookie check")
            r = c.post("/wp-login.php", data={"log": user, "pwd": password,
                                              "wp-submit": "Log In", "testcookie": "1"})
            assert r.status_code == 302, f"login of {user} failed: {r.status_code}"
        return c

    def admin(self) -> httpx.Client:
        return self.client("admin", ADMIN_PASSWORD)

    def subscriber(self) -> httpx.Client:
        return self.client("subscriber", SUBSCRIBER_PASSWORD)

    # --- the plugin's state ----------------------------------------------------------------

    def configure(self, **settings) -> None:
        """Replaces the plugin's options and clears its queue, status and cron event."""
        self.php(
            "delete_option('goalpost_queue'); delete_option('goalpost_status');"
            "delete_transient('goalpost_widget_stats');"
            "wp_clear_scheduled_hook('goalpost_retry');"
            f"update_option('goalpost_settings', json_decode({_php_string(json.dumps(settings))}"
            ", true));")

    def queue(self) -> list[dict]:
        return self.json("get_option('goalpost_queue', array())")

    def status(self) -> dict:
        return self.json("get_option('goalpost_status', array())")

    def next_retry(self):
        return self.json("wp_next_scheduled('goalpost_retry')")

    def stop(self) -> None:
        stop_group(self.process)


def install_wordpress(tmp: Path, mariadb: MariaDB) -> WordPress:
    """A fresh site: core copied (WordPress finds wp-config.php through its own files' real
    paths, so core is copied, not linked), the plugin unpacked from the served zip."""
    root = tmp / "wordpress"
    shutil.copytree(WORDPRESS_CORE, root, symlinks=True,
                    ignore=shutil.ignore_patterns("wp-config.php", "wp-content"))
    content = root / "wp-content"
    (content / "plugins").mkdir(parents=True)
    (content / "themes").mkdir()
    (content / "mu-plugins").mkdir()
    (content / "uploads").mkdir()
    for theme in (WORDPRESS_CORE / "wp-content" / "themes").iterdir():
        (content / "themes" / theme.name).symlink_to(theme.resolve())
    with zipfile.ZipFile(io.BytesIO(build_zip())) as archive:
        archive.extractall(content / "plugins")
    for name in STAND_INS:
        shutil.copy(FIXTURES / "plugins" / f"{name}.php", content / "plugins")
    shutil.copy(FIXTURES / "mu-plugins" / "goalpost-test-support.php", content / "mu-plugins")

    wp = WordPress(root=root, port=free_port())
    database = mariadb.create_database()
    salts = "\n".join(f"define('{k}', '{secrets.token_hex(24)}');" for k in (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
        "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
    (root / "wp-config.php").write_text(f"""<?php
define('DB_NAME', '{database}');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '127.0.0.1:{mariadb.port}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}
$table_prefix = 'wp_';
define('WP_HOME', '{wp.url}');
define('WP_SITEURL', '{wp.url}');
define('WP_DEBUG', true);
define('WP_DEBUG_LOG', true);
define('WP_DEBUG_DISPLAY', false);
define('DISABLE_WP_CRON', true); // the tests run wp-cron.php themselves
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('FS_METHOD', 'direct');
define('WP_HTTP_BLOCK_EXTERNAL', true); // no update checks: only this host and localhost
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
""")
    wp.php("require_once ABSPATH . 'wp-admin/includes/upgrade.php';"
           f"wp_install('Goalpost test', 'admin', 'admin@example.com', false, '', "
           f"{_php_string(ADMIN_PASSWORD)});", installing=True)
    pages = ";".join(
        f"wp_insert_post(array('post_type' => 'page', 'post_status' => 'publish', "
        f"'post_name' => '{slug}', 'post_title' => '{slug}', "
        f"'post_content' => {_php_string(body)}))" for slug, body in PAGES.items())
    wp.php(f"""
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        update_option('permalink_structure', '/%postname%/');
        update_option('blog_public', '0');
        wp_insert_user(array('user_login' => 'subscriber', 'user_email' => 's@example.com',
            'user_pass' => {_php_string(SUBSCRIBER_PASSWORD)}, 'role' => 'subscriber'));
        {pages};
        $result = activate_plugins(array('goalpost/goalpost.php', {', '.join(
            _php_string(f'{n}.php') for n in STAND_INS)}));
        if (is_wp_error($result)) {{ fwrite(STDERR, $result->get_error_message()); exit(1); }}
        flush_rewrite_rules();
    """)
    log = open(tmp / "php-server.log", "wb")
    wp.process = subprocess.Popen(
        ["php", "-S", f"127.0.0.1:{wp.port}", "-t", str(root), str(FIXTURES / "router.php")],
        cwd=root, stdout=log, stderr=subprocess.STDOUT,
        # parallel requests: the tracker's script and a form post may overlap
        env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"},
        start_new_session=True)  # its workers share its process group: stop() ends them all
    _wait_for_port(wp.port, wp.process, "php -S")
    return wp


def tracker_tags(html: str) -> list[str]:
    """The <script> tags that load goalpost.js."""
    return re.findall(r"<script[^>]*goalpost\.js[^>]*>", html)

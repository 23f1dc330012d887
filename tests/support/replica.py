"""A private PostgreSQL primary and a streaming replica of it, started for one test on free
ports in a temporary directory (initdb, pg_basebackup, pg_ctl from /usr/lib/postgresql/*/bin);
the system's cluster is not touched. As root, the servers run as the `postgres` user."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.server_process import free_port


def bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
    return Path(found[-1]).parent if found else None


@dataclass
class Pair:
    primary_port: int
    replica_port: int

    def url(self, port: int, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{database}"


class _Runner:
    def __init__(self, bindir: Path, root: Path):
        self.bindir = bindir
        self.root = root
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(root, user.pw_uid, user.pw_gid)

    def __call__(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, cwd=self.root, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)


@contextlib.contextmanager
def primary_and_replica():
    bindir = bin_dir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    root = Path(tempfile.mkdtemp(prefix="goalpost-replica-", dir="/tmp"))
    run = _Runner(bindir, root)
    primary, replica = root / "primary", root / "replica"
    pair = Pair(free_port(), free_port())
    started = []
    try:
        run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(f"port = {pair.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{root}'\nwal_level = replica\n"
                       "max_wal_senders = 4\nfsync = off\n")
        run("pg_ctl", "-D", str(primary), "-l", str(root / "primary.log"), "-w", "start")
        started.append(primary)
        run("pg_basebackup", "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        with open(replica / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {pair.replica_port}\nhot_standby = on\n")
        run("pg_ctl", "-D", str(replica), "-l", str(root / "replica.log"), "-w", "start")
        started.append(replica)
        yield pair
    finally:
        for data in reversed(started):
            with contextlib.suppress(subprocess.SubprocessError):
                run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)

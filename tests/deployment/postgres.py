"""A throwaway PostgreSQL server for the deployment suite: native, on loopback, tuned for speed.

``start_postgres()`` finds PostgreSQL's ``initdb`` / ``pg_ctl`` (on PATH, else under
``/usr/lib/postgresql/<version>/bin``), installing Debian's ``postgresql-15`` with apt-get when
neither is there (CI starts from a fresh clone). ``initdb`` refuses to run as root, so as root the
cluster and the server run as the ``postgres`` user (``runuser -u postgres --``) on a data dir in a
temporary directory that user owns. Durability is switched off (fsync, synchronous commit, full
page writes): a crash loses the database, which a test never needs.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.airflow_processes import free_port

DEBIAN_PACKAGE = "postgresql-15"
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "30min",
    "autovacuum": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
    "jit": "off",
    "log_min_messages": "warning",
    "log_line_prefix": "%m [%p] %d ",
}


def find_bindir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent  # /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]), reverse=True
    )
    return Path(candidates[0]).parent if candidates else None


def install_postgres(log: Path) -> Path:
    """``apt-get install -y postgresql-15`` (after ``apt-get update`` if the first try fails); the bin dir."""
    if os.geteuid() != 0:
        raise RuntimeError(
            f"PostgreSQL's initdb/pg_ctl are not installed and this is not root: install {DEBIAN_PACKAGE} "
            "(or put initdb and pg_ctl on PATH)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", DEBIAN_PACKAGE]
    with open(log, "ab") as out:
        if (
            subprocess.run(install, check=False, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900).returncode
            != 0
        ):
            subprocess.run(
                ["apt-get", "update", "-q"], check=False, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=600
            )
            done = subprocess.run(install, check=False, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900)
            if done.returncode != 0:
                raise RuntimeError(f"apt-get install {DEBIAN_PACKAGE} failed:\n{_tail(log)}")
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(f"{DEBIAN_PACKAGE} installed but no initdb/pg_ctl found:\n{_tail(log)}")
    return bindir


class Postgres:
    """A running server: ``url(db)`` for SQLAlchemy, ``query(sql)`` to look into Airflow's tables."""

    host = "127.0.0.1"
    user = "postgres"

    def __init__(self, root: Path, bindir: Path, port: int, run_as: list[str]) -> None:
        self.root = root
        self.bindir = bindir
        self.port = port
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log_path = root / "postgres.log"
        self._run_as = run_as

    def url(self, dbname: str = "postgres", driver: str = "psycopg2") -> str:
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{dbname}"

    def _pg(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*self._run_as, *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{self.log_tail()}"
            )
        return done

    def init_and_start(self) -> None:
        self._pg(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = f"-h {self.host} -p {self.port} -k {self.sockets} " + " ".join(
            f"-c {key}={value!r}" if " " in value or "%" in value else f"-c {key}={value}"
            for key, value in SERVER_SETTINGS.items()
        )
        self._pg(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self._run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                check=False,
                capture_output=True,
                timeout=60,
            )

    def connect(self, dbname: str = "postgres") -> Any:
        import psycopg2

        connection = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=dbname, connect_timeout=10)
        connection.autocommit = True
        return connection

    def query(self, sql: str, params: Any = None, dbname: str = "airflow") -> list[tuple]:
        """Rows of one statement (autocommit), e.g. ``SELECT id, triggerer_id FROM trigger``."""
        connection = self.connect(dbname)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def log_tail(self, lines: int = 30) -> str:
        return f"--- postgres ({self.log_path}) ---\n{_tail(self.log_path, lines)}"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def start_postgres() -> Iterator[Postgres]:
    """A fresh cluster in a temporary directory, started; stopped and removed on exit."""
    root = Path(tempfile.mkdtemp(prefix="pg-deployment-"))
    bindir = find_bindir() or install_postgres(root / "apt.log")
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:  # binaries without the Debian package that creates the account
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True, timeout=60)
            account = pwd.getpwnam("postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
        os.chown(root, account.pw_uid, account.pw_gid)
    else:
        run_as = []
    server = Postgres(root, bindir, free_port(), run_as)
    server.sockets.mkdir()
    if run_as:
        os.chown(server.sockets, account.pw_uid, account.pw_gid)
    started = time.monotonic()
    try:
        server.init_and_start()
        server.started_in = time.monotonic() - started
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

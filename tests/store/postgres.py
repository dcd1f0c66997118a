"""A real PostgreSQL server for the tests: `initdb` + `pg_ctl` on a free port, one per test run
(one per xdist worker: each is its own process).

Why: the store must behave the same on SQLite and PostgreSQL (conditional
UPDATEs, unique keys, advisory locks), and only a real server shows that. The
server is shared by every test that asks (reference counted, so several
conftest files can each declare the session fixture and still get one server);
each test gets an empty database on it (a schema dropped and created again,
much faster than CREATE DATABASE).

The binaries are found under /usr/lib/postgresql/*/bin; as root they run as the
`postgres` user (initdb refuses root). Without them, `available()` says why and
the fixtures skip with that reason.
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

START_SECONDS = 60
START_ATTEMPTS = 3
"""Tries at starting the server, each on a new free port, when the last one was taken meanwhile."""
T = TypeVar("T")

_lock = threading.Lock()
_server: PostgresServer | None = None
_users = 0


def find_bin_dir() -> Path | None:
    """The newest PostgreSQL bin folder with both initdb and pg_ctl, if any."""
    found = []
    for folder in glob.glob("/usr/lib/postgresql/*/bin"):
        path = Path(folder)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file() and (path / "postgres").is_file():
            found.append(path)
    if not found:
        extra = shutil.which("pg_ctl")
        if extra and shutil.which("initdb"):
            return Path(extra).parent
        return None

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in path.parent.name.split(".") if p.isdigit())

    return max(found, key=version)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One throwaway cluster in a temp folder, trusting local connections."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="sessions-bot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._as_root = os.geteuid() == 0
        self._shared: str | None = None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, check=True, capture_output=True, text=True, timeout=START_SECONDS, cwd=self.root
        )

    def start(self) -> None:
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        log = self.root / "server.log"
        pg_ctl = (str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w")
        for attempt in range(1, START_ATTEMPTS + 1):
            logged = log.stat().st_size if log.exists() else 0
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run(*pg_ctl, "-o", options, "start")
                return
            except subprocess.CalledProcessError:
                # The port was free when asked; another process (an xdist worker starting its
                # own server, another suite on this machine) may have taken it since.
                if not log.exists() or attempt == START_ATTEMPTS:
                    raise
                with log.open("rb") as said:
                    said.seek(logged)
                    taken = b"could not bind" in said.read()
                if not taken:
                    raise
                self.port = _free_port()

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self) -> str:
        """A new, empty database (about 0.3 s); returns its SQLAlchemy URL."""
        name = f"bot_{os.getpid()}_{next(self._names)}"
        _run_async(self._execute("postgres", f"CREATE DATABASE {name}"))
        return self.url(name)

    def fresh_database(self) -> str:
        """The shared test database, emptied: its schema dropped and created again (fast)."""
        if self._shared is None:
            self._shared = self.create_database().rsplit("/", 1)[1]
        else:
            _run_async(self._execute(self._shared, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        return self.url(self._shared)

    async def _execute(self, database: str, statement: str) -> None:
        connection = await asyncpg.connect(self.url(database, "postgresql"), timeout=START_SECONDS)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def url(self, database: str, scheme: str = "postgresql+asyncpg") -> str:
        return f"{scheme}://postgres@127.0.0.1:{self.port}/{database}"


def _run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on its own loop in its own thread, so sync and async callers alike may use it."""
    result: list[T] = []
    failure: list[BaseException] = []

    def body() -> None:
        try:
            result.append(asyncio.run(work))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=body, name="postgres-admin")
    thread.start()
    thread.join(START_SECONDS)
    if failure:
        raise failure[0]
    return result[0]


def available() -> str | None:
    """None when a server can be started here, else the reason it cannot."""
    if find_bin_dir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin"
    return None


def acquire() -> PostgresServer:
    """Start the shared server on first use; every acquire needs a release."""
    global _server, _users
    with _lock:
        if _server is None:
            bin_dir = find_bin_dir()
            if bin_dir is None:
                raise RuntimeError(available())
            server = PostgresServer(bin_dir)
            server.start()
            _server = server
        _users += 1
        return _server


def release() -> None:
    """Stop the server when its last user is done."""
    global _server, _users
    with _lock:
        _users -= 1
        if _users == 0 and _server is not None:
            server, _server = _server, None
            server.stop()

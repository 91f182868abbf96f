"""A throwaway Postgres for the ledger tests: ``initdb`` in a temporary directory, ``pg_ctl`` on 127.0.0.1 and a
free port, as a non-root user (the Debian package's ``postgres`` when the tests run as root; Postgres refuses
root), trust authentication, fsync off. ``stop()``/``start()`` make the database go away and come back (the
outage tests); ``close()`` stops it for good. Binaries: ``OTEL_LLM_COST_PG_BINDIR``, else the newest
/usr/lib/postgresql/*/bin (scripts/setup.d/34-postgres.sh installs Debian's ``postgresql``), else PATH.

A missing Postgres skips the tests, or fails them when ``OTEL_LLM_COST_E2E_REQUIRED=1`` (CI).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def bindir() -> Path | None:
    configured = os.environ.get("OTEL_LLM_COST_PG_BINDIR")
    if configured:
        return Path(configured)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def require_bindir() -> Path:
    found = bindir()
    if found is None or not (found / "pg_ctl").exists():
        message = "Postgres (initdb, pg_ctl) not installed: run scripts/setup.d/34-postgres.sh"
        if os.environ.get("OTEL_LLM_COST_E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    USER = "ledger"

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="otel-llm-cost-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # Postgres will not run as root: use the package's system user
            os.chown(self.root, _uid("postgres"), -1)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", self.USER, "--auth=trust", "-E", "UTF8", "--no-sync",
                  "--no-instructions")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://{self.USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        proc = subprocess.run([*self._as_user, str(self.bin / tool), *args], capture_output=True, text=True,
                              timeout=120, cwd=self.root)
        if proc.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}\n{log}")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid

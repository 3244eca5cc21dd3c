"""A private PostgreSQL server for the tests: Debian's `postgresql` package, a throwaway cluster made with
initdb under a temp dir, on a free loopback port, started and stopped with pg_ctl. No system service is used."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port


def _bin_dir() -> Path:
    """Where initdb and pg_ctl are: on PATH, or Debian's versioned directory (newest first)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql; ./run test does it)")
    return Path(candidates[-1]).parent


def _as_server_user() -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the package's `postgres` user."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PostgresServer:
    directory: Path
    port: int
    bin_dir: Path

    @property
    def base_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*_as_server_user(), *args], capture_output=True, text=True, timeout=timeout,
                              cwd=self.directory)

    def create_database(self, prefix: str = "parley") -> str:
        """A new empty database; its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        result = self._run(str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                           "-U", "postgres", name)
        if result.returncode != 0:
            raise RuntimeError(f"createdb failed: {result.stderr}")
        return f"{self.base_url}/{name}"

    def start(self, ready_timeout: float = 60.0) -> None:
        """Start the server (again, after `halt`); returns once it accepts connections over TCP."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.directory / "server.log"
        started = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.directory / "data"), "-l", str(log),
                            "-o", options, "-w", "-t", str(int(ready_timeout)), "start", timeout=ready_timeout + 10)
        if started.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{log.read_text() if log.exists() else ''}")
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:  # -w waits for the socket; be sure TCP answers too
            ready = self._run(str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port))
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not accept connections")

    def halt(self) -> None:
        """Stop the server, keeping its data (a database outage)."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres(ready_timeout: float = 60.0) -> PostgresServer:
    bin_dir = _bin_dir()
    directory = Path(tempfile.mkdtemp(prefix="parley-pg-"))  # not under pytest's root-only tmp: the server user reads it
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(directory, free_port(), bin_dir)
    made = server._run(str(bin_dir / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "--auth=trust",
                       "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
    if made.returncode != 0:
        raise RuntimeError(f"initdb failed: {made.stderr}")
    try:
        server.start(ready_timeout)
    except BaseException:
        server.stop()
        raise
    return server

"""Real services the tests start and stop themselves: a throwaway PostgreSQL cluster and nginx.

Each runs as a real process on a free loopback port, in a temporary directory, and is stopped
by the fixture that started it. PostgreSQL refuses to run as root, so when the tests run as
root (CI does) the cluster belongs to the unprivileged ``nobody`` user.
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
from dataclasses import dataclass
from pathlib import Path

from mockbank.clock import monotonic
from tests.processes import free_port


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def postgres_missing() -> str | None:
    """Why a PostgreSQL cluster cannot be started here, or None when it can."""
    for name in ("initdb", "pg_ctl"):
        if _postgres_bin(name) is None:
            return f"PostgreSQL's {name} is not installed (apt-get install postgresql)"
    return None


def nginx_missing() -> str | None:
    """Why nginx cannot be started here, or None when it can."""
    if shutil.which("nginx") or Path("/usr/sbin/nginx").exists():
        return None
    return "nginx is not installed (apt-get install nginx-light)"


@dataclass(frozen=True)
class PostgresCluster:
    """A running throwaway cluster: connect with `dsn`."""

    port: int
    directory: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://mockbank@127.0.0.1:{self.port}/mockbank"

    def database(self, name: str) -> str:
        """Create an empty database and answer its DSN (one per test keeps tests apart)."""
        import psycopg

        admin = f"postgresql://mockbank@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://mockbank@127.0.0.1:{self.port}/{name}"


def _require(name: str) -> str:
    found = _postgres_bin(name)
    if found is None:
        raise RuntimeError(postgres_missing() or f"{name} not found")
    return found


def _owner() -> pwd.struct_passwd | None:
    """The unprivileged user that owns the cluster when we are root; None to run as ourselves."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


def _run_as_owner(args: list[str], directory: Path) -> str:
    owner = _owner()
    kwargs: dict[str, object] = {}
    if owner is not None:
        kwargs = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    done = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=directory,
        env={**os.environ, "HOME": str(directory), "LC_ALL": "C.UTF-8"},
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """initdb + pg_ctl start on a free port; stopped (fast) and removed on exit.

    The cluster lives in its own directory under the system temp dir (pytest's tmp_path is
    private to root, and the cluster's owner must reach it).
    """
    directory = Path(tempfile.mkdtemp(prefix="mockbank-pg-"))
    data = directory / "data"
    owner = _owner()
    if owner is not None:
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    _run_as_owner(
        [
            _require("initdb"),
            "-D",
            str(data),
            "-U",
            "mockbank",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        directory,
    )
    port = free_port()
    options = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        " -c shared_buffers=32MB"
    )
    _run_as_owner(
        [
            _require("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(directory / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        directory,
    )
    try:
        cluster = PostgresCluster(port, directory)
        cluster.database("mockbank")
        yield cluster
    finally:
        _run_as_owner(
            [_require("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], directory
        )
        shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class Nginx:
    """A running nginx load balancer in front of `upstreams`."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


_NGINX_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size 2m;
    upstream mockbank {{
        {servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://mockbank;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


def nginx_config(prefix: Path, port: int, upstreams: list[str]) -> str:
    """The load balancer's configuration (also shown in docs/deploy.md)."""
    servers = "\n        ".join(f"server {u} max_fails=1 fail_timeout=2s;" for u in upstreams)
    return _NGINX_CONF.format(prefix=prefix, port=port, servers=servers)


@contextmanager
def nginx(directory: Path, upstreams: list[str]) -> Iterator[Nginx]:
    """nginx in the foreground on a free port, balancing over `upstreams` (host:port)."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(nginx_config(directory, port, upstreams))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [binary, "-p", str(directory), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, process)
        yield Nginx(port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = monotonic() + 20
    while monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"nginx exited early: {stderr}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start listening")

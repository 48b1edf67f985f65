"""Shared pieces of the benchmarks: start a WSGI app on mockbank's server in a subprocess, load it.

Load comes from wrk when it is installed (Debian package ``wrk``), else from a bounded pool of
Python keep-alive clients. Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mockbank.clock import monotonic

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(port: int, timeout: float = 20.0) -> None:
    deadline = monotonic() + timeout
    while monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listening on port {port} after {timeout} s")


@contextmanager
def waitress_app(module_code: str, threads: int = 16, server: str = "waitress") -> Iterator[str]:
    """Serve ``app`` defined by `module_code` in a subprocess; yields its URL.

    `server` is one of `mockbank serve`'s servers, set up exactly as mockbank sets it up
    (`mockbank.serving.make_server`), so a reference app and mockbank compare like for like.
    """
    with served_app(module_code, threads, server) as (url, _):
        yield url


@contextmanager
def served_app(
    module_code: str, threads: int = 16, server: str = "waitress"
) -> Iterator[tuple[str, int]]:
    """`waitress_app`, yielding the URL and the server's process id."""
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "bench_app.py"
        script.write_text(
            module_code
            + f"""
if __name__ == "__main__":
    import logging
    from mockbank.serving import make_server
    logging.getLogger("waitress").setLevel(logging.ERROR)
    make_server({server!r}, app, "127.0.0.1", {port}, {threads}).run()
"""
        )
        process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(port)
            yield f"http://127.0.0.1:{port}", process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def load(
    url: str,
    body: str | None = None,
    *,
    seconds: float = 5.0,
    connections: int = 16,
    content_type: str = "application/x-www-form-urlencoded",
    headers: dict[str, str] | None = None,
) -> float:
    """Requests per second that `url` sustains (POST `body` if given, else GET)."""
    if shutil.which("wrk"):
        return _wrk(url, body, seconds, connections, content_type, headers or {})
    return _python_load(url, body, seconds, connections, content_type, headers or {})


def _wrk(
    url: str,
    body: str | None,
    seconds: float,
    connections: int,
    content_type: str,
    headers: dict[str, str],
) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if body is not None:
            escaped = body.replace("\\", "\\\\").replace('"', '\\"')
            lua.write(
                f'wrk.method = "POST"\nwrk.body = "{escaped}"\n'
                f'wrk.headers["Content-Type"] = "{content_type}"\n'
            )
        for name, value in headers.items():
            lua.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        done = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds))}s", "-s", lua.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        )
    finally:
        os.unlink(lua.name)
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if match is None:
        raise RuntimeError(f"could not read wrk's output:\n{done.stdout}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} non-2xx answers from {url}: fix the request")
    return float(match.group(1))


def _python_load(
    url: str,
    body: str | None,
    seconds: float,
    connections: int,
    content_type: str,
    extra: dict[str, str],
) -> float:
    host_port = url.split("//", 1)[1].split("/", 1)
    host, port = host_port[0].rsplit(":", 1)
    path = "/" + (host_port[1] if len(host_port) > 1 else "")
    counts = [0] * connections
    stop = monotonic() + seconds

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        headers = {"Content-Type": content_type} if body is not None else {}
        headers.update(extra)
        while monotonic() < stop:
            connection.request(
                "POST" if body is not None else "GET", path, body=body, headers=headers
            )
            response = connection.getresponse()
            response.read()
            if response.status >= 400:
                raise RuntimeError(f"{response.status} from {url}: fix the request")
            counts[index] += 1
        connection.close()

    started = monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (monotonic() - started)

"""The QuickStream token request through nginx with 1, 2 and 3 instances on PostgreSQL.

Beside them, one instance on the in-memory store, in the same run. Prints requests per second
and p50/p99 latency (wrk ``--latency``) for each row, and each row's throughput as a ratio of
the memory instance. Everything is on loopback: a throwaway PostgreSQL cluster and nginx are
started here (the same launchers the cluster test uses) and stopped at the end. Bounded.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import ROOT, free_port, wait_until_up

sys.path.insert(0, str(ROOT))
from tests.services import nginx, nginx_missing, postgres_cluster, postgres_missing

FORM = (
    "username=merchant&password=merchant-secret&supplierBusinessCode=SUPPLIER1"
    "&connectionType=QUICKWEB&product=QUICKWEB&currencyCode=AUD&principalAmount=100.00"
)
PATH = "/quickstream/CommunityTokenRequestServlet"


@dataclass
class Row:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float


@contextmanager
def serve(*args: str) -> Iterator[str]:
    """One `mockbank serve` on free ports; its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockbank.cli",
            "serve",
            "--port",
            str(port),
            "--proxy-port",
            str(free_port()),
            "--quiet",
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port, timeout=60)
        yield f"127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)$", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def measure(label: str, url: str, seconds: int, connections: int) -> Row:
    """wrk against `url` (the token request POST): throughput and latency percentiles."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(
            f'wrk.method = "POST"\nwrk.body = "{FORM}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        )
    try:
        done = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                lua.name,
                url + PATH,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        os.unlink(lua.name)
    out = done.stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The "Latency Distribution" lines (a line of its own: "Stdev" columns also end in "50%").
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    return Row(label, rps, p50, p99)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-instances", type=int, default=3)
    args = parser.parse_args()
    for missing in (postgres_missing(), nginx_missing()):
        if missing:
            print(f"skipped: {missing}")
            return 0
    rows: list[Row] = []
    with ExitStack() as stack:
        memory = stack.enter_context(serve())
        rows.append(
            measure("1 instance, memory store", f"http://{memory}", args.seconds, args.connections)
        )
        cluster = stack.enter_context(postgres_cluster())
        dsn = cluster.database("bench")
        instances: list[str] = []
        for count in range(1, args.max_instances + 1):
            instances.append(stack.enter_context(serve("--store", dsn, "--instance", f"i{count}")))
            prefix = Path(tempfile.mkdtemp(prefix="mockbank-nginx-"))
            with nginx(prefix, list(instances)) as balancer:
                rows.append(
                    measure(
                        f"{count} instance(s), PostgreSQL, nginx",
                        balancer.url,
                        args.seconds,
                        args.connections,
                    )
                )
    base = rows[0].rps
    print(f"token request, wrk -c{args.connections} -d{args.seconds}s, {os.cpu_count()} cores")
    print(f"{'setup':<36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs memory':>10}")
    for row in rows:
        print(
            f"{row.label:<36} {row.rps:>8.0f} {row.p50_ms:>8.2f} {row.p99_ms:>8.2f}"
            f" {row.rps / base:>9.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

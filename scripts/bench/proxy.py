"""Requests per second through the Forter HTTPS proxy against direct HTTPS, in one run.

Everything is on loopback: a small HTTPS target (its certificate minted by the proxy's CA),
the mockbank app and its proxy, each in its own process, as in real use. One python-requests
session with keep-alive is the client for both sides (urllib3 pools the direct connection and
the proxy tunnel separately), so the ratio shows the proxy's own cost: TLS termination,
detokenization, journal, and the forwarded call. The goal (issue 16): at least 70% of direct
throughput.

Method: after a warm-up, many short rounds alternate direct and proxied (ABBA order, so a slow
drift of machine load falls on both sides); each round pair gives a ratio and the median
ratio is the result. On a busy machine wall-clock rates swing widely, so the run also prints
the CPU time per request of each process (client, target, proxy), which load barely moves.

    python scripts/bench/proxy.py --requests 2000
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from mockbank import create_app
from mockbank.clock import monotonic
from mockbank.providers.forter.proxy import ForterProxy
from mockbank.proxy.ca import LocalCA

TOKEN = "ftr1df95272f9e204c5791427722cc4ef407"
BODY = (
    '{"card": {"number": "{{ card_number }}", "expiry": "{{ expiration_mm }}/{{ expiration_yy }}"}}'
)


class _Target(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = b'{"status": "AUTHORIZED"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _rate(count: int, send: Any) -> float:
    started = monotonic()
    for _ in range(count):
        send()
    return count / (monotonic() - started)


def _serve_target(ca_dir: str, ports: Any, stop: Any) -> None:
    """Child process: the HTTPS target, until `stop` is set."""
    ca = LocalCA.load_or_create(ca_dir)
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    target.daemon_threads = True
    target.socket = ca.server_context("127.0.0.1").wrap_socket(target.socket, server_side=True)
    thread = threading.Thread(target=target.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    ports.put(("target", target.server_address[1]))
    stop.wait()
    target.shutdown()
    target.server_close()


def _serve_proxy(ca_dir: str, ports: Any, stop: Any) -> None:
    """Child process: the mockbank app and its proxy, as `mockbank serve` runs them."""
    app = create_app({"journal_capacity": 1000})
    proxy = ForterProxy(app, "127.0.0.1", 0, ca_dir=Path(ca_dir))
    proxy.start()
    ports.put(("proxy", proxy.port))
    stop.wait()
    proxy.stop()
    app.extensions["mockbank"].close()


@dataclass(frozen=True)
class Pair:
    """A running HTTPS target and Forter proxy, each in its own process."""

    url: str
    proxy_url: str
    cert_path: str
    pids: dict[str, int | None]
    tmp: Path


@contextmanager
def running_pair() -> Iterator[Pair]:
    """Start the target and the proxy in processes of their own (and GILs), as in real use."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        ca = LocalCA.load_or_create(Path(tmp) / "ca")
        ports, stop = context.Queue(), context.Event()
        children = [
            context.Process(target=run, args=(str(ca.directory), ports, stop), daemon=True)
            for run in (_serve_target, _serve_proxy)
        ]
        for child in children:
            child.start()
        try:
            found = dict(ports.get(timeout=60) for _ in children)
            yield Pair(
                url=f"https://127.0.0.1:{found['target']}/authorize",
                proxy_url=f"http://SITE_ID:SITE_SECRET@127.0.0.1:{found['proxy']}",
                cert_path=str(ca.cert_path),
                pids={"target": children[0].pid, "proxy": children[1].pid},
                tmp=Path(tmp),
            )
        finally:
            stop.set()
            for child in children:
                child.join(timeout=10)


def compare(count: int, rounds: int) -> _Result:
    """Direct and proxied HTTPS in alternating rounds."""
    with running_pair() as pair:
        return _measure(pair.url, pair.proxy_url, pair.cert_path, count, rounds, pair.pids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per side")
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds per side")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be between 1 and 100000")
    if not 1 <= args.rounds <= 1000:
        parser.error("--rounds must be between 1 and 1000")
    result = compare(args.requests, args.rounds)
    print(
        f"direct HTTPS:        {result.direct:8.1f} req/s (median round, {args.requests} requests)"
    )
    print(
        f"through HTTPS proxy: {result.proxied:8.1f} req/s (median round, {args.requests} requests)"
    )
    print(
        f"ratio proxy/direct:  {result.ratio:8.2f} (goal >= 0.70; median of "
        f"{len(result.ratios)} round pairs, middle half {result.low:.2f}-{result.high:.2f})"
    )
    for side, costs in (("direct", result.cpu_direct), ("proxied", result.cpu_proxied)):
        if costs:
            shown = ", ".join(f"{name} {ms:.3f}" for name, ms in costs.items())
            print(f"CPU ms per request, {side + ':':8} {shown}")
    load = _load_average()
    if load is not None and load > (os.cpu_count() or 1):
        print(
            f"note: load average {load:.1f} on {os.cpu_count()} CPUs; wall-clock rates are "
            "noisy, the CPU figures are the steadier comparison"
        )
    return 0


class _Result:
    def __init__(
        self,
        direct: list[float],
        proxied: list[float],
        cpu_direct: dict[str, float],
        cpu_proxied: dict[str, float],
    ) -> None:
        self.direct = statistics.median(direct)
        self.proxied = statistics.median(proxied)
        self.ratios = sorted(p / d for d, p in zip(direct, proxied, strict=True))
        self.ratio = statistics.median(self.ratios)
        quarter = len(self.ratios) // 4
        self.low, self.high = self.ratios[quarter], self.ratios[-1 - quarter]
        self.cpu_direct, self.cpu_proxied = cpu_direct, cpu_proxied


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of another process (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class _CpuMeter:
    """CPU time per request of the client (this process) and the children, over rounds."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self.totals: dict[str, float] = {}
        self.count = 0

    def run(self, count: int, send: Any) -> float:
        before = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
        client = time.process_time()
        rate = _rate(count, send)
        spent = {"client": time.process_time() - client}
        for name, pid in self.pids.items():
            after, start = _cpu_seconds(pid), before[name]
            if after is not None and start is not None:
                spent[name] = after - start
        for name, seconds in spent.items():
            self.totals[name] = self.totals.get(name, 0.0) + seconds
        self.count += count
        return rate

    def per_request_ms(self) -> dict[str, float]:
        return {name: total / self.count * 1000 for name, total in self.totals.items()}


def _measure(
    url: str, proxy_url: str, ca: str, count: int, rounds: int, pids: dict[str, int | None]
) -> _Result:
    """Alternating rounds, direct and proxied, on one keep-alive session."""
    proxies = {"https": proxy_url}
    direct_body = BODY.replace("{{ card_number }}", "4111111111111111").replace(
        "{{ expiration_mm }}/{{ expiration_yy }}", "08/30"
    )
    with requests.Session() as session:

        def send_direct() -> None:
            session.post(
                url,
                data=direct_body,
                headers={"Content-Type": "application/json"},
                verify=ca,
                timeout=10,
            ).raise_for_status()

        def send_proxied() -> None:
            session.post(
                url,
                data=BODY,
                headers={"forter-token": TOKEN, "Content-Type": "application/json"},
                proxies=proxies,
                verify=ca,
                timeout=10,
            ).raise_for_status()

        for _ in range(min(50, count)):  # warm up: connections, TLS, leaf certificates
            send_direct()
            send_proxied()
        rounds = min(rounds, count)
        per_round = max(1, count // rounds)
        meters = {"direct": _CpuMeter(pids), "proxied": _CpuMeter(pids)}
        direct_rates, proxy_rates = [], []
        for index in range(rounds):
            # ABBA: direct first in even rounds, proxied first in odd ones.
            if index % 2 == 0:
                direct_rates.append(meters["direct"].run(per_round, send_direct))
                proxy_rates.append(meters["proxied"].run(per_round, send_proxied))
            else:
                proxy_rates.append(meters["proxied"].run(per_round, send_proxied))
                direct_rates.append(meters["direct"].run(per_round, send_direct))
        return _Result(
            direct_rates,
            proxy_rates,
            meters["direct"].per_request_ms(),
            meters["proxied"].per_request_ms(),
        )


if __name__ == "__main__":
    sys.exit(main())

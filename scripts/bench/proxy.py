"""Requests per second through the Forter HTTPS proxy against direct HTTPS, in one run.

Everything is on loopback: a small HTTPS target (its certificate minted by the proxy's CA),
the mockbank app, and the proxy. Each client is one python-requests session with keep-alive,
so the ratio shows the proxy's own cost: TLS termination, detokenization, journal, and the
forwarded call. DESIGN §4 asks for at least 50% of direct throughput.

    python scripts/bench/proxy.py --requests 500
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from mockbank import create_app
from mockbank.proxy.ca import LocalCA
from mockbank.proxy.server import ForterProxy

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
    started = time.perf_counter()
    for _ in range(count):
        send()
    return count / (time.perf_counter() - started)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per measurement")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be between 1 and 100000")
    # Target, proxy and client each get their own process (and GIL), as in real use.
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
            url = f"https://127.0.0.1:{found['target']}/authorize"
            proxy_url = f"http://SITE_ID:SITE_SECRET@127.0.0.1:{found['proxy']}"
            rates = _measure(url, proxy_url, str(ca.cert_path), args.requests)
        finally:
            stop.set()
            for child in children:
                child.join(timeout=10)
    direct_rate, proxy_rate = rates
    print(f"direct HTTPS:        {direct_rate:8.1f} req/s ({args.requests} requests)")
    print(f"through HTTPS proxy: {proxy_rate:8.1f} req/s ({args.requests} requests)")
    print(f"ratio proxy/direct:  {proxy_rate / direct_rate:8.2f} (DESIGN bar: >= 0.50)")
    return 0


def _measure(url: str, proxy_url: str, ca: str, count: int) -> tuple[float, float]:
    """Requests per second direct and through the proxy (keep-alive sessions both).

    The two are measured in alternating rounds and the median round of each is kept, so a
    burst of load from elsewhere on the machine does not land on one side only.
    """
    proxies = {"https": proxy_url}
    with requests.Session() as direct, requests.Session() as proxied:
        body = BODY.replace("{{ card_number }}", "4111111111111111")

        def send_direct() -> None:
            direct.post(url, data=body, verify=ca, timeout=10).raise_for_status()

        def send_proxied() -> None:
            proxied.post(
                url,
                data=BODY,
                headers={"forter-token": TOKEN, "Content-Type": "application/json"},
                proxies=proxies,
                verify=ca,
                timeout=10,
            ).raise_for_status()

        for _ in range(min(20, count)):  # warm up: connections, TLS, leaf certificates
            send_direct()
            send_proxied()
        rounds = 5 if count >= 50 else 1
        per_round = max(1, count // rounds)
        direct_rates, proxy_rates = [], []
        for _ in range(rounds):
            direct_rates.append(_rate(per_round, send_direct))
            proxy_rates.append(_rate(per_round, send_proxied))
        return statistics.median(direct_rates), statistics.median(proxy_rates)


if __name__ == "__main__":
    sys.exit(main())

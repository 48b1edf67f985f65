"""A long mixed soak against one `mockbank serve`: does its memory stay flat?

Sends a bounded number of requests (default 100,000) over a few keep-alive connections: token
requests, tokenizations, QR challenges, detokenizations, reads, and bad input for every
provider, moving the app clock two hours every 1,000 requests so that records expire as they
would in a long-lived sandbox. Prints the server's RSS at each tenth, then the slope and the
growth over the second half. Loopback only; it stops by itself (the request count, and
``--timeout`` for the whole run) and stops the server it started.

    python scripts/bench/soak.py                      # the full figure (minutes)
    python scripts/bench/soak.py --requests 2000      # a short form
    python scripts/bench/soak.py --state /tmp/soak    # the same on the SQLite store
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import free_port, wait_until_up

from mockbank.clients.centagate import sign as centagate_sign
from mockbank.clients.syspay import wsse_header
from mockbank.clock import monotonic, wall_epoch

ROOT = Path(__file__).resolve().parents[2]
ADVANCE_EVERY = 1000
ADVANCE_S = 7200
FORM = "application/x-www-form-urlencoded"
FORTER_AUTH = "Basic " + base64.b64encode(b"SITE_ID:SITE_SECRET").decode()


@dataclass
class Run:
    """What the client threads share: the server clock's lead over wall time, the counts."""

    tokenos_member: str
    advance: bool = True
    clock_lead: float = 0.0
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def server_now(self) -> int:
        return int(wall_epoch() + self.clock_lead)


Request = tuple[str, str, bytes | None, dict[str, str]]


def _json(method: str, path: str, body: object, **headers: str) -> Request:
    return method, path, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}


def _quickstream(run: Run, n: int) -> Request:
    password = "merchant-secret" if n % 2 else "wrong"
    form = (
        f"username=merchant&password={password}&supplierBusinessCode=SUPPLIER1"
        f"&connectionType=QUICKWEB&product=QUICKWEB&principalAmount=10.00"
        f"&paymentReference=soak{n}&customerReferenceNumber=c{n}&currencyCode=AUD"
        f"&returnUrl=http://127.0.0.1:9/back&cancelUrl=http://127.0.0.1:9/cancel"
    )
    return (
        "POST",
        "/quickstream/CommunityTokenRequestServlet",
        form.encode(),
        {"Content-Type": FORM},
    )


def _forter(run: Run, n: int) -> Request:
    card = {"cardNumber": "4111111111111111", "expirationMonth": "12", "expirationYear": "2030"}
    body = {**card, "cvc": "123"} if n % 2 else {"cardNumber": "12"}
    path = "/forter/v1/tokenization/tokenize-single-use"
    return _json("POST", path, body, Authorization=FORTER_AUTH)


def _centagate(run: Run, n: int) -> Request:
    body = {
        "username": "alice",
        "devAccId": "alice-device-1",
        "integrationKey": "mockbank-integration-key",
        "details": base64.b64encode(f"Pay RM {n} to Bob".encode()).decode(),
        "unixTimestamp": str(run.server_now()),
    }
    body["hmac"] = centagate_sign(body, "mockbank-secret-key")
    return _json("POST", "/centagate/v2/CentagateWS/webresources/req/requestQrCode", body)


def _syspay(run: Run, n: int) -> Request:
    header = wsse_header("myPartnerLogin", "myPartnerPassphrase", created=run.server_now())
    body = {"type": "TEXT", "viewer": f"soak-{n}", "company_reference": "4242"}
    path = "/syspay/api/v2/partner/token/1000001/detokenize"
    return _json("POST", path, body, **{"X-Wsse": header})


def _tokenos(run: Run, n: int) -> Request:
    basic = base64.b64encode(f"{run.tokenos_member}:sandbox-api-key".encode()).decode()
    return (
        "GET",
        f"/tokenos/banks?page=1&perPage={1 + n % 5}",
        None,
        {"Authorization": f"Basic {basic}"},
    )


def _bad_input(run: Run, n: int) -> Request:
    prefix = ["/quickstream", "/syspay", "/centagate", "/forter", "/tokenos"][n % 5]
    return (
        "POST",
        f"{prefix}/no-such-endpoint",
        b'{"deep": ' * 50 + b"1" + b"}" * 50,
        {"Content-Type": "application/json"},
    )


def _control(run: Run, n: int) -> Request:
    path = "/_mockbank/health" if n % 2 else "/_mockbank/requests?limit=5"
    return "GET", path, None, {}


MIX: list[Callable[[Run, int], Request]] = [
    _quickstream,
    _forter,
    _centagate,
    _syspay,
    _tokenos,
    _bad_input,
    _control,
    _quickstream,
    _forter,
    _tokenos,
]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def _send(connection: http.client.HTTPConnection, request: Request) -> int:
    method, path, body, headers = request
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


def _advance_clock(connection: http.client.HTTPConnection, run: Run) -> None:
    connection.request(
        "POST",
        "/_mockbank/clock",
        body=json.dumps({"advance": ADVANCE_S}),
        headers={"Content-Type": "application/json"},
    )
    response = connection.getresponse()
    answer = json.loads(response.read())
    run.clock_lead = float(answer["epoch"]) - wall_epoch()


def _worker(port: int, run: Run, total: int, deadline: float) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        while True:
            with run.lock:
                if run.sent >= total or monotonic() > deadline:
                    return
                run.sent += 1
                n = run.sent
            if run.advance and n % ADVANCE_EVERY == 0:
                _advance_clock(connection, run)
            status = _send(connection, MIX[n % len(MIX)](run, n))
            with run.lock:
                run.statuses[status] = run.statuses.get(status, 0) + 1
    finally:
        connection.close()


def _sample_tenths(
    pid: int, run: Run, total: int, workers: list[threading.Thread]
) -> list[tuple[int, float]]:
    """RSS each time another tenth of the requests has been sent."""
    samples = [(0, rss_mib(pid))]
    print(f"{'requests':>9}  {'RSS MiB':>8}", flush=True)
    print(f"{0:>9}  {samples[0][1]:>8.1f}", flush=True)
    tenth = 1
    while tenth <= 10:
        alive = any(w.is_alive() for w in workers)
        if run.sent >= total * tenth // 10 or not alive:
            samples.append((run.sent, rss_mib(pid)))
            print(f"{run.sent:>9}  {samples[-1][1]:>8.1f}", flush=True)
            tenth += 1
            continue
        time.sleep(0.02)
    return samples


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares MiB per request."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return 0.0 if spread == 0 else sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def tokenos_member() -> str:
    """The seeded TPP member, for the REST API's Basic sandbox key."""
    from mockbank.state import State

    state = State()
    try:
        return str(state.fixtures["tokenos"].member_by_name("tpp").member_id)
    finally:
        state.close()


def _serve(state_dir: str | None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "mockbank.cli", "serve", "--port", str(port)]
    command += ["--proxy-port", str(free_port()), "--quiet"]
    if state_dir:
        command += ["--state", state_dir]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    wait_until_up(port)
    return process, port


def soak(
    total: int, connections: int, timeout: float, state_dir: str | None, *, advance: bool = True
) -> int:
    run = Run(tokenos_member(), advance=advance)
    process, port = _serve(state_dir)
    started = monotonic()
    try:
        workers = [
            threading.Thread(
                target=_worker, args=(port, run, total, started + timeout), daemon=True
            )
            for _ in range(connections)
        ]
        for worker in workers:
            worker.start()
        samples = _sample_tenths(process.pid, run, total, workers)
        for worker in workers:
            worker.join(timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    elapsed = monotonic() - started
    second_half = [p for p in samples if p[0] >= samples[-1][0] // 2]
    half_rss, end_rss = second_half[0][1], samples[-1][1]
    print(f"requests sent: {run.sent} in {elapsed:.0f} s ({run.sent / elapsed:.0f}/s)")
    print("statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(run.statuses.items())))
    print(f"slope over the second half: {slope(second_half) * 10_000:+.2f} MiB per 10,000 requests")
    print(
        f"growth over the second half: {(end_rss - half_rss) / half_rss * 100:+.1f}% "
        f"({half_rss:.1f} -> {end_rss:.1f} MiB)"
    )
    server_errors = sum(v for k, v in run.statuses.items() if k >= 500)
    print(f"5xx answers: {server_errors}")
    return 0 if run.sent else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for the whole run")
    parser.add_argument("--state", default=None, help="a directory: soak the SQLite store")
    parser.add_argument(
        "--hold-clock",
        action="store_true",
        help="never move the app clock: every record stays alive (shows the cost per record)",
    )
    args = parser.parse_args()
    if args.requests < 10 or args.connections < 1:
        parser.error("--requests at least 10, --connections at least 1")
    with tempfile.TemporaryDirectory() as scratch:
        state = str(Path(scratch) / "state") if args.state == "temp" else args.state
        return soak(
            args.requests, args.connections, args.timeout, state, advance=not args.hold_clock
        )


if __name__ == "__main__":
    sys.exit(main())

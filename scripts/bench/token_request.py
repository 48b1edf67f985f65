"""QuickStream's secure token request under load, as ratios measured in one run.

DESIGN §4: `mockbank serve` should reach at least 80% of a minimal Flask app doing the same
checks on the same server (mockbank's default, granian), and at least a quarter of WireMock
serving a static stub of the same request (measured only where Java and the npm package
``wiremock`` are present). A bare WSGI app on the same server shows the server's own ceiling.
Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from harness import ROOT, free_port, load, wait_until_up, waitress_app

from mockbank.serving import DEFAULT_SERVER

# WireMock's jar (npm ``wiremock``), installed once and kept between runs.
WIREMOCK_CACHE = Path.home() / ".cache" / "mockbank-bench" / "wiremock"

FORM = urlencode({
    "username": "merchant", "password": "merchant-secret", "supplierBusinessCode": "SUPPLIER1",
    "connectionType": "QUICKWEB", "product": "QUICKWEB", "currencyCode": "AUD",
    "principalAmount": "100.00", "paymentReference": "INV-1001",
    "returnUrl": "https://yoursite.com.au/thankyou", "cancelUrl": "https://yoursite.com.au/x",
})  # fmt: skip

# The same checks QuickStream's token request makes, written as plainly as Flask allows.
MINIMAL_FLASK = """
import hmac, re, secrets, threading, time
from urllib.parse import urlsplit
from flask import Flask, request, Response
app = Flask(__name__)
tokens, lock = {}, threading.Lock()
ENUMS = {"connectionType": {"QUICKWEB", "QUICKFRAME", "INVOICING", "QUICKCONNECT"},
         "product": {"RECURRING", "INVOICING", "QUICKVAULT", "QUICKWEB"},
         "currencyCode": {"AUD", "NZD"}}
AMOUNT = re.compile(r"^\\d{1,9}(\\.\\d{1,2})?$")

@app.post("/CommunityTokenRequestServlet")
def token():
    if request.remote_addr not in ("127.0.0.1", "::1"):
        return Response("error=IP not allowed", 403, mimetype="text/plain")
    form = request.form
    for name in ("username", "password", "supplierBusinessCode", "connectionType", "product"):
        if not form.get(name):
            return Response(f"error={name} is required", 400, mimetype="text/plain")
    ok = hmac.compare_digest(form["username"].encode(), b"merchant") & hmac.compare_digest(
        form["password"].encode(), b"merchant-secret")
    if not ok or form["supplierBusinessCode"] != "SUPPLIER1":
        return Response("error=bad credentials", 401, mimetype="text/plain")
    for name, allowed in ENUMS.items():
        if name in form and form[name] not in allowed:
            return Response(f"error={name} is invalid", 400, mimetype="text/plain")
    if "principalAmount" in form and not AMOUNT.match(form["principalAmount"]):
        return Response("error=principalAmount is invalid", 400, mimetype="text/plain")
    for name in ("returnUrl", "cancelUrl", "serverReturnUrl"):
        if name in form and urlsplit(form[name]).scheme not in ("https", "http"):
            return Response(f"error={name} is invalid", 400, mimetype="text/plain")
    token = secrets.token_urlsafe(40)
    with lock:
        tokens[token] = (time.monotonic() + 3600, dict(form))
    return Response("token=" + token, mimetype="text/plain")
"""

BARE_WSGI = """
def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "60")])
    return [b"token=" + b"x" * 54]
"""


@contextmanager
def mockbank_serve() -> Iterator[str]:
    """`mockbank serve` in a subprocess; yields the token request URL."""
    port = free_port()
    env = {**os.environ, "MOCKBANK_PORT": str(port), "MOCKBANK_PROXY_PORT": str(free_port())}
    process = subprocess.Popen(
        [sys.executable, "-m", "mockbank.cli", "serve", "--quiet"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        yield f"http://127.0.0.1:{port}/quickstream/CommunityTokenRequestServlet"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def interleaved(
    urls: dict[str, str], rounds: int, seconds: float, connections: int
) -> dict[str, float]:
    """Median req/s of each URL over alternating rounds, so drift hits every side alike."""
    for url in urls.values():
        load(url, FORM, seconds=1, connections=connections)  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, url in urls.items():
            samples[name].append(load(url, FORM, seconds=seconds, connections=connections))
    return {name: statistics.median(values) for name, values in samples.items()}


def _wiremock_jar(install: bool) -> Path | None:
    jars = sorted(WIREMOCK_CACHE.rglob("wiremock*standalone*.jar"))
    if jars or not install or not shutil.which("npm"):
        return jars[-1] if jars else None
    WIREMOCK_CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "wiremock"],
        cwd=WIREMOCK_CACHE, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    jars = sorted(WIREMOCK_CACHE.rglob("wiremock*standalone*.jar"))
    return jars[-1] if jars else None


@contextmanager
def wiremock(enabled: bool, warm_s: float) -> Iterator[str | None]:
    """WireMock serving a static token stub; None (and a note printed) when it cannot run."""
    jar = _wiremock_jar(enabled) if enabled and shutil.which("java") else None
    if jar is None:
        why = "disabled" if not enabled else "needs java (Debian default-jre-headless) and npm"
        print(f"WireMock: skipped ({why}; the npm package wiremock bundles the jar)", flush=True)
        yield None
        return
    with tempfile.TemporaryDirectory() as directory:
        mappings = Path(directory, "mappings")
        mappings.mkdir()
        (mappings / "token.json").write_text(
            '{"request": {"method": "POST", "url": "/CommunityTokenRequestServlet"},'
            ' "response": {"status": 200, "body": "token=stub", '
            '"headers": {"Content-Type": "text/plain"}}}'
        )
        port = free_port()
        command = [
            "java", "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1",
            "--root-dir", directory, "--disable-request-logging", "--no-request-journal",
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(port, timeout=90)
            url = f"http://127.0.0.1:{port}/CommunityTokenRequestServlet"
            load(url, FORM, seconds=warm_s, connections=16)  # the JIT warms up first
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-wiremock", action="store_true")
    args = parser.parse_args()
    with (
        mockbank_serve() as mockbank_url,
        waitress_app(MINIMAL_FLASK, server=DEFAULT_SERVER) as minimal_base,
        waitress_app(BARE_WSGI, server=DEFAULT_SERVER) as bare_base,
        wiremock(not args.no_wiremock, warm_s=5) as wiremock_url,
    ):
        urls = {
            "mockbank": mockbank_url,
            "minimal": minimal_base + "/CommunityTokenRequestServlet",
            "bare": bare_base + "/CommunityTokenRequestServlet",
        }
        if wiremock_url:
            urls["wiremock"] = wiremock_url
        rates = interleaved(urls, args.rounds, args.seconds, args.connections)
    mockbank, minimal, bare = rates["mockbank"], rates["minimal"], rates["bare"]
    stub = rates.get("wiremock")
    rounds = f"{args.rounds} alternating rounds of {args.seconds:g} s each"
    print(f"median of {rounds}, every app on {DEFAULT_SERVER}")
    print(f"mockbank serve, token request:   {mockbank:9.0f} req/s")
    print(f"minimal Flask, same checks:      {minimal:9.0f} req/s")
    print(f"bare WSGI app, same server:      {bare:9.0f} req/s")
    print(f"mockbank / minimal Flask = {mockbank / minimal:.2f} (target >= 0.80)")
    print(f"mockbank / bare WSGI     = {mockbank / bare:.2f}")
    if stub is None:
        print("WireMock: not measured (needs java and the npm package wiremock)")
    else:
        print(f"WireMock static stub:            {stub:9.0f} req/s")
        print(f"mockbank / WireMock      = {mockbank / stub:.2f} (target >= 0.25)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

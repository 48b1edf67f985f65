"""Where a request's time goes, layer by layer: a sampling profile (pyinstrument) of three paths.

- ``token``: QuickStream's secure token request, the WSGI app called directly (what a server
  calls), plus the server's own cost per request, measured apart (below);
- ``inprocess``: the same request through python-requests and ``responses`` into the app
  (`mockbank.testing.InProcess`);
- ``proxy``: a Forter proxy request as the proxy hands it to the app (CONNECT done, TLS
  terminated: the app call and the forward to an HTTPS target on loopback).

Each sample's time goes to the innermost frame that belongs to a layer (a store call made by
provider code is store time; the rest of the view is provider logic). The server's cost is the
CPU time per request of mockbank's server process serving a bare WSGI app under load (wrk when
installed), read from /proc: Rust code the Python profiler cannot see.

    python scripts/bench/layers.py [--calls 3000] [--paths token,inprocess,proxy]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockbank.clock import monotonic

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from token_request import FORM  # noqa: E402

TOKEN_PATH = "/quickstream/CommunityTokenRequestServlet"
LAYERS = (
    "server",
    "Flask dispatch",
    "request hooks",
    "journal/masking",
    "store",
    "provider logic",
    "response building",
    "requests + responses",
    "proxy",
    "TLS + sockets",
    "other",
)

# (layer, path fragment, function names or None for any): the first match wins.
RULES: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("journal/masking", "mockbank/routing.py", ("_journal", "_journal_safely")),
    ("journal/masking", "mockbank/journal", None),
    ("journal/masking", "mockbank/masking.py", None),
    ("store", "mockbank/store", None),
    ("store", "mockbank/clock.py", None),
    ("store", "mockbank/sandboxes.py", ("add", "put", "get", "record", "take_once", "update")),
    ("request hooks", "mockbank/routing.py", None),
    ("request hooks", "mockbank/guards.py", None),
    ("request hooks", "mockbank/accesslog.py", None),
    ("request hooks", "mockbank/sandboxes.py", None),
    ("request hooks", "mockbank/faults.py", None),
    ("request hooks", "mockbank/context.py", None),
    ("request hooks", "mockbank/state.py", ("current_state", "request_id")),
    ("proxy", "mockbank/proxy/", None),
    ("requests + responses", "mockbank/testing.py", None),
    ("provider logic", "mockbank/", None),
    ("response building", "werkzeug/wrappers/response.py", None),
    ("response building", "werkzeug/sansio/response.py", None),
    ("response building", "flask/json", None),
    ("response building", "jinja2/", None),
    ("response building", "flask/app.py", ("make_response", "finalize_request")),
    ("Flask dispatch", "flask/", None),
    ("Flask dispatch", "werkzeug/", None),
    ("requests + responses", "requests/", None),
    ("requests + responses", "responses/", None),
    ("requests + responses", "urllib3/", None),
]


def layer_of(frame: Any) -> str | None:
    path = (frame.file_path or "").replace("\\", "/")
    if "/scripts/bench/" in path:
        return None
    for layer, fragment, functions in RULES:
        if fragment in path and (functions is None or frame.function in functions):
            return layer
    return None


def attribute(frame: Any, inherited: str, totals: dict[str, float]) -> None:
    """Add each frame's own time to its innermost layer."""
    layer = layer_of(frame) or inherited
    own = frame.time - sum(child.time for child in frame.children)
    totals[layer] = totals.get(layer, 0.0) + max(own, 0.0)
    for child in frame.children:
        attribute(child, layer, totals)


def profile(call: Callable[[], Any], calls: int) -> tuple[float, dict[str, float]]:
    """CPU µs per call without the profiler, and µs per call of each layer under it.

    CPU time of this process (`time.process_time`), not wall time: on a machine shared with
    other work wall time mostly measures the wait for a core."""
    from pyinstrument import Profiler

    for _ in range(min(200, calls)):
        call()
    started = time.process_time()
    for _ in range(calls):
        call()
    per_call = (time.process_time() - started) / calls * 1e6
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(calls):
        call()
    profiler.stop()
    totals: dict[str, float] = {}
    root = profiler.last_session.root_frame()
    if root is not None:
        attribute(root, "other", totals)
    profiled = sum(totals.values()) or 1.0
    # Scale the profile's shares to the unprofiled CPU time per call.
    return per_call, {k: v / profiled * per_call for k, v in totals.items()}


def wsgi_caller(app: Any, path: str, body: bytes) -> Callable[[], Any]:
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path=path,
        method="POST",
        data=body,
        content_type="application/x-www-form-urlencoded",
        environ_base={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1"},
    )
    template = builder.get_environ()
    builder.close()

    def call() -> bytes:
        environ = dict(template)
        environ["wsgi.input"] = io.BytesIO(body)
        statuses: list[str] = []
        result = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        data = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{statuses[0]}: {data[:200]!r}")
        return data

    return call


def token_path(calls: int) -> tuple[float, dict[str, float]]:
    from mockbank import create_app

    app = create_app()
    try:
        return profile(wsgi_caller(app, TOKEN_PATH, FORM.encode()), calls)
    finally:
        app.extensions["mockbank"].close()


def inprocess_path(calls: int) -> tuple[float, dict[str, float]]:
    import requests
    from inprocess import FORM as IN_FORM
    from inprocess import URL

    from mockbank import create_app
    from mockbank.testing import InProcess

    app = create_app()
    session = requests.Session()

    def call() -> None:
        response = session.post(URL, data=IN_FORM)
        if response.status_code != 200:
            raise RuntimeError(response.text)

    try:
        with InProcess(app):
            return profile(call, calls)
    finally:
        app.extensions["mockbank"].close()


def proxy_path(calls: int) -> tuple[float, dict[str, float]]:
    """py-spy samples the proxy's process (every thread) while a client sends `calls` requests."""
    import subprocess

    from proxy import _measure, running_pair

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with running_pair() as pair:
        url, proxy_url, cert = pair.url, pair.proxy_url, pair.cert_path
        pid = pair.pids["proxy"] or 0
        _measure(url, proxy_url, cert, 100, 1, {})  # warm up
        raw = pair.tmp / "spy.txt"
        recorder = subprocess.Popen(
            [
                spy,
                "record",
                "--gil",
                "-r",
                str(SPY_RATE),
                "-f",
                "raw",
                "-o",
                str(raw),
                "-p",
                str(pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches
        before = _cpu(pid)
        _measure(url, proxy_url, cert, calls, 2, {"proxy": pid})
        after = _cpu(pid)
        recorder.send_signal(2)
        recorder.wait(timeout=30)
        stacks = raw.read_text() if raw.exists() else ""
        if os.environ.get("LAYERS_DUMP"):
            Path(os.environ["LAYERS_DUMP"]).write_text(stacks)
    served = calls + min(50, calls)  # the proxied requests, warm-up included
    cpu = (after - before) / served * 1e6 if before is not None and after is not None else 0.0
    layers = _collapsed_layers(stacks, 1e6 / SPY_RATE / served)
    # Time outside the GIL: OpenSSL, socket calls and the kernel (no Python frame to sample).
    layers["TLS + sockets"] = layers.get("TLS + sockets", 0.0) + max(
        0.0, cpu - sum(layers.values())
    )
    return max(cpu, sum(layers.values())), layers


SPY_RATE = 1000
_SPY_FRAME = re.compile(r"^(?P<function>.*?) \((?P<path>[^():]*)(?::\d+)?\)$")


class _SpyFrame:
    def __init__(self, text: str) -> None:
        match = _SPY_FRAME.match(text.strip())
        self.function = match.group("function") if match else text
        self.file_path = match.group("path") if match else ""


def _collapsed_layers(stacks: str, per_sample: float) -> dict[str, float]:
    """µs per request of each layer from py-spy's collapsed stacks ("frame;frame;... count")."""
    counts: dict[str, float] = {}
    for line in stacks.splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames or not count.isdigit():
            continue
        layer = "other"
        for text in frames.split(";"):
            layer = layer_of(_SpyFrame(text)) or _stdlib_layer(text) or layer
        counts[layer] = counts.get(layer, 0.0) + int(count)
    return {k: v * per_sample for k, v in counts.items()}


def _stdlib_layer(text: str) -> str | None:
    if "/ssl.py" in text or "/socket.py" in text or "/selectors.py" in text:
        return "TLS + sockets"
    return None


def server_cost(seconds: float) -> float | None:
    """CPU µs per request of mockbank's server serving a bare WSGI app (None without /proc)."""
    from harness import load, served_app
    from token_request import BARE_WSGI

    from mockbank.serving import DEFAULT_SERVER

    with served_app(BARE_WSGI, server=DEFAULT_SERVER) as (base, pid):
        url = base + TOKEN_PATH
        load(url, FORM, seconds=1, connections=16)
        before = _cpu(pid)
        started = monotonic()
        rate = load(url, FORM, seconds=seconds, connections=16)
        elapsed = monotonic() - started
        after = _cpu(pid)
    if before is None or after is None or rate <= 0:
        return None
    return (after - before) / (rate * min(elapsed, max(1.0, int(seconds)))) * 1e6


def _cpu(pid: int) -> float | None:
    import os

    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def print_table(name: str, per_call: float, layers: dict[str, float]) -> None:
    print(f"\n{name}: {per_call:.0f} us per request")
    print(f"  {'layer':22} {'us/request':>10} {'share':>6}")
    total = sum(layers.values()) or 1.0
    for layer in LAYERS:
        if layer in layers and layers[layer] >= 0.5:
            print(f"  {layer:22} {layers[layer]:10.0f} {layers[layer] / total:6.0%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--paths", default="token,inprocess,proxy")
    parser.add_argument("--server-seconds", type=float, default=3.0)
    args = parser.parse_args()
    paths = args.paths.split(",")
    if "token" in paths:
        per_call, layers = token_path(args.calls)
        server = server_cost(args.server_seconds)
        if server is not None:
            layers["server"] = server
            per_call += server
        print_table("QuickStream token request (server + WSGI app)", per_call, layers)
    if "inprocess" in paths:
        print_table("in-process mode (requests + responses)", *inprocess_path(args.calls))
    if "proxy" in paths:
        if shutil.which("py-spy") or Path(sys.executable).with_name("py-spy").exists():
            print_table("Forter proxy request (TLS in and out)", *proxy_path(args.calls))
        else:
            print("Forter proxy request: skipped, py-spy is not installed (pip install py-spy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

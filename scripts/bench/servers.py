"""Which WSGI server `mockbank serve` should run: mockbank's own app on each, side by side.

granian and waitress run as ``mockbank serve --server NAME``; cheroot (when installed: it is
not a dependency) runs the same app from a small runner. Rounds alternate between the servers
so a machine loaded by other work hurts each alike; ratios are taken within a round.
Measured: token-request throughput and p99 (wrk), a health call's latency with 1,000 idle
connections and a slowloris writer open, keep-alive, what a "drop" fault looks like to a client,
and Ctrl-C (time to exit, exit code, traceback or not). Loopback only; everything bounded.

    python scripts/bench/servers.py [--seconds 4] [--rounds 3] [--idle 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import ROOT, free_port, wait_until_up
from token_request import FORM

from mockbank.clock import monotonic

TOKEN_PATH = "/quickstream/CommunityTokenRequestServlet"
CHEROOT_RUNNER = """
import signal, sys
from cheroot.wsgi import Server
from mockbank.app import create_app
app = create_app({"state_path": None})
server = Server(("127.0.0.1", int(sys.argv[1])), app, numthreads=16, request_queue_size=1024)
signal.signal(signal.SIGTERM, lambda *_: server.stop())
try:
    server.start()
except KeyboardInterrupt:
    server.stop()
"""


def candidates() -> list[str]:
    found = ["granian", "waitress"]
    if importlib.util.find_spec("cheroot") is not None:
        found.append("cheroot")
    else:
        print("cheroot: skipped (pip install cheroot to compare it too)")
    return found


@contextmanager
def served(name: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        if name == "cheroot":
            runner = Path(directory) / "cheroot_runner.py"
            runner.write_text(CHEROOT_RUNNER)
            command = [sys.executable, str(runner), str(port)]
        else:
            command = [sys.executable, "-m", "mockbank.cli", "serve", "--quiet"]
            command += ["--server", name, "--port", str(port), "--proxy-port", "0"]
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_until_up(port)
            yield port, process
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def wrk(port: int, seconds: float) -> tuple[float, float]:
    """Token requests per second and the p99 latency in ms (16 connections)."""
    escaped = FORM.replace('"', '\\"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(
            f'wrk.method = "POST"\nwrk.body = "{escaped}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        )
    try:
        done = subprocess.run(
            [
                *("wrk", "-t2", "-c16", f"-d{max(1, int(seconds))}s", "--latency"),
                *("-s", lua.name, f"http://127.0.0.1:{port}{TOKEN_PATH}"),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        )
    finally:
        Path(lua.name).unlink()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", done.stdout)
    if rate is None or p99 is None or "Non-2xx" in done.stdout:
        raise RuntimeError(f"unexpected wrk output:\n{done.stdout}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return float(rate.group(1)), float(p99.group(1)) * scale


def health_ms(port: int) -> float:
    started = monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/_mockbank/health")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"health answered {response.status}")
    finally:
        connection.close()
    return (monotonic() - started) * 1000


def under_idle_load(port: int, idle: int) -> str:
    """Median health latency with `idle` idle sockets and a slowloris writer open."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(idle):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        sockets.append(slow)
        slow.sendall(b"GET /_mockbank/health HTTP/1.1\r\nX-Slow: ")
        time.sleep(0.5)
        timings = []
        for _ in range(3):
            try:
                timings.append(health_ms(port))
            except OSError as error:
                return f"no answer ({type(error).__name__})"
        return f"{statistics.median(timings):.1f} ms"
    finally:
        for sock in sockets:
            sock.close()


def keeps_alive(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        sockets = []
        for _ in range(2):
            connection.request("GET", "/_mockbank/health")
            response = connection.getresponse()
            response.read()
            sockets.append(connection.sock)
        return sockets[0] is sockets[1] and sockets[0] is not None
    finally:
        connection.close()


def drop_fault(port: int) -> str:
    """What a client sees when a 'drop' fault fires."""
    import json

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    fault = json.dumps({"provider": "quickstream", "drop": True}).encode()
    connection.request(
        "POST", "/_mockbank/faults", body=fault, headers={"Content-Type": "application/json"}
    )
    connection.getresponse().read()
    connection.close()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            TOKEN_PATH,
            body=FORM,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        body = response.read()
        return f"answered {response.status} with {len(body)} bytes (not dropped)"
    except (http.client.HTTPException, OSError) as error:
        return f"connection broken: {type(error).__name__}"
    finally:
        connection.close()


def ctrl_c(process: subprocess.Popen[bytes]) -> str:
    started = monotonic()
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return "did not stop within 15 s"
    took = monotonic() - started
    traceback = "traceback" if b"Traceback" in stderr else "no traceback"
    return f"exit {process.returncode} in {took:.2f} s, {traceback}"


def one_process(process: subprocess.Popen[bytes]) -> bool:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    return not children.exists() or not children.read_text().split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    names = candidates()
    if not shutil.which("wrk"):
        print("wrk: not installed (apt-get install wrk); throughput rows skipped")
    rates: dict[str, list[float]] = {name: [] for name in names}
    p99s: dict[str, list[float]] = {name: [] for name in names}
    facts: dict[str, dict[str, str]] = {name: {} for name in names}
    for round_number in range(args.rounds):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            with served(name) as (port, process):
                if shutil.which("wrk"):
                    wrk(port, 1)  # warm-up
                    rate, p99 = wrk(port, args.seconds)
                    rates[name].append(rate)
                    p99s[name].append(p99)
                    shown = f"{rate:8.0f} req/s  p99 {p99:6.1f} ms"
                    print(f"round {round_number + 1} {name:<9} {shown}")
                if round_number == 0:
                    facts[name]["idle"] = under_idle_load(port, args.idle)
                    facts[name]["keep-alive"] = "yes" if keeps_alive(port) else "no"
                    facts[name]["one process"] = "yes" if one_process(process) else "no"
                    facts[name]["drop fault"] = drop_fault(port)
                    facts[name]["ctrl-c"] = ctrl_c(process)
    report(names, rates, p99s, facts, args.idle)
    return 0


def report(
    names: list[str],
    rates: dict[str, list[float]],
    p99s: dict[str, list[float]],
    facts: dict[str, dict[str, str]],
    idle: int,
) -> None:
    print()
    for name in names:
        if rates[name]:
            print(
                f"{name:<9} median {statistics.median(rates[name]):8.0f} req/s, "
                f"p99 {statistics.median(p99s[name]):6.1f} ms"
            )
        for key, value in facts[name].items():
            label = f"health with {idle} idle + slowloris" if key == "idle" else key
            print(f"    {label}: {value}")
    base = "waitress"
    for name in names:
        if name == base or not rates[name]:
            continue
        ratios = [a / b for a, b in zip(rates[name], rates[base], strict=True)]
        p99_ratios = [a / b for a, b in zip(p99s[name], p99s[base], strict=True)]
        print(
            f"{name} / {base} throughput = {statistics.median(ratios):.2f} "
            f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}); "
            f"p99 = {statistics.median(p99_ratios):.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())

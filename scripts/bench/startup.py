"""How long `mockbank serve` takes from launch to answering GET /_mockbank/health, against a
minimal Flask app started on the same server (granian, embedded as mockbank embeds it).

The goal (issue 16): at most 1.3 times the minimal app. Launches alternate (mockbank, minimal,
mockbank, ...) so machine load falls on both; each figure is the median. The minimal app loads
`mockbank/serving.py` (and the clock it reads) from their files, so it runs the same server
code without importing mockbank's package.

Both run with bytecode caching on, as an installed package runs (pip compiles bytecode at
install; an environment that sets PYTHONDONTWRITEBYTECODE would otherwise have every launch
compile mockbank's sources again). One launch of each comes first, unmeasured, to write it.
Loopback only; every launch is stopped before the next.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import free_port

from mockbank.clock import monotonic

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = """
import importlib.util, sys, types
from flask import Flask

app = Flask(__name__)


@app.get("/_mockbank/health")
def health():
    return {"status": "ok"}


# mockbank's serving module and the clock it reads, loaded from their files: the same server
# code, without importing the mockbank package (and so mockbank's app) first.
sys.modules["mockbank"] = types.ModuleType("mockbank")


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


load("mockbank.clock", sys.argv[2] + "/clock.py")
serving = load("mockbank.serving", sys.argv[2] + "/serving.py")
serving.make_server("granian", app, "127.0.0.1", int(sys.argv[1]), 16).run()
"""


def mockbank_command(port: int) -> list[str]:
    return [sys.executable, "-m", "mockbank.cli", "serve", "--quiet", "--port", str(port)]


def _env(port: int) -> dict[str, str]:
    env = {**os.environ, "MOCKBANK_PORT": str(port), "MOCKBANK_PROXY_PORT": str(free_port())}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def time_to_health(command: list[str], port: int, deadline_s: float = 30.0) -> tuple[float, float]:
    """Launch `command` once: seconds until health answered 200, and the CPU seconds used."""
    started = monotonic()
    process = subprocess.Popen(
        command,
        env=_env(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        while monotonic() - started < deadline_s:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/_mockbank/health")
                if connection.getresponse().status == 200:
                    return monotonic() - started, _cpu_seconds(process.pid)
            except OSError:
                time.sleep(0.005)
        raise RuntimeError(f"no health answer within {deadline_s} s from {command[1:3]}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


Launch = tuple[float, float]  # wall seconds to health, CPU seconds used by then


def measure(runs: int) -> tuple[list[Launch], list[Launch]]:
    """(mockbank launches, minimal app launches), alternating, after a warm-up each."""
    with tempfile.TemporaryDirectory() as directory:
        runner = Path(directory) / "minimal_app.py"
        runner.write_text(MINIMAL)
        serving = str(ROOT / "mockbank")

        def minimal(port: int) -> list[str]:
            return [sys.executable, str(runner), str(port), serving]

        mockbank_times: list[Launch] = []
        minimal_times: list[Launch] = []
        for index in range(runs + 1):
            port = free_port()
            first = time_to_health(mockbank_command(port), port)
            port = free_port()
            second = time_to_health(minimal(port), port)
            if index:  # launch 0 writes the bytecode caches
                mockbank_times.append(first)
                minimal_times.append(second)
    return mockbank_times, minimal_times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    mockbank, minimal = measure(max(1, args.runs))
    print("launch to health, seconds: " + ", ".join(f"{t:.3f}" for t, _ in mockbank))
    print("minimal Flask app, same server, seconds: " + ", ".join(f"{t:.3f}" for t, _ in minimal))
    pairs = list(zip(mockbank, minimal, strict=True))
    wall = statistics.median(m[0] / n[0] for m, n in pairs)
    cpu = statistics.median(m[1] / n[1] for m, n in pairs if n[1] > 0) if minimal[0][1] else 0
    print(
        f"median {statistics.median(t for t, _ in mockbank):.3f} s vs "
        f"{statistics.median(t for t, _ in minimal):.3f} s: "
        f"start-up / minimal Flask = {wall:.2f} (goal <= 1.30)"
    )
    if cpu:
        print(
            f"CPU seconds to health: {statistics.median(c for _, c in mockbank):.3f} vs "
            f"{statistics.median(c for _, c in minimal):.3f}, ratio {cpu:.2f} "
            "(steadier than wall time on a loaded machine)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

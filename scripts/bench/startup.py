"""How long `mockbank serve` takes from launch to answering GET /_mockbank/health.

Prints the figure for several launches (DESIGN §4 asks for under 0.5 s). Loopback only;
every launch is stopped before the next.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import free_port

from mockbank.clock import monotonic


def mockbank_command() -> list[str]:
    return [sys.executable, "-m", "mockbank.cli"]


def time_to_health(deadline_s: float = 20.0) -> float:
    """Launch once and return the seconds until health answered 200."""
    port, proxy_port = free_port(), free_port()
    env = {**os.environ, "MOCKBANK_PORT": str(port), "MOCKBANK_PROXY_PORT": str(proxy_port)}
    started = monotonic()
    process = subprocess.Popen(
        [*mockbank_command(), "serve", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        while monotonic() - started < deadline_s:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/_mockbank/health")
                if connection.getresponse().status == 200:
                    return monotonic() - started
            except OSError:
                time.sleep(0.005)
        raise RuntimeError(f"no health answer within {deadline_s} s")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = [time_to_health() for _ in range(args.runs)]
    print("launch to health, seconds: " + ", ".join(f"{t:.3f}" for t in times))
    median = statistics.median(times)
    print(f"median {median:.3f} s (target < 0.5 s: {'met' if median < 0.5 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

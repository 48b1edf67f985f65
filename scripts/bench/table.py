"""Every row of issue 16's performance table as a ratio, measured in one run, and the bytes per
live token of each kind.

Rows: the QuickStream token request against a minimal Flask app doing the same checks on the
same server, and against WireMock serving a static stub; a stateless call (TokenOS bank list)
against moto_server's GetQueueUrl; HTTPS through the Forter proxy against direct HTTPS; the
in-process mode against a plain ``responses`` stub; start-up against a minimal Flask app on
the same server. Each comparison alternates its sides in rounds, so the machine's load falls
on both alike. WireMock (npm ``wiremock``, run by ``java``) and moto_server (pip
``moto[server]``) are measured where they are installed, or skipped with a note saying what
to install. Loopback only; everything stops by itself.

    python scripts/bench/table.py            # the full run (several minutes)
    python scripts/bench/table.py --short    # a quick pass: the same lines, rough figures
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import free_port, load, wait_until_up, waitress_app
from token_request import FORM, MINIMAL_FLASK, mockbank_serve, wiremock

from mockbank.clock import Clock
from mockbank.serving import DEFAULT_SERVER

TOKENOS_AUTH = (
    "Basic " + base64.b64encode(b"m:2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq:sandbox-api-key").decode()
)
SQS_FORM = "Action=GetQueueUrl&QueueName=bench&Version=2012-11-05"
# (what, the issue's figure, the goal) for each ratio line
ISSUE = {
    "minimal": ("0.62-0.68", ">= 0.9"),
    "wiremock": ("0.12-0.19", ">= 0.5"),
    "moto": ("4.6", ">= 4"),
    "proxy": ("0.50", ">= 0.7"),
    "inprocess": ("2.00", "<= 1.3"),
    "startup": ("1.9-2.7", "<= 1.3"),
}
Target = tuple[str, str | None, dict[str, str], str]  # url, body, headers, content type


def row(key: str, label: str, ratio: float) -> None:
    issue, goal = ISSUE[key]
    print(f"{label} = {ratio:.2f}   (issue: {issue}; goal {goal})", flush=True)


def rounds_of(
    targets: dict[str, Target], rounds: int, seconds: float, connections: int
) -> dict[str, list[float]]:
    """req/s of each target per round; the order alternates each round."""
    for url, body, headers, kind in targets.values():
        load(url, body, seconds=1, connections=connections, content_type=kind, headers=headers)
    names = list(targets)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            url, body, headers, kind = targets[name]
            rate = load(
                url, body, seconds=seconds, connections=connections, content_type=kind,
                headers=headers,
            )  # fmt: skip
            samples[name].append(rate)
    return samples


def ratio_of(samples: dict[str, list[float]], top: str, bottom: str) -> float:
    return statistics.median(a / b for a, b in zip(samples[top], samples[bottom], strict=True))


@contextmanager
def moto_server(enabled: bool) -> Iterator[str | None]:
    """moto_server with one SQS queue; yields its URL, or None (and a note) when absent."""
    command = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not enabled or not Path(command).exists():
        why = "disabled" if not enabled else "pip install 'moto[server]'"
        print(f"moto_server: skipped ({why})", flush=True)
        yield None
        return
    port = free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    process = subprocess.Popen(
        [command, "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(port, timeout=60)
        url = f"http://127.0.0.1:{port}/"
        import urllib.request

        create = b"Action=CreateQueue&QueueName=bench&Version=2012-11-05"
        request = urllib.request.Request(url, data=create, headers=_SQS_HEADERS)
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


_SQS_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Authorization": "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/sqs/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


def throughput_rows(args: argparse.Namespace) -> None:
    form = "application/x-www-form-urlencoded"
    with (
        mockbank_serve() as token_url,
        waitress_app(MINIMAL_FLASK, server=DEFAULT_SERVER) as minimal,
        wiremock(not args.no_wiremock, args.seconds) as wiremock_url,
        moto_server(not args.no_moto) as moto_url,
    ):
        base = token_url.split("/quickstream/", 1)[0]
        targets: dict[str, Target] = {
            "mockbank": (token_url, FORM, {}, form),
            "minimal": (minimal + "/CommunityTokenRequestServlet", FORM, {}, form),
        }
        if wiremock_url:
            targets["wiremock"] = (wiremock_url, FORM, {}, form)
        if moto_url:
            banks = f"{base}/tokenos/banks?page=1&perPage=5"
            targets["stateless"] = (banks, None, {"Authorization": TOKENOS_AUTH}, form)
            targets["moto"] = (moto_url, SQS_FORM, dict(_SQS_HEADERS), form)
        samples = rounds_of(targets, args.rounds, args.seconds, args.connections)
    rates = ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in samples.items())
    print(f"req/s, median of {args.rounds} rounds of {args.seconds:g} s: {rates}")
    row(
        "minimal",
        "token request / minimal Flask (same server)",
        ratio_of(samples, "mockbank", "minimal"),
    )
    if wiremock_url:
        row(
            "wiremock",
            "token request / WireMock static stub",
            ratio_of(samples, "mockbank", "wiremock"),
        )
    if moto_url:
        row(
            "moto",
            "stateless call / moto_server GetQueueUrl",
            ratio_of(samples, "stateless", "moto"),
        )


def other_rows(args: argparse.Namespace) -> None:
    import inprocess
    import memory
    import proxy
    import startup

    result = proxy.compare(args.proxy_requests, max(2, args.proxy_requests // 100))
    row("proxy", "HTTPS through the Forter proxy / direct", result.ratio)
    stub, routed, ratio = inprocess.measure(args.inprocess_calls, 10)
    print(f"in-process: {routed * 1e6:.0f} us CPU per call, responses stub {stub * 1e6:.0f} us")
    row("inprocess", "in-process / responses stub", ratio)
    launches, minimal = startup.measure(args.startup_runs)
    wall = statistics.median(m[0] / n[0] for m, n in zip(launches, minimal, strict=True))
    print(
        f"start-up: {statistics.median(t for t, _ in launches):.3f} s, minimal Flask "
        f"{statistics.median(t for t, _ in minimal):.3f} s (launch to healthy, wall time)"
    )
    row("startup", "start-up / minimal Flask (same server)", wall)
    for name, make in memory.KINDS.items():
        size, _ = memory.bytes_per_token(make, args.memory_count)
        print(f"bytes per live token, {name}: {size:.0f} B (goal < 2048 B)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a quick pass, rough figures")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one load round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--proxy-requests", type=int, default=2000)
    parser.add_argument("--inprocess-calls", type=int, default=3000)
    parser.add_argument("--startup-runs", type=int, default=7)
    parser.add_argument("--memory-count", type=int, default=3000)
    parser.add_argument("--no-wiremock", action="store_true")
    parser.add_argument("--no-moto", action="store_true")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds, args.rounds, args.connections = 1.0, 1, 4
        args.proxy_requests, args.inprocess_calls = 100, 100
        args.startup_runs, args.memory_count = 1, 200
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{Clock().now():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average "
        f"{load_average:.2f}, Python {platform.python_version()}, server {DEFAULT_SERVER}",
        flush=True,
    )
    throughput_rows(args)
    other_rows(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What many idle sandboxes cost on a shared store: outbox threads and store calls per second.

`--sandboxes` sandboxes are created on one app whose store is SQLite (or PostgreSQL with
`--store postgresql://...`), each sends one notification to a local receiver and sees it
delivered; then nothing happens for `--seconds` while every call the app makes to its store is
counted (one call is one statement or one transaction). One outbox worker per app polls once
per round, so the figures should not grow with the number of sandboxes.

    python scripts/bench/outbox_idle.py [--sandboxes 100] [--seconds 5] [--store URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mockbank.clock import monotonic  # noqa: E402
from mockbank.config import Config  # noqa: E402
from mockbank.delivery import THREAD_NAME  # noqa: E402
from mockbank.state import State  # noqa: E402
from mockbank.store import SQLiteStore  # noqa: E402


class CountingStore:
    """Any store, counting the calls made to it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.persistent = inner.persistent
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if not callable(found):
            return found

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return found(*args, **kwargs)

        return counted


class _Accept(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def measure(sandboxes: int, seconds: float, store: Any) -> None:
    counting = CountingStore(store)
    state = State(Config(), store=counting)  # type: ignore[arg-type]
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_port}/notify"
    try:
        for n in range(sandboxes):
            _, sandbox = state.sandboxes.create({"name": f"idle-{n}"})
            sandbox.outbox.send_http("quickstream", url, body=b"x=1")
            sandbox.outbox.wait_idle(30)
        state.delivery.wait_rounds(2)  # every mark seen with nothing left, and taken away
        threads = sum(1 for t in threading.enumerate() if t.name == THREAD_NAME)
        calls, rounds, started = counting.calls, state.delivery.rounds, monotonic()
        time.sleep(seconds)
        calls = counting.calls - calls
        rounds = state.delivery.rounds - rounds
        elapsed = monotonic() - started
    finally:
        state.close()
        receiver.shutdown()
        receiver.server_close()
    print(f"{sandboxes} idle sandboxes, {elapsed:.1f} s:")
    print(f"  outbox threads: {threads}")
    print(f"  store calls per second: {calls / elapsed:.1f} ({rounds} polls)")
    print(f"  store calls per poll: {calls / max(rounds, 1):.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandboxes", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--store", default=None, help="postgresql://... (default: SQLite)")
    args = parser.parse_args()
    if args.store:
        from mockbank.store_postgresql import PostgreSQLStore

        measure(args.sandboxes, args.seconds, PostgreSQLStore(args.store))
        return 0
    with tempfile.TemporaryDirectory() as directory:
        measure(args.sandboxes, args.seconds, SQLiteStore(Path(directory) / "mockbank.sqlite3"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

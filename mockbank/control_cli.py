"""CLI twins of the control API: ``mockbank clock | reset | requests | faults | outbox``.

Each talks to a running server (``--url``, default ``MOCKBANK_URL`` or the local one) and
sends the control token from ``MOCKBANK_CONTROL_TOKEN``. Failures print one line starting
``mockbank: ``: exit 1 when the server cannot be reached or refuses the token, 2 when it
refuses what was asked (an unknown provider, a bad fault).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from mockbank.config import DEFAULT_PORT

POLL_S = 0.5
_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class ControlFailed(Exception):
    """A control call that did not work; the message is the line to print."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def default_url() -> str:
    if os.environ.get("MOCKBANK_URL"):
        return os.environ["MOCKBANK_URL"].rstrip("/")
    port = os.environ.get("MOCKBANK_PORT") or str(DEFAULT_PORT)
    return f"http://127.0.0.1:{port}"


class Control:
    """A small client of ``/_mockbank`` with the errors a person can act on."""

    def __init__(self, url: str, token: str | None = None) -> None:
        import requests

        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "mockbank-cli"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        import requests

        query = {k: v for k, v in params.items() if v is not None}
        try:
            if method == "GET":
                response = self.session.get(self.url + path, params=query, timeout=10)
            else:  # state changes always send JSON (the control API refuses cross-site forms)
                response = self.session.request(
                    method, self.url + path, params=query, json=body or {}, timeout=10
                )
        except requests.ConnectionError:
            raise ControlFailed(
                f"cannot reach a mockbank server at {self.url}; start one with "
                "`mockbank serve`, or pass --url (or set MOCKBANK_URL) to name it"
            ) from None
        except requests.Timeout:
            raise ControlFailed(
                f"the mockbank server at {self.url} did not answer in 10 s"
            ) from None
        return self._answer(response)

    def _answer(self, response: Any) -> Any:
        try:
            data = response.json()
        except ValueError:
            data = None
        message = ""
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            message = str(data["error"].get("message", ""))
        if response.status_code == 401:
            has = "Authorization" in self.session.headers
            hint = (
                "MOCKBANK_CONTROL_TOKEN does not match the server's control token"
                if has
                else "set MOCKBANK_CONTROL_TOKEN to the token `mockbank serve` printed"
            )
            raise ControlFailed(f"the server at {self.url} refused the control token: {hint}")
        if response.status_code == 403:
            raise ControlFailed(f"the server at {self.url} refused: {message or 'forbidden'}")
        if response.status_code >= 400 or data is None:
            shown = message or (response.text or "")[:200] or "no body"
            raise ControlFailed(f"{response.status_code} from {self.url}: {shown}", 2)
        return data


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``2h`` or ``1d`` (a minus sign goes back)."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ControlFailed(f"{text!r} is not a duration; use seconds (3600) or 15m, 2h, 1d", 2)
    return float(match.group(1)) * _UNITS[match.group(2)]


# -- printing ---------------------------------------------------------------------------------
def _time(value: str | None) -> str:
    """``2026-12-03T10:15:02.123456Z`` as ``2026-12-03 10:15:02Z`` (whole seconds)."""
    if not value:
        return "-"
    return value.replace("T", " ")[:19] + "Z"


def request_line(entry: dict[str, Any]) -> str:
    query = f"?{entry['query']}" if entry.get("query") else ""
    notes = entry.get("notes") or {}
    fault = "  fault" if "fault" in notes else ""
    return (
        f"{entry['id']:>6} {_time(entry.get('time'))} {entry.get('provider') or '-':<11} "
        f"{entry.get('endpoint') or '-':<22} {entry['method']:<6} {entry['status']} "
        f"{entry.get('latency_ms', 0):>7.1f}ms {entry['path']}{query}{fault}"
    )


def attempt_line(message: dict[str, Any], attempt: dict[str, Any]) -> str:
    outcome = attempt.get("error") or f"HTTP {attempt.get('status')}"
    return f"       attempt {attempt.get('number')} at {_time(attempt.get('at'))}: {outcome}"


def message_line(message: dict[str, Any]) -> str:
    target = message.get("url") or message.get("to") or "-"
    label = f" ({message['label']})" if message.get("label") else ""
    return (
        f"{message['id']:>6} {_time(message.get('created_at'))} {message['provider']:<11} "
        f"{message['kind']:<5} {message['status']:<13} {target}{label}"
    )


def clock_line(clock: dict[str, Any]) -> str:
    offset = float(clock.get("offset_s") or 0)
    state = "frozen" if clock.get("frozen") else "running"
    return f"{_time(clock.get('now'))} ({state}, {offset:+.0f} s from real time)"


def fault_line(fault: dict[str, Any]) -> str:
    what = {
        "status": f"status {fault.get('status')}",
        "latency": f"latency {fault.get('latency_ms')} ms",
        "drop": "drop",
    }.get(fault["action"], fault["action"])
    if fault["action"] == "status" and fault.get("latency_ms"):
        what += f" after {fault['latency_ms']} ms"
    left = (
        f"{fault['count']} left"
        if fault.get("count") is not None
        else f"probability {fault.get('probability')}"
    )
    return (
        f"{fault['id']:>4} {fault['provider']}/{fault.get('endpoint') or '*'}: {what}, "
        f"{left}, fired {fault.get('fired', 0)}"
    )


# -- commands ---------------------------------------------------------------------------------
def _client(args: argparse.Namespace) -> Control:
    return Control(args.url, os.environ.get("MOCKBANK_CONTROL_TOKEN") or None)


def cmd_clock(args: argparse.Namespace) -> int:
    control = _client(args)
    if args.action == "advance":
        if args.value is None:
            raise ControlFailed("`mockbank clock advance` needs a duration, e.g. 3600 or 2h", 2)
        clock = control.call("POST", "/_mockbank/clock", {"advance": parse_duration(args.value)})
    elif args.action == "freeze":
        clock = control.call("POST", "/_mockbank/clock", {"freeze": args.value or True})
    elif args.action == "resume":
        clock = control.call("POST", "/_mockbank/clock", {"resume": True})
    else:
        clock = control.call("GET", "/_mockbank/clock")
    print(json.dumps(clock) if args.json else clock_line(clock))
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    body = {"provider": args.provider} if args.provider else {}
    answer = _client(args).call("POST", "/_mockbank/reset", body)
    print(f"reset {answer.get('reset', args.provider or 'all')}")
    return 0


def _poll(fetch: Callable[[], list[dict[str, Any]]], follow: bool) -> Iterator[dict[str, Any]]:
    while True:
        yield from fetch()
        if not follow:
            return
        sys.stdout.flush()
        time.sleep(POLL_S)


def cmd_requests(args: argparse.Namespace) -> int:
    control = _client(args)
    last = {"id": 0}

    def fetch() -> list[dict[str, Any]]:
        data = control.call(
            "GET",
            "/_mockbank/requests",
            provider=args.provider,
            status=args.status,
            endpoint=args.endpoint,
            since=last["id"] or None,
            limit=None if last["id"] else args.limit,
        )
        entries: list[dict[str, Any]] = data["requests"]
        if entries:
            last["id"] = max(last["id"], *(int(e["id"]) for e in entries))
        return entries

    for entry in _poll(fetch, args.follow):
        print(json.dumps(entry) if args.json else request_line(entry), flush=args.follow)
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    control = _client(args)
    if args.redeliver is not None:
        message = control.call("POST", f"/_mockbank/outbox/{args.redeliver}/redeliver")
        print(f"message {message['id']} queued for delivery again ({message['status']})")
        return 0
    seen: dict[int, tuple[str, int]] = {}

    def fetch() -> list[dict[str, Any]]:
        data = control.call("GET", "/_mockbank/outbox", provider=args.provider)
        changed = []
        for message in data["messages"]:
            mark = (message["status"], len(message.get("attempts") or ()))
            if seen.get(message["id"]) != mark:
                changed.append({**message, "_seen": seen.get(message["id"], ("", 0))[1]})
                seen[message["id"]] = mark
        return changed

    for message in _poll(fetch, args.follow):
        shown = message.pop("_seen")
        if args.json:
            print(json.dumps(message), flush=args.follow)
            continue
        if not shown:
            print(message_line(message))
        elif message.get("attempts"):
            print(f"{message['id']:>6} now {message['status']}")
        for attempt in (message.get("attempts") or [])[shown:]:
            print(attempt_line(message, attempt), flush=args.follow)
    return 0


def cmd_faults(args: argparse.Namespace) -> int:
    control = _client(args)
    if args.action == "add":
        return _faults_add(control, args)
    if args.action == "clear":
        if args.id is not None:
            control.call("DELETE", "/_mockbank/faults", id=args.id)
            print(f"removed fault {args.id}")
        else:
            control.call("DELETE", "/_mockbank/faults", provider=args.provider)
            print(f"cleared faults of {args.provider or 'every provider'}")
        return 0
    data = control.call("GET", "/_mockbank/faults")
    faults = [f for f in data["faults"] if args.provider in (None, f["provider"])]
    if args.json:
        print(json.dumps(data))
        return 0
    for fault in faults:
        print(fault_line(fault))
    if not faults:
        print("no faults; endpoint names for `mockbank faults add`:")
        for provider, names in data.get("endpoints", {}).items():
            if args.provider in (None, provider):
                print(f"  {provider}: {', '.join(names)}")
    return 0


def _faults_add(control: Control, args: argparse.Namespace) -> int:
    if not args.provider:
        raise ControlFailed("`mockbank faults add` needs --provider (and usually --endpoint)", 2)
    spec: dict[str, Any] = {"provider": args.provider}
    for key, value in (
        ("endpoint", args.endpoint),
        ("status", args.status),
        ("latency_ms", args.latency_ms),
        ("count", args.count),
        ("probability", args.probability),
        ("message", args.message),
    ):
        if value is not None:
            spec[key] = value
    if args.drop:
        spec["drop"] = True
    fault = control.call("POST", "/_mockbank/faults", spec)
    print(json.dumps(fault) if args.json else fault_line(fault))
    return 0


# -- the parser -------------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    p.add_argument(
        "--url",
        default=default_url(),
        help="the mockbank server (MOCKBANK_URL; default http://127.0.0.1:MOCKBANK_PORT or 8787); "
        "the control token comes from MOCKBANK_CONTROL_TOKEN",
    )
    if json_flag:
        p.add_argument("--json", action="store_true", help="print JSON, one object a line")


def add_control_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """`clock`, `reset`, `requests`, `faults`, `outbox`: the control API from a terminal."""
    p = subparsers.add_parser("clock", help="show or move the app clock")
    p.add_argument("action", nargs="?", choices=("show", "advance", "freeze", "resume"))
    p.add_argument("value", nargs="?", help="advance: 3600, 15m, 2h, 1d; freeze: an ISO time")
    _common(p)
    p.set_defaults(func=cmd_clock)

    p = subparsers.add_parser("reset", help="forget all state (or one provider's) and reseed")
    p.add_argument("provider", nargs="?")
    _common(p, json_flag=False)
    p.set_defaults(func=cmd_reset)

    p = subparsers.add_parser("requests", help="the request journal, masked; --follow tails it")
    p.add_argument("--provider")
    p.add_argument("--status", type=int)
    p.add_argument("--endpoint", help="an endpoint name, as faults use")
    p.add_argument("--limit", type=int, default=50, help="how many past requests (default 50)")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new requests")
    _common(p)
    p.set_defaults(func=cmd_requests)

    p = subparsers.add_parser("faults", help="list, add or clear injected failures")
    p.add_argument("action", nargs="?", default="list", choices=("list", "add", "clear"))
    p.add_argument("--provider")
    p.add_argument("--endpoint", help="an endpoint name (`mockbank faults` lists them)")
    p.add_argument("--status", type=int, help="answer with this HTTP status")
    p.add_argument("--latency-ms", type=int, help="delay the answer")
    p.add_argument("--drop", action="store_true", help="drop the connection")
    p.add_argument("--count", type=int, help="fire for the next N requests (default 1)")
    p.add_argument("--probability", type=float, help="fire on this share of requests")
    p.add_argument("--message", help="the error message to answer with")
    p.add_argument("--id", type=int, help="clear: remove only this fault")
    _common(p)
    p.set_defaults(func=cmd_faults)

    p = subparsers.add_parser("outbox", help="notifications and emails sent, every attempt")
    p.add_argument("--provider")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new attempts")
    p.add_argument("--redeliver", type=int, metavar="ID", help="send message ID again now")
    _common(p)
    p.set_defaults(func=cmd_outbox)

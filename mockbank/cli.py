"""The ``mockbank`` command: ``serve`` plus each provider's own subcommands."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mockbank import __version__, accesslog
from mockbank.config import (
    EXIT_INVALID,
    EXIT_UNUSABLE,
    Config,
    ResourceUnusable,
    StartupError,
    check_state_dir,
    check_store_url,
    from_environment,
    parse_port,
    parse_whole,
    redact_store_url,
)
from mockbank.control_cli import ControlFailed
from mockbank.fixtures import FixtureError
from mockbank.outbound import is_loopback, parse_upstreams
from mockbank.serving import DEFAULT_SERVER, SERVERS, PortInUse


def _serve_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run every provider on one port (and the Forter proxy on another)",
        description="Each flag can also be set with the MOCKBANK_* variable named beside it.",
    )
    _address_flags(p)
    _state_flags(p)
    _network_flags(p)
    _runtime_flags(p)
    p.add_argument("--quiet", action="store_true", help="print no banner and no access log")
    p.set_defaults(func=serve)


def _address_flags(p: argparse.ArgumentParser) -> None:
    """Where `serve` listens."""
    p.add_argument("--host", default=None, help="bind address (MOCKBANK_HOST, default 127.0.0.1)")
    p.add_argument("--port", default=None, help="port (MOCKBANK_PORT, default 8787)")
    p.add_argument(
        "--proxy-port",
        default=None,
        help="Forter proxy port (MOCKBANK_PROXY_PORT, default 8788; 0 picks one)",
    )


def _state_flags(p: argparse.ArgumentParser) -> None:
    """Where records, fixtures and generated data come from."""
    p.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="PATH",
        help="directory for the SQLite store and the CA; survives restarts "
        "(MOCKBANK_STATE; default: in memory)",
    )
    p.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="a store shared by several mockbank processes: postgresql://user@host/db "
        "(MOCKBANK_STORE; needs mockbank[postgresql])",
    )
    p.add_argument(
        "--instance",
        default=None,
        metavar="NAME",
        help="this process's name in the journal and the outbox (MOCKBANK_INSTANCE, "
        "default host:port)",
    )
    p.add_argument(
        "--fixtures",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory replacing the seeded fixtures (MOCKBANK_FIXTURES)",
    )
    p.add_argument(
        "--seed",
        default=None,
        help="seed for generated data (MOCKBANK_SEED, default 1234)",
    )


def _network_flags(p: argparse.ArgumentParser) -> None:
    """Who mockbank calls, and who may call it."""
    p.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="HOST=URL",
        help="map an outbound host to a URL, or to 'echo' (MOCKBANK_UPSTREAM)",
    )
    p.add_argument(
        "--allow-outbound",
        action="append",
        default=[],
        metavar="HOST",
        help="let mockbank call this real host (MOCKBANK_ALLOW_OUTBOUND)",
    )
    p.add_argument(
        "--control-token",
        default=None,
        metavar="T",
        help="require 'Authorization: Bearer T' on /_mockbank (MOCKBANK_CONTROL_TOKEN)",
    )
    p.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the URL clients use to reach this server, e.g. behind a reverse proxy; "
        "generated links use it and its host is accepted (MOCKBANK_PUBLIC_URL)",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="IP",
        help="honour X-Forwarded-For from this peer (MOCKBANK_TRUSTED_PROXIES)",
    )


def _runtime_flags(p: argparse.ArgumentParser) -> None:
    """The server, its threads, its log, and provider switches."""
    p.add_argument(
        "--threads",
        default=None,
        help="worker threads of the WSGI server (MOCKBANK_THREADS, default 16)",
    )
    p.add_argument(
        "--tokenos-lenient-signatures",
        action="store_true",
        default=None,
        help="accept TokenOS requests whose Ed25519 signature does not verify",
    )
    p.add_argument(
        "--log-format",
        choices=accesslog.FORMATS,
        default=os.environ.get("MOCKBANK_LOG_FORMAT") or "text",
        help="access log and messages as text lines or JSON objects (MOCKBANK_LOG_FORMAT)",
    )
    p.add_argument(
        "--log-level",
        type=str.lower,
        choices=accesslog.LEVELS,
        default=(os.environ.get("MOCKBANK_LOG_LEVEL") or "info").lower(),
        help="least severe messages shown; info shows the access log (MOCKBANK_LOG_LEVEL)",
    )
    p.add_argument(
        "--server",
        choices=SERVERS,
        default=os.environ.get("MOCKBANK_SERVER") or DEFAULT_SERVER,
        help=f"the HTTP server (MOCKBANK_SERVER, default {DEFAULT_SERVER}; "
        "docs/performance.md says why)",
    )


def _checked_flags(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    """Turn the number flags into numbers, naming the flag or variable when one is wrong."""
    for flag in ("port", "proxy_port"):
        if getattr(args, flag) is not None:
            setattr(args, flag, parse_port(getattr(args, flag), "--" + flag.replace("_", "-")))
    if args.seed is not None:
        args.seed = parse_whole(args.seed, "--seed", example=1234)
    if getattr(args, "threads", None) is not None:
        args.threads = parse_whole(args.threads, "--threads", low=1)
    elif "MOCKBANK_THREADS" in environ:
        args.threads = parse_whole(environ["MOCKBANK_THREADS"], "MOCKBANK_THREADS", low=1)
    else:
        args.threads = 16


def config_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Config:
    """Flags win over ``MOCKBANK_*`` variables, which win over the defaults.

    Wrong values raise `StartupError` naming the flag or variable; an unusable ``--state``
    raises `ResourceUnusable`.
    """
    try:
        config = _config(args, environ)
    except StartupError:
        raise
    except ValueError as error:  # e.g. a malformed --upstream: still one line, exit 2
        raise StartupError(str(error)) from None
    if config.state_path is not None:
        check_state_dir(config.state_path, "--state" if args.state else "MOCKBANK_STATE")
    if config.store_url is not None:
        check_store_url(config.store_url, "--store" if args.store else "MOCKBANK_STORE")
    if not config.instance:
        config = replace(config, instance=f"{socket.gethostname()}:{config.port}")
    return config


def _config(args: argparse.Namespace, environ: dict[str, str] | None) -> Config:
    env = os.environ if environ is None else environ
    _checked_flags(args, env)
    values: dict[str, Any] = from_environment(environ)
    for flag, name in (
        ("host", "host"),
        ("port", "port"),
        ("proxy_port", "proxy_port"),
        ("state", "state_path"),
        ("fixtures", "fixtures_dir"),
        ("seed", "seed"),
        ("control_token", "control_token"),
        ("store", "store_url"),
        ("instance", "instance"),
        ("public_url", "public_url"),
    ):
        value = getattr(args, flag)
        if value is not None:
            values[name] = value
    if args.upstream:
        values["upstreams"] = {**values.get("upstreams", {}), **parse_upstreams(args.upstream)}
    if args.allow_outbound:
        values["allow_outbound"] = frozenset(args.allow_outbound) | values.get(
            "allow_outbound", frozenset()
        )
    if args.trusted_proxy:
        values["trusted_proxies"] = frozenset(args.trusted_proxy)
    lenient = args.tokenos_lenient_signatures
    if lenient is None:
        lenient = (environ or os.environ).get("MOCKBANK_TOKENOS_LENIENT_SIGNATURES") == "1"
    if lenient:
        values["tokenos.lenient_signatures"] = True
    return Config.from_mapping(values)


def banner(config: Config, app: Any, services: list[Any]) -> str:
    """What `mockbank serve` prints: base URLs, dashboard, seeded credentials."""
    state = app.extensions["mockbank"]
    host = f"[{config.host}]" if ":" in config.host else config.host
    base = f"http://{host}:{config.port}"
    lines = [
        f"mockbank {__version__} on {base}",
        f"  dashboard    {base}/",
        f"  control API  {base}/_mockbank",
    ]
    for service in services:
        lines.append(f"  {getattr(service, 'label', 'service'):<12} {service.url}")
    for provider in state.ready_providers():  # the seeded credentials: each one imported
        lines.append(f"\n  {provider.title}  {base}{provider.prefix}")
        for label, value in provider.emulation.credentials(state.fixtures.get(provider.name)):
            lines.append(f"      {label}: {value}")
    if config.state_path:
        lines.append(f"\n  state in {config.state_path}")
    if config.store_url:
        lines.append(f"\n  shared store {redact_store_url(config.store_url)} as {config.instance}")
    lines.append("\nCtrl-C stops.")
    return "\n".join(lines)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C inside the block raises `KeyboardInterrupt` when the block ends: a listener's
    thread interrupted between being made and being started could not be stopped cleanly."""
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def serve(args: argparse.Namespace) -> int:
    """Run the app on the chosen server (and the providers' services) until Ctrl-C or SIGTERM."""
    try:
        return _serve(args)
    except KeyboardInterrupt:  # Ctrl-C while starting: stop quietly, as Ctrl-C later does
        return 130
    except PortInUse as error:
        flag, role = error.flag or "--port", error.role or "every provider"
        print(
            f"mockbank: port {error.port} ({flag}, {role}) is in use; pick another or {flag} 0",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE


def _serve(args: argparse.Namespace) -> int:
    from mockbank.app import create_app
    from mockbank.hosts import set_bound_address
    from mockbank.serving import make_server, raise_fd_limit

    config = config_from_args(args)
    if not is_loopback(config.host) and not config.control_token:
        config = Config.from_mapping(
            {**config.__dict__, "control_token": secrets.token_urlsafe(18)}
        )
        print(
            f"bound to {config.host}: the control API needs "
            f"'Authorization: Bearer {config.control_token}'",
            file=sys.stderr,
        )
    accesslog.configure(args.log_format, args.log_level, quiet=args.quiet)
    raise_fd_limit()  # every open connection is a descriptor; the default 1024 is too few
    try:
        app = create_app(config)
    except ConnectionError as error:  # a shared store that cannot be reached: one line, exit 3
        raise ResourceUnusable(str(error)) from None
    state = app.extensions["mockbank"]
    services: list[Any] = []
    try:
        server = make_server(args.server, app, config.host, config.port, args.threads)
    except OSError:
        state.close()
        raise
    try:
        with interrupts_deferred():  # Ctrl-C here stops what started whole, never half of it
            if config.port == 0:  # the banner and the services must name the port bound
                config = Config.from_mapping({**config.__dict__, "port": server.port})
            set_bound_address(app, config.host, server.port)
            for provider in state.providers.values():
                if provider.services is not None:
                    services.extend(provider.services(app, config))
            for service in services:
                service.start()
        if not args.quiet:
            print(banner(config, app, services), flush=True)

        def stop(signum: int, frame: Any) -> None:
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            server.run()
    finally:
        server.close()
        for service in services:
            service.stop()
        state.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    from mockbank.control_cli import add_control_commands
    from mockbank.providers import add_cli_commands

    parser = argparse.ArgumentParser(
        prog="mockbank",
        description="Offline sandbox for QuickStream, SysPay, Centagate, Forter and Token.io.",
    )
    parser.add_argument("--version", action="version", version=f"mockbank {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _serve_parser(subparsers)
    add_control_commands(subparsers)
    add_cli_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before serving (or in a command): no traceback
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result: int = args.func(args)
    except (StartupError, FixtureError, ControlFailed) as error:  # one line to act on
        print(f"mockbank: {error}", file=sys.stderr)
        return getattr(error, "exit_code", EXIT_INVALID)
    except KeyboardInterrupt:  # Ctrl-C ends `--follow`
        return 130
    except ValueError as error:  # bad flag values: say which, no traceback
        parser.error(str(error))
    except BrokenPipeError:  # `mockbank ... | head` closed the pipe: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return result


if __name__ == "__main__":
    raise SystemExit(main())

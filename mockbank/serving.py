"""The WSGI servers `mockbank serve` can run the app on, and what they share.

granian (Rust, tokio, hyper) is the default: measured on mockbank's own app it serves more
requests per second than waitress with a lower p99, holds thousands of idle or slow connections
without a thread each, and closes a connection whose request head is not complete within
`HEAD_TIMEOUT_S` (see "Server choice" in ``docs/performance.md``). waitress stays selectable
(``--server waitress``), tuned for the same limits. Both run in this process, next to the Forter
proxy listener, so there is one `State`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import resource
import socket
import stat
import struct
import threading
from typing import Any, Protocol

from mockbank.clock import monotonic

SERVERS = ("granian", "waitress")
DEFAULT_SERVER = "granian"
HEAD_TIMEOUT_S = 10  # a request head must arrive complete within this, else the socket closes
IDLE_TIMEOUT_S = 120  # an idle keep-alive connection is closed after this (waitress)
CONNECTION_LIMIT = 10_000
BACKLOG = 2048
DROPPED = "mockbank dropped the connection (fault)"  # what mockbank.routing raises


class PortInUse(OSError):
    """The port could not be bound: another program (or mockbank) is listening on it."""

    def __init__(self, port: int, flag: str | None = None, role: str | None = None) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} is in use")
        self.port, self.flag, self.role = port, flag, role


class WSGIServer(Protocol):
    port: int

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM."""

    def close(self) -> None:
        """Stop listening (after `run` returned, or instead of it)."""


def raise_fd_limit() -> int:
    """Raise this process's open-file soft limit to its hard limit (one per connection)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


def probe_port(host: str, port: int) -> int:
    """Bind `host:port` for a moment: the port really free (0 picks one), or `PortInUse`.

    granian binds with SO_REUSEPORT, so a second granian on the same port would bind too and
    share the traffic silently; a plain bind first refuses any port with a listener on it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(port) from None
            raise
        return int(sock.getsockname()[1])


def make_server(name: str, app: Any, host: str, port: int, threads: int) -> WSGIServer:
    """Bind `name`'s server on `host:port` (raises `PortInUse`); `.run()` serves."""
    if name == "waitress":
        return _Waitress(app, host, port, threads)
    if name == "granian":
        return _Granian(app, host, probe_port(host, port), threads)
    raise ValueError(f"--server {name} is not one of {', '.join(SERVERS)}")


class _Granian:
    """granian's multi-threaded server class, embedded: its worker is a thread of ours."""

    def __init__(self, app: Any, host: str, port: int, threads: int) -> None:
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings
        from granian.log import LogLevels
        from granian.server.mt import MTServer

        class Embedded(MTServer):
            # The worker runs the same code granian runs in a worker process of a GIL build;
            # here it is a thread, so the app's State and the Forter proxy share one process.
            def _check_gil(self) -> None:
                pass

        self.app = app
        self.port = port
        self._server = Embedded(
            "mockbank:app",
            address=host.strip("[]"),
            port=port,
            interface=Interfaces.WSGI,
            workers=1,
            blocking_threads=threads,
            backlog=BACKLOG,
            http1_settings=HTTP1Settings(header_read_timeout=HEAD_TIMEOUT_S * 1000),
            log_level=LogLevels.error,  # not its notes on running embedded
            log_dictconfig=_GRANIAN_LOGGING,
        )

    def run(self) -> None:
        reaper = SilentReaper(self.port)
        reaper.start()
        try:
            self._server.serve(target_loader=lambda *_: self.app, wrap_loader=False)
        finally:
            reaper.stop()

    def close(self) -> None:
        pass  # serve() stops its worker and closes the listener before it returns


class DropFaultFilter(logging.Filter):
    """A "drop" fault breaks its answer off by raising from the body iterator; granian logs that
    as "Application callable raised an exception" with the traceback. It is the fault doing its
    job, so it is not shown; every other error is."""

    def filter(self, record: logging.LogRecord) -> bool:
        return DROPPED not in record.getMessage()


_GRANIAN_LOGGING: dict[str, Any] = {
    "filters": {"drops": {"()": DropFaultFilter}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "generic",
            "filters": ["drops"],
        },
        "access": {"class": "logging.NullHandler"},
    },
}


class _Waitress:
    """waitress with its limits raised: poll() instead of select(), thousands of channels."""

    def __init__(self, app: Any, host: str, port: int, threads: int) -> None:
        from waitress.server import BaseWSGIServer, create_server  # type: ignore[import-untyped]

        # Its queue-depth warnings are about load, not faults: not for the default log level.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        try:
            server = create_server(
                app,
                host=host,
                port=port,
                threads=threads,
                ident="mockbank",
                clear_untrusted_proxy_headers=False,
                channel_timeout=IDLE_TIMEOUT_S,
                cleanup_interval=1,
                connection_limit=CONNECTION_LIMIT,
                backlog=BACKLOG,
                asyncore_use_poll=True,
            )
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(port) from None
            raise
        for listener in [server, *getattr(server, "map", {}).values()]:
            if isinstance(listener, BaseWSGIServer):
                listener.channel_class = _head_timed_channel()
                listener.maintenance = _maintenance.__get__(listener)
        self._server = server
        self.port = int(server.effective_port)

    def run(self) -> None:
        self._server.run()

    def close(self) -> None:
        self._server.close()


def _head_timed_channel() -> type:
    from waitress.channel import HTTPChannel  # type: ignore[import-untyped]

    class HeadTimedChannel(HTTPChannel):  # type: ignore[misc]
        """Notes when a request head started, so maintenance can close a slow one."""

        head_started = 0.0

        def received(self, data: bytes) -> bool:
            if self.request is None and data:
                self.head_started = monotonic()
            result: bool = super().received(data)
            return result

    return HeadTimedChannel


def _maintenance(server: Any, now: float) -> None:
    """waitress's idle-channel cleanup, plus: a head still incomplete after the limit closes."""
    cutoff = now - server.adj.channel_timeout
    head_cutoff = monotonic() - HEAD_TIMEOUT_S
    for channel in list(server.active_channels.values()):
        if channel.requests:
            continue
        pending = channel.request
        slow_head = (
            pending is not None
            and not pending.headers_finished
            and getattr(channel, "head_started", 0.0) < head_cutoff
        )
        if slow_head or channel.last_activity < cutoff:
            channel.will_close = True


class SilentReaper(threading.Thread):
    """Closes connections to `port` that have sent nothing at all for `after` seconds.

    granian cuts off a request head that has started and stalls, and an idle keep-alive
    connection, but keeps a connection that never sends a byte for as long as the client
    likes. Linux reports each socket's received byte count and the time since its last data
    (TCP_INFO): a socket of ours on `port` with none received, older than `after`, is shut
    down, and granian then closes it. Elsewhere this does nothing.
    """

    def __init__(self, port: int, after: float = IDLE_TIMEOUT_S, every: float = 5.0) -> None:
        super().__init__(name="mockbank-silent-reaper", daemon=True)
        self.port, self.after, self.every = port, after, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            reap_silent(self.port, self.after)

    def stop(self) -> None:
        self.stopped.set()


_TCP_INFO: int | None = getattr(socket, "TCP_INFO", None)
_INFO = struct.Struct("=52xI72xQ")  # tcpi_last_data_recv (ms) at 52, tcpi_bytes_received at 128


def reap_silent(port: int, after: float) -> int:
    """Shut down this process's connections to `port` that never sent a byte in `after` s."""
    if _TCP_INFO is None or not os.path.isdir("/proc/self/fd"):
        return 0
    reaped = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError, ValueError):
            if _silent_for(int(name), port) >= after:
                with socket.socket(fileno=os.dup(int(name))) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
                reaped += 1
    return reaped


def _silent_for(fd: int, port: int) -> float:
    """Seconds a connection to `port` on `fd` has been open without sending a byte, or -1."""
    if not stat.S_ISSOCK(os.fstat(fd).st_mode):
        return -1
    with socket.socket(fileno=os.dup(fd)) as sock:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return -1
        if sock.type != socket.SOCK_STREAM or sock.getsockname()[1] != port:
            return -1
        sock.getpeername()  # a listener has no peer: OSError
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO or 0, _INFO.size)
    if len(info) < _INFO.size:
        return -1
    last_data_recv, bytes_received = _INFO.unpack(info)
    return -1 if bytes_received else last_data_recv / 1000

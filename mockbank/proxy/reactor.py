"""The proxy's connection manager: one event-loop thread holds every connection that is
idle or still sending its request head; a bounded pool of worker threads serves requests.

So a thousand idle or slow (slowloris) connections cost a thousand sockets, not a thousand
threads; a plain-HTTP request head is collected without a thread; a connection that sends no
complete head within `HEAD_TIMEOUT_S` of its first byte, or nothing at all for
`IDLE_TIMEOUT_S`, is closed; and a deep listen backlog absorbs bursts of new connections.

A worker that has answered a TLS connection waits up to `NEXT_REQUEST_S` for its next request
and serves it itself (while at most half the workers are busy): a keep-alive client's next
request then costs one ``poll`` instead of a trip through the loop (wake-up, two ``epoll_ctl``,
the pool's queue, and the thread and interpreter-lock hand-offs that go with them).
"""

from __future__ import annotations

import contextlib
import logging
import select
import selectors
import socket
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from mockbank.clock import monotonic

log = logging.getLogger("mockbank.proxy")

HEAD_TIMEOUT_S = 10.0  # from a head's first byte to its blank line
IDLE_TIMEOUT_S = 120.0  # a connection with nothing to say
LINGER_S = 2.0  # after we close: read and drop what the client still sends, then close
MAX_HEAD_BYTES = 65536 * 2  # collected by the loop; more goes to a worker, which answers 431
BACKLOG = 1024
WORKERS = 64
SWEEP_S = 0.25
NEXT_REQUEST_S = 0.05  # a worker's wait for a kept-alive TLS connection's next request
TLS_HANDSHAKE = 0x16


class Handler(Protocol):
    """One client connection as the reactor sees it (the proxy's `ProxyConnection`)."""

    control: socket.socket  # a plain socket on the connection's descriptor
    buffer: bytearray  # request bytes already received and not yet parsed

    @property
    def plain(self) -> bool:
        """True while the connection speaks plain HTTP (the loop may read its head)."""

    def run(self) -> bool:
        """Serve what is waiting (in a worker thread); True keeps the connection open."""

    def close(self) -> None: ...


class _Slot:
    __slots__ = ("handler", "head_started", "idle_since", "lingering")

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.idle_since = monotonic()
        self.head_started: float | None = None
        self.lingering: float | None = None  # when set: closing, drop input until then


def head_complete(buffer: bytearray) -> bool:
    start = 0
    while buffer.startswith((b"\r\n", b"\n"), start):  # empty lines before a request line
        start += 2 if buffer.startswith(b"\r\n", start) else 1
    return buffer.find(b"\n\r\n", start) >= 0 or buffer.find(b"\n\n", start) >= 0


class Reactor:
    """Accept on `listener`, wait for input on idle connections, run handlers in a pool."""

    def __init__(
        self, listener: socket.socket, make_handler: Callable[[socket.socket, Any], Handler]
    ) -> None:
        self.listener = listener
        self.make_handler = make_handler
        self.selector = selectors.DefaultSelector()
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="mockbank-proxy")
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._returned: deque[tuple[Handler, bool]] = deque()
        self._slots: dict[int, _Slot] = {}
        self._busy: set[Handler] = set()
        self._busy_lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()  # a stop before the loop began closes, not waits

    # -- the loop -----------------------------------------------------------------------
    def serve_forever(self) -> None:
        with self._start_lock:
            if self._stopped.is_set():  # stopped before this thread first ran
                return
            self._started = True
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        next_sweep = monotonic() + SWEEP_S
        try:
            while not self._stopping.is_set():
                for key, _ in self.selector.select(timeout=SWEEP_S):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._take_returned()
                    else:
                        self._readable(key.fd, key.data)
                now = monotonic()
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + SWEEP_S
        finally:
            self._close_everything()
            self._stopped.set()

    def _accept(self) -> None:
        for _ in range(256):
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # out of descriptors, say: keep serving the others
                log.warning("the proxy could not accept a connection: %s", error)
                return
            try:
                handler = self.make_handler(sock, address)
            except OSError:
                sock.close()
                continue
            self._wait(handler)

    def _wait(self, handler: Handler) -> None:
        handler.control.setblocking(False)
        slot = _Slot(handler)
        if handler.buffer:
            slot.head_started = slot.idle_since
        fd = handler.control.fileno()
        self._slots[fd] = slot
        self.selector.register(fd, selectors.EVENT_READ, slot)

    def _readable(self, fd: int, slot: _Slot) -> None:
        handler = slot.handler
        if slot.lingering is not None:
            self._drain(fd, slot)
            return
        if not handler.plain:
            self._dispatch(fd, slot)
            return
        try:
            if not handler.buffer:
                first = handler.control.recv(1, socket.MSG_PEEK)
                if first[:1] == bytes([TLS_HANDSHAKE]):  # TLS to the proxy: a worker's job
                    self._dispatch(fd, slot)
                    return
            data = handler.control.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._forget(fd)
            handler.close()
            return
        handler.buffer += data
        if slot.head_started is None:
            slot.head_started = monotonic()
        if head_complete(handler.buffer) or len(handler.buffer) > MAX_HEAD_BYTES:
            self._dispatch(fd, slot)

    def _dispatch(self, fd: int, slot: _Slot) -> None:
        self._forget(fd)
        handler = slot.handler
        with self._busy_lock:
            self._busy.add(handler)
        try:
            self.pool.submit(self._work, handler)
        except RuntimeError:  # the pool is shut down: we are stopping
            handler.close()

    def _work(self, handler: Handler) -> None:
        keep = False
        try:
            keep = handler.run()
            while keep and self._next_request_soon(handler):
                keep = handler.run()
        except Exception:  # a bug in a handler must not cost the loop a connection slot
            log.exception("the proxy failed serving a connection")
        with self._busy_lock:  # the loop, stopping, closes what was handed back before
            self._busy.discard(handler)
            stopping = self._stopping.is_set()
            if not stopping:
                self._returned.append((handler, keep))
        if stopping:
            handler.close()
            return
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _next_request_soon(self, handler: Handler) -> bool:
        """True when a TLS connection's next request starts within `NEXT_REQUEST_S` (and the
        pool has room to spare): this worker serves it instead of the loop. A plain connection
        goes back to the loop, which collects its head without a thread."""
        if handler.plain or self._stopping.is_set() or len(self._busy) > WORKERS // 2:
            return False
        poller = select.poll()  # not select(): descriptors go past 1,024
        poller.register(handler.control, select.POLLIN)
        return bool(poller.poll(NEXT_REQUEST_S * 1000)) and not self._stopping.is_set()

    def _take_returned(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass
        while self._returned:
            handler, keep = self._returned.popleft()
            try:
                if keep:
                    self._wait(handler)
                else:
                    self._linger(handler)
            except (OSError, ValueError):  # the connection is gone already
                handler.close()

    def _linger(self, handler: Handler) -> None:
        """Close our side, then drop what the client still sends (so the answer is not reset)."""
        with contextlib.suppress(OSError):
            handler.control.shutdown(socket.SHUT_WR)
        self._wait(handler)
        slot = self._slots[handler.control.fileno()]
        slot.lingering = monotonic() + LINGER_S

    def _drain(self, fd: int, slot: _Slot) -> None:
        try:
            data = slot.handler.control.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._forget(fd)
            slot.handler.close()

    def _sweep(self, now: float) -> None:
        for fd, slot in list(self._slots.items()):
            if slot.lingering is not None:
                expired = now >= slot.lingering
            elif slot.head_started is not None:
                expired = now - slot.head_started >= HEAD_TIMEOUT_S
            else:
                expired = now - slot.idle_since >= IDLE_TIMEOUT_S
            if expired:
                self._forget(fd)
                slot.handler.close()

    def _forget(self, fd: int) -> None:
        self._slots.pop(fd, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.selector.unregister(fd)

    # -- stopping -----------------------------------------------------------------------
    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection (interrupting busy ones), end the loop."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        with self._busy_lock:
            busy = list(self._busy)
        for handler in busy:  # a worker blocked on this socket sees it end and returns
            with contextlib.suppress(OSError):
                handler.control.shutdown(socket.SHUT_RDWR)
        with self._start_lock:
            started = self._started
            if not started and not self._stopped.is_set():
                self._close_everything()
                self._stopped.set()
        if started:
            self._stopped.wait(timeout)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _close_everything(self) -> None:
        with self._busy_lock:  # handed back by workers, not yet taken by the loop
            returned = list(self._returned)
            self._returned.clear()
        for handler, _ in returned:
            handler.close()
        for fd, slot in list(self._slots.items()):
            self._forget(fd)
            slot.handler.close()
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.selector.unregister(self.listener)
        self.listener.close()
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()

    @property
    def open_connections(self) -> int:
        with self._busy_lock:
            return len(self._slots) + len(self._busy)

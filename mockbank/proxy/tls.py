"""TLS inside TLS: the tunnel's TLS session when the client already speaks TLS to the proxy."""

from __future__ import annotations

import io
import socket
import ssl
from typing import Any


class TLSInTLS:
    """A TLS server session running over an already-TLS socket (an ``https://`` proxy URL)."""

    def __init__(self, outer: ssl.SSLSocket, context: ssl.SSLContext) -> None:
        self.outer = outer
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._run(self._tls.do_handshake)

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self.outer.sendall(data)

    def _run(self, operation: Any, *args: Any) -> Any:
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                self._flush()
                data = self.outer.recv(65536)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    def recv(self, size: int) -> bytes:
        try:
            data: bytes = self._run(self._tls.read, size)
            return data
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def recv_into(self, buffer: Any, size: int = 0) -> int:
        data = self.recv(size or len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written: int = self._run(self._tls.write, view)
            view = view[written:]

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def makefile(self, mode: str = "rb", buffering: int = -1) -> Any:
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        return io.BufferedReader(raw)

    def _decref_socketios(self) -> None:
        pass  # SocketIO.close calls this on real sockets

    def settimeout(self, value: float | None) -> None:
        self.outer.settimeout(value)

    def pending(self) -> int:
        """Bytes already received that a read can return (or try to) without waiting."""
        outer = self.outer.pending() if isinstance(self.outer, ssl.SSLSocket) else 0
        return int(self._tls.pending()) + int(self._incoming.pending) + outer

    def close(self) -> None:
        self.outer.close()

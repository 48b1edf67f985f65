"""A connection that never sends a byte is closed after a bounded time on granian too.

granian cuts off a stalled request head and an idle keep-alive connection, but keeps a
connection that sends nothing at all; `mockbank.serving.reap_silent` (run every few seconds
while granian serves) shuts such sockets down after 120 s. Here its rule runs in this process
over real sockets with a short limit.
"""

from __future__ import annotations

import socket
import time

import pytest

from mockbank.serving import reap_silent


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="TCP_INFO is Linux-only")
def test_only_connections_that_never_sent_a_byte_are_shut_after_the_limit() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        silent = socket.create_connection(("127.0.0.1", port), timeout=5)
        silent_server, _ = listener.accept()
        talker = socket.create_connection(("127.0.0.1", port), timeout=5)
        talker_server, _ = listener.accept()
        talker.sendall(b"GET / HTTP/1.1\r\n")
        assert talker_server.recv(100)
        assert reap_silent(port, after=30) == 0  # nobody is silent for that long yet
        time.sleep(1.0)
        assert reap_silent(port, after=0.5) == 1
        assert silent.recv(10) == b""  # the silent client sees its connection end
        talker.settimeout(0.3)
        with pytest.raises(TimeoutError):
            talker.recv(10)  # the one that spoke is left alone
        listener.settimeout(0.1)  # the listener itself is untouched
        with pytest.raises(TimeoutError):
            listener.accept()
        for sock in (silent, silent_server, talker, talker_server):
            sock.close()

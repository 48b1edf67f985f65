"""The proxy's long-lived resources, owned by the app's `State`: the local CA and the pool of
keep-alive connections to targets. Both are made on first use; `close()` releases them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockbank.proxy.ca import LocalCA
    from mockbank.proxy.upstream import UpstreamPool

# The CA's files in its directory.
CA_CERT = "ca.pem"
CA_KEY = "ca.key"


class ProxyResources:
    """The CA (loaded or created in a directory) and the upstream pool that trusts it."""

    def __init__(self, ca_dir: Callable[[], Path]) -> None:
        self._ca_dir = ca_dir
        self._ca: LocalCA | None = None
        self._pool: UpstreamPool | None = None
        self._lock = threading.RLock()

    def ca(self, directory: Path | None = None) -> LocalCA:
        """The CA in use; the first call loads it from `directory` (else the state's ``ca/``)."""
        with self._lock:
            if self._ca is None:
                from mockbank.proxy.ca import LocalCA

                self._ca = LocalCA.load_or_create(directory or self._ca_dir())
            return self._ca

    def ca_path(self, directory: Path | None = None) -> Path:
        """The CA certificate's file, the CA made there if it is missing. An existing one is
        loaded (cryptography, some 30 ms) on its first TLS use, not now; `directory` becomes
        the one `ca()` loads from."""
        with self._lock:
            if self._ca is not None:
                return self._ca.cert_path
            if directory is not None:
                chosen = directory
                self._ca_dir = lambda: chosen
            where = self._ca_dir()
            if (where / CA_CERT).is_file() and (where / CA_KEY).is_file():
                return where / CA_CERT
        return self.ca().cert_path

    def use_ca(self, ca: LocalCA) -> None:
        """Serve with `ca` from now on (a proxy started with a CA of its own)."""
        with self._lock:
            if ca is not self._ca:
                self._ca = ca
                self.close_pool()  # its TLS context trusted the previous CA

    @property
    def has_ca(self) -> bool:
        return self._ca is not None

    def pool(self) -> UpstreamPool:
        """The upstream pool (its TLS context trusts the system CAs and this CA)."""
        with self._lock:
            if self._pool is None:
                from mockbank.proxy.upstream import UpstreamPool

                self._pool = UpstreamPool(self.ca().client_context())
            return self._pool

    def close_pool(self) -> None:
        """Close the pool's idle connections and forget it (the next use makes a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def close(self) -> None:
        """Close the pool and drop the CA's cached TLS contexts (`State.close()` calls this)."""
        self.close_pool()
        with self._lock:
            ca, self._ca = self._ca, None
        if ca is not None:
            ca.close()

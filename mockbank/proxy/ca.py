"""The proxy's local certificate authority: one X.509 v3 CA, leaves minted per host.

The CA persists in ``<state dir>/ca`` (key mode 0600) so a client trusts it once. Leaves are
EC P-256, carry the CA's key identifier (AKI) and the host as a DNS or IP SAN, so strict
verifiers (``VERIFY_X509_STRICT``, Python 3.13's default) accept them.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import ssl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mockbank.clock import wall_epoch
from mockbank.proxy.resources import CA_CERT, CA_KEY

CA_YEARS = 10
LEAF_DAYS = 397  # the longest lifetime Apple and Chrome accept for a TLS server certificate


def _wall_now() -> datetime:
    # Certificates are checked by clients against the machine's clock, never the app clock
    # (which a test may have frozen in 2014), so they read real time.
    return datetime.fromtimestamp(wall_epoch(), tz=UTC)


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by the owner only, from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


class LocalCA:
    """A CA certificate and key on disk, and a cache of leaf certificates per host."""

    def __init__(self, directory: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey):
        self.directory = directory
        self.cert = cert
        self.key = key
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        # One leaf key for every host: minting is then one signature, not a key generation.
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())

    @property
    def cert_path(self) -> Path:
        return self.directory / CA_CERT

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @classmethod
    def load_or_create(cls, directory: Path | str) -> LocalCA:
        """Load the CA from `directory`, creating it (key mode 0600) the first time."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        # Several server processes may share a state directory: one creates, the others load.
        with open(directory / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return cls._load_or_create_locked(directory)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @classmethod
    def _load_or_create_locked(cls, directory: Path) -> LocalCA:
        cert_path, key_path = directory / CA_CERT, directory / CA_KEY
        if cert_path.exists() and key_path.exists():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_path}: expected an EC private key")
            return cls(directory, cert, key)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _make_ca_cert(key)
        _write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(directory, cert, key)

    def leaf(self, host: str) -> x509.Certificate:
        """A server certificate for `host` (an IP literal becomes an IP SAN)."""
        now = _wall_now()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64] or "localhost")])
        try:
            san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            san = x509.DNSName(host)
        public = self._leaf_key.public_key()
        ca_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(self.cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=LEAF_DAYS - 1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )

    def server_context(self, host: str) -> ssl.SSLContext:
        """A TLS server context presenting a leaf for `host`, cached per host."""
        host = host.lower()
        with self._lock:
            context = self._contexts.get(host)
            if context is not None:
                return context
            leaves = self.directory / "leaves"
            leaves.mkdir(exist_ok=True)
            safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in host) or "_"
            chain = leaves / f"{safe}.pem"
            key_pem = self._leaf_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # ssl only loads chains from files; the file holds the leaf key, hence 0600.
            _write_private(
                chain,
                self.leaf(host).public_bytes(serialization.Encoding.PEM)
                + self.cert.public_bytes(serialization.Encoding.PEM)
                + key_pem,
            )
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(chain)
            context.set_alpn_protocols(["http/1.1"])
            self._contexts[host] = context
            return context

    @property
    def cached_hosts(self) -> list[str]:
        """Hosts with a server context in the cache."""
        with self._lock:
            return sorted(self._contexts)

    def close(self) -> None:
        """Drop the cached server contexts (minted again on next use)."""
        with self._lock:
            self._contexts.clear()

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting the system CAs and this CA (for local HTTPS targets)."""
        context = ssl.create_default_context()
        context.load_verify_locations(cadata=self.pem)
        return context


def _make_ca_cert(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    now = _wall_now()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mockbank"),
            x509.NameAttribute(NameOID.COMMON_NAME, "mockbank local proxy CA"),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )

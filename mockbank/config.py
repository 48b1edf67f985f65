"""Settings for one app: what ``mockbank serve`` flags and ``MOCKBANK_*`` variables set."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mockbank.outbound import parse_upstreams

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_PROXY_PORT = 8788
DEFAULT_SEED = 1234

# `mockbank serve` exit codes (documented in the README).
EXIT_INVALID = 2  # a flag, variable or fixture value that cannot be right
EXIT_UNUSABLE = 3  # a resource that cannot be used: a port in use, an unusable --state


class StartupError(ValueError):
    """A setting mockbank cannot start with; the message names it, its value and the fix."""

    exit_code = EXIT_INVALID


class ResourceUnusable(StartupError):
    """A port or directory that exists as a setting but cannot be used right now."""

    exit_code = EXIT_UNUSABLE


def parse_port(value: str | int, name: str) -> int:
    """A port from a flag (``--port``) or variable (``MOCKBANK_PORT``): 0 to 65535."""
    shown = f"{name}={value}" if name.startswith("MOCKBANK_") else f"{name} {value}"
    text = str(value).strip()
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise StartupError(
            f"{shown} is not a port; use a number from 0 to 65535 (0 picks a free port)"
        )
    return int(text)


def parse_whole(value: str | int, name: str, low: int = 0, example: int = 16) -> int:
    """A whole number from a flag or variable, at least `low`."""
    shown = f"{name}={value}" if name.startswith("MOCKBANK_") else f"{name} {value}"
    text = str(value).strip()
    digits = text[1:] if text.startswith("-") else text
    if not digits.isdigit():
        raise StartupError(
            f"{shown} is not a whole number; give digits only, e.g. {name} {example}"
        )
    if int(text) < low:
        raise StartupError(f"{shown} is too small; give a whole number of at least {low}")
    return int(text)


def check_state_dir(path: Path, name: str = "--state") -> None:
    """Refuse a ``--state`` directory that cannot hold the store, saying what is wrong."""
    fix = "pick another path, or leave --state out to keep state in memory"
    if path.exists() and not path.is_dir():
        raise ResourceUnusable(f"{name} {path} is a file, not a directory; {fix}")
    if not path.exists():
        parent = path.parent
        if parent.exists() and not parent.is_dir():
            raise ResourceUnusable(f"{name} {path}: {parent} is a file, not a directory; {fix}")
        if not parent.exists():
            raise ResourceUnusable(
                f"{name} {path}: its parent directory {parent} does not exist; "
                f"create it (mkdir -p {parent}) or {fix}"
            )
        target = parent
    else:
        target = path
    if not os.access(target, os.W_OK | os.X_OK):
        what = "directory" if target == path else "parent directory"
        raise ResourceUnusable(
            f"{name} {path}: the {what} {target} is not writable by this user; "
            f"change its permissions or {fix}"
        )


@dataclass(frozen=True)
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    proxy_port: int = DEFAULT_PROXY_PORT
    state_path: Path | None = None
    fixtures_dir: Path | None = None
    seed: int = DEFAULT_SEED
    upstreams: Mapping[str, str] = field(default_factory=dict)
    allow_outbound: frozenset[str] = frozenset()
    control_token: str | None = None
    # The URL clients reach this server by, when a reverse proxy stands in front of it.
    public_url: str | None = None
    trusted_proxies: frozenset[str] = frozenset()
    journal_capacity: int = 10_000
    # This process's name in the journal and the outbox (several serve one shared store).
    instance: str = ""
    # A shared store's URL (``postgresql://...``); None: memory, or SQLite under state_path.
    store_url: str | None = None
    # The journal's memory bound: the oldest entries go once their bodies add up to this.
    journal_max_bytes: int = 32 * 1024 * 1024
    max_body_bytes: int = 1024 * 1024
    # Provider settings, keyed "provider.setting" (e.g. "centagate.challenge_ttl_s").
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Config:
        """Build from a dict of field names; unknown keys land in `options`."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in values.items() if k in names}
        extra = {k: v for k, v in values.items() if k not in names}
        config = cls(**known)
        if extra:
            config = replace(config, options={**config.options, **extra})
        return config.normalized()

    def normalized(self) -> Config:
        return replace(
            self,
            state_path=Path(self.state_path) if self.state_path else None,
            fixtures_dir=Path(self.fixtures_dir) if self.fixtures_dir else None,
            upstreams={k.lower(): v for k, v in self.upstreams.items()},
            allow_outbound=frozenset(h.lower() for h in self.allow_outbound),
            trusted_proxies=frozenset(self.trusted_proxies),
            public_url=read_public_url(self.public_url),
        )

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    @property
    def state_dir(self) -> Path:
        """Where persistent files live: ``--state PATH``, else the user's data directory."""
        if self.state_path is not None:
            return self.state_path
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "mockbank"


def read_public_url(value: str | None) -> str | None:
    """Validate ``--public-url``: an http(s) URL with a host; returned without a trailing /."""
    if value is None or not value.strip():
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--public-url must be an http:// or https:// URL, got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"--public-url takes no query or fragment, got {value!r}")
    return value.strip().rstrip("/")


def _split(value: str | None) -> list[str]:
    if not value:
        return []
    return [part for part in value.replace(",", " ").split() if part]


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings given as ``MOCKBANK_*`` environment variables."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if "MOCKBANK_HOST" in env:
        values["host"] = env["MOCKBANK_HOST"]
    for name in ("port", "proxy_port"):
        key = f"MOCKBANK_{name.upper()}"
        if key in env:
            values[name] = parse_port(env[key], key)
    if "MOCKBANK_SEED" in env:
        values["seed"] = parse_whole(env["MOCKBANK_SEED"], "MOCKBANK_SEED", example=DEFAULT_SEED)
    if env.get("MOCKBANK_STATE"):
        values["state_path"] = Path(env["MOCKBANK_STATE"])
    if env.get("MOCKBANK_STORE"):
        values["store_url"] = env["MOCKBANK_STORE"]
    if env.get("MOCKBANK_INSTANCE"):
        values["instance"] = env["MOCKBANK_INSTANCE"]
    if env.get("MOCKBANK_FIXTURES"):
        values["fixtures_dir"] = Path(env["MOCKBANK_FIXTURES"])
    if env.get("MOCKBANK_UPSTREAM"):
        values["upstreams"] = parse_upstreams(_split(env["MOCKBANK_UPSTREAM"]))
    if env.get("MOCKBANK_ALLOW_OUTBOUND"):
        values["allow_outbound"] = frozenset(_split(env["MOCKBANK_ALLOW_OUTBOUND"]))
    if env.get("MOCKBANK_CONTROL_TOKEN"):
        values["control_token"] = env["MOCKBANK_CONTROL_TOKEN"]
    if env.get("MOCKBANK_PUBLIC_URL"):
        values["public_url"] = env["MOCKBANK_PUBLIC_URL"]
    if env.get("MOCKBANK_TRUSTED_PROXIES"):
        values["trusted_proxies"] = frozenset(_split(env["MOCKBANK_TRUSTED_PROXIES"]))
    return values


def redact_store_url(url: str) -> str:
    """A store URL fit to print: any password replaced."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def check_store_url(url: str, name: str = "--store") -> None:
    """Refuse a store URL mockbank cannot use, saying what would work."""
    from urllib.parse import urlsplit

    scheme = urlsplit(url).scheme
    if scheme not in ("postgresql", "postgres"):
        raise StartupError(
            f"{name} {redact_store_url(url)!r} is not a postgresql:// URL; "
            "use --state DIR for SQLite, or leave both out to keep state in memory"
        )
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise StartupError(
            f"{name} needs the PostgreSQL driver: pip install 'mockbank[postgresql]'"
        ) from None

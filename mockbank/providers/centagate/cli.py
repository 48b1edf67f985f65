"""Centagate's ``mockbank`` commands: ``centagate-otp`` acts as the CENTAGATE app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mockbank.clients import centagate as client
from mockbank.fixtures import FixtureError, FixtureReader, default_dir, load_json


def _fail(message: str) -> int:
    print(f"centagate-otp: {message}", file=sys.stderr)
    return 2


def _device_secret(device: str, fixtures_dir: str | None) -> str:
    """The device's secret from the fixtures; ValueError saying why not."""
    from mockbank.providers.centagate.admin import load_fixtures  # not on `serve`'s path

    directory = Path(fixtures_dir) if fixtures_dir else default_dir()
    try:
        path, data = load_json(directory, "centagate")
        fixtures = load_fixtures(FixtureReader(path, data))
    except FixtureError as error:
        raise ValueError(str(error)) from None
    found = fixtures.devices.get(device)
    if found is None:
        known = ", ".join(sorted(fixtures.devices))
        raise ValueError(f"no device {device!r} in {path} (known: {known}); pass --secret")
    return found.secret


def otp_command(args: argparse.Namespace) -> int:
    """``mockbank centagate-otp --device ID --qr CONTENT``: print the OTP the app would show."""
    try:
        content = client.parse_qr(args.qr)
    except ValueError as error:
        return _fail(str(error))
    if content.dev_acc_id != args.device:
        return _fail(f"this QR is for device {content.dev_acc_id}, not {args.device}")
    secret = args.secret
    if secret is None:
        try:
            secret = _device_secret(args.device, args.fixtures)
        except ValueError as error:
            return _fail(str(error))
    print(client.device_otp(secret, content.otp_challenge, content.plain_text))
    return 0


def cli(subparsers: Any) -> None:
    """Add ``centagate-otp`` to the ``mockbank`` command."""
    p = subparsers.add_parser(
        "centagate-otp",
        help="act as the CENTAGATE app: print the OTP for a scanned QR code",
        description="Print the 6-digit OTP a CENTAGATE device shows for a qrCode string.",
    )
    p.add_argument("--device", required=True, help="device account id (devAccId)")
    p.add_argument("--qr", required=True, help="the qrCode string returned by requestQrCode")
    p.add_argument("--secret", help="device secret (default: read from the fixtures)")
    p.add_argument("--fixtures", help="fixtures directory (default: the packaged fixtures)")
    p.set_defaults(func=otp_command)

"""Centagate (SecureMetric CENTAGATE Cloud): QR-code transaction signing with a simulated app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mockbank.clients import centagate as client
from mockbank.fixtures import FixtureError, FixtureReader, default_dir, load_json
from mockbank.masking import mask_cards
from mockbank.providers import Provider
from mockbank.providers.centagate import errors, models, settings, views
from mockbank.providers.centagate.routes import bp, qr_data_uri
from mockbank.providers.centagate.settings import read_settings
from mockbank.state import State


def _seed(state: State) -> None:
    settings.seed(state.store, state.fixtures["centagate"], now=state.now())


def _state_view(state: State) -> dict[str, Any]:
    return views.state_view(state.store, state.fixtures["centagate"], now=state.now())


def _credentials(fixtures: models.CentagateFixtures | None) -> list[tuple[str, str]]:
    if fixtures is None:
        return []
    lines: list[tuple[str, str]] = []
    for app in fixtures.apps.values():
        lines.append(("integrationKey", f"{app.integration_key} (HMAC order: {app.hmac_order})"))
        lines.append(("secretKey", app.secret_key))
    for user in fixtures.users.values():
        devices = ", ".join(
            f"{d} (secret {fixtures.devices[d].secret}, {fixtures.devices[d].status})"
            for d in user.devices
        )
        lines.append((f"user {user.username}", f"{user.status}; devices: {devices or 'none'}"))
    for dev_acc_id in fixtures.devices:
        lines.append(("device page", f"/centagate/device/{dev_acc_id}"))
    return lines


def _magic_values() -> dict[str, Any]:
    return {
        # The 2018 table the errors are named after, and the current one (the default).
        "return_codes": {str(cls.return_code): cls.message for cls in errors.ERROR_CLASSES},
        "return_codes_current": {
            str(code): {"code": str(current), "message": message}
            for code, (current, message) in errors.CURRENT_CODES.items()
        },
        "return_code_tables": list(errors.RETURN_CODE_TABLES),
        "users": {
            "alice": "active; device alice-device-1 (active), alice-device-old (inactive: 36004)",
            "bob": "inactive (22004)",
            "carol": "active, no device (23013)",
            "anyone else": "22002",
        },
        "hmac_orders": {
            "authQRCode": {k: list(v) for k, v in client.AUTH_QR_ORDERS.items()},
            "requestQrCode": {k: list(v) for k, v in client.REQUEST_QR_ORDERS.items()},
        },
        "otp_rule": (
            "HOTP-truncate(HMAC-SHA1(device secret, otpChallenge + ':' + "
            "hex(SHA-256(plainText)))) mod 10^6, 6 digits"
        ),
        "challenge_ttl_s": models.DEFAULT_CHALLENGE_TTL_S,
        "timestamp_window_s": 300,
        "wrong_otps_before_lock": models.MAX_WRONG_OTPS,
    }


def _otp_command(args: argparse.Namespace) -> int:
    """``mockbank centagate-otp --device ID --qr CONTENT``: print the OTP the app would show."""
    try:
        content = client.parse_qr(args.qr)
    except ValueError as error:
        print(f"centagate-otp: {error}", file=sys.stderr)
        return 2
    if content.dev_acc_id != args.device:
        print(
            f"centagate-otp: this QR is for device {content.dev_acc_id}, not {args.device}",
            file=sys.stderr,
        )
        return 2
    secret = args.secret
    if secret is None:
        directory = Path(args.fixtures) if args.fixtures else default_dir()
        try:
            path, data = load_json(directory, "centagate")
            fixtures = settings.load_fixtures(FixtureReader(path, data))
        except FixtureError as error:
            print(f"centagate-otp: {error}", file=sys.stderr)
            return 2
        device = fixtures.devices.get(args.device)
        if device is None:
            known = ", ".join(sorted(fixtures.devices))
            print(
                f"centagate-otp: no device {args.device!r} in {path} (known: {known}); "
                "pass --secret",
                file=sys.stderr,
            )
            return 2
        secret = device.secret
    print(client.device_otp(secret, content.otp_challenge, content.plain_text))
    return 0


def _cli(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "centagate-otp",
        help="act as the CENTAGATE app: print the OTP for a scanned QR code",
        description="Print the 6-digit OTP a CENTAGATE device shows for a qrCode string.",
    )
    p.add_argument("--device", required=True, help="device account id (devAccId)")
    p.add_argument("--qr", required=True, help="the qrCode string returned by requestQrCode")
    p.add_argument("--secret", help="device secret (default: read from the fixtures)")
    p.add_argument("--fixtures", help="fixtures directory (default: the packaged fixtures)")
    p.set_defaults(func=_otp_command)


def _dashboard(state: State) -> list[dict[str, str]]:
    """Pending challenges with their QR codes, as a person scanning them would see them."""
    items = []
    for dev_acc_id in state.fixtures["centagate"].devices:
        for challenge in models.pending_challenges(state.store, dev_acc_id, now=state.now()):
            content = client.qr_content(
                dev_acc_id, challenge["otpChallenge"], challenge["plainText"]
            )
            items.append(
                {
                    "label": f"{dev_acc_id}: challenge {challenge['otpChallenge']}",
                    "detail": mask_cards(challenge["plainText"]),
                    "image": qr_data_uri(content),
                    "href": f"/centagate/device/{dev_acc_id}",
                }
            )
    return items


provider = Provider(
    name="centagate",
    title="Centagate",
    blueprint=bp,
    render_error=errors.render,
    read_settings=read_settings,
    hosts=("centagate.example",),
    load_fixtures=settings.load_fixtures,
    seed=_seed,
    state_view=_state_view,
    magic_values=_magic_values,
    credentials=_credentials,
    cli=_cli,
    dashboard=_dashboard,
)

"""Centagate's operator side: fixtures, seeding, the state view, the dashboard card, the magic
values and the credentials banner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mockbank.clients import centagate as client
from mockbank.fixtures import FixtureReader
from mockbank.masking import mask_cards
from mockbank.providers.centagate import errors, models
from mockbank.providers.centagate.models import (
    App,
    CentagateFixtures,
    DeviceAccount,
    User,
)
from mockbank.providers.centagate.qr import qr_data_uri
from mockbank.providers.centagate.records import (
    NS_CHALLENGE,
    NS_DEVICE,
    NS_TRANSACTION,
    NS_USER,
    Challenge,
    DeviceState,
    Status,
    Transaction,
    UserState,
)
from mockbank.state import State


# -- fixtures ---------------------------------------------------------------------------------
def _status(reader: FixtureReader, where: str) -> Status:
    value = reader.get(where, str, default="active")
    if value not in {s.value for s in Status}:
        raise reader.fail(where, f"must be 'active' or 'inactive', not {value!r}")
    return Status(value)


def _load_app(reader: FixtureReader, where: str) -> App:
    order = reader.get(f"{where}.hmacOrder", str, default="any")
    if order != "any" and order not in client.ORDER_NAMES:
        raise reader.fail(
            f"{where}.hmacOrder", f"must be 'any' or one of {', '.join(client.ORDER_NAMES)}"
        )
    codes = reader.get(f"{where}.returnCodes", str, default="") or None
    if codes is not None and codes not in errors.RETURN_CODE_TABLES:
        raise reader.fail(
            f"{where}.returnCodes", f"must be one of {', '.join(errors.RETURN_CODE_TABLES)}"
        )
    app = App(
        app_id=reader.get(f"{where}.appId", str),
        name=reader.get(f"{where}.name", str, default="app"),
        integration_key=reader.get(f"{where}.integrationKey", str),
        secret_key=reader.get(f"{where}.secretKey", str),
        hmac_order=order,
        return_codes=codes,
    )
    if not app.integration_key or not app.secret_key:
        raise reader.fail(where, "integrationKey and secretKey must not be empty")
    return app


def _load_apps(reader: FixtureReader) -> dict[str, App]:
    apps: dict[str, App] = {}
    for where, _node in reader.items("apps"):
        app = _load_app(reader, where)
        if app.integration_key in apps:
            raise reader.fail(f"{where}.integrationKey", "is used by another app")
        apps[app.integration_key] = app
    return apps


def _load_device(
    reader: FixtureReader, where: str, username: str, devices: dict[str, DeviceAccount]
) -> DeviceAccount:
    dev_acc_id = reader.get(f"{where}.devAccId", str)
    secret = reader.get(f"{where}.secret", str)
    if not dev_acc_id or dev_acc_id in devices:
        raise reader.fail(f"{where}.devAccId", "must be non-empty and unique")
    if not secret:
        raise reader.fail(f"{where}.secret", "must not be empty")
    return DeviceAccount(
        dev_acc_id=dev_acc_id,
        username=username,
        secret=secret,
        status=_status(reader, f"{where}.status"),
        label=reader.get(f"{where}.label", str, default=dev_acc_id),
    )


def _load_users(reader: FixtureReader) -> tuple[dict[str, User], dict[str, DeviceAccount]]:
    users: dict[str, User] = {}
    devices: dict[str, DeviceAccount] = {}
    for where, node in reader.items("users"):
        if not isinstance(node, dict):
            raise reader.fail(where, "expected an object")
        username = reader.get(f"{where}.username", str)
        if not username or username in users:
            raise reader.fail(f"{where}.username", "must be non-empty and unique")
        owned: list[str] = []
        for index, device_node in enumerate(reader.get(f"{where}.devices", list, default=[])):
            if not isinstance(device_node, dict):
                raise reader.fail(f"{where}.devices.{index}", "expected an object")
            device = _load_device(reader, f"{where}.devices.{index}", username, devices)
            devices[device.dev_acc_id] = device
            owned.append(device.dev_acc_id)
        users[username] = User(
            username=username,
            user_id=reader.get(f"{where}.userId", str),
            email=reader.get(f"{where}.email", str, default=""),
            status=_status(reader, f"{where}.status"),
            devices=tuple(owned),
        )
    return users, devices


def load_fixtures(reader: FixtureReader) -> CentagateFixtures:
    """Validate ``fixtures/centagate.json``; errors name the file and the field."""
    apps = _load_apps(reader)
    company = reader.get("company", dict, default={})
    users, devices = _load_users(reader)
    if not apps:
        raise reader.fail("apps", "at least one app is required")
    return CentagateFixtures(apps, users, devices, {k: str(v) for k, v in company.items()})


def fixtures(state: State) -> CentagateFixtures:
    """This state's validated Centagate fixtures."""
    found: CentagateFixtures = state.fixtures["centagate"]
    return found


# -- seed and state view ----------------------------------------------------------------------
def seed(state: State) -> None:
    """Write users and device accounts (status, wrong-OTP count) where absent.

    A device locked by wrong OTPs stays locked across restarts until a reset.
    """
    now = state.now()
    found = fixtures(state)
    for user in found.users.values():
        record = UserState(username=user.username, status=user.status, last_success_login=0)
        state.store.add(NS_USER, user.username, record.to_value(), now=now)
    for device in found.devices.values():
        stored = DeviceState(
            dev_acc_id=device.dev_acc_id,
            username=device.username,
            status=device.status,
            failed_attempts=0,
            locked=False,
        )
        state.store.add(NS_DEVICE, device.dev_acc_id, stored.to_value(), now=now)


def _user_view(user: UserState) -> dict[str, Any]:
    # The wire keeps Centagate's epoch milliseconds; here it is ISO-8601, because a 13-digit
    # number passes the Luhn check one time in ten and reads as a card number to leak scanners.
    millis = user.last_success_login
    when = datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat() if millis else None
    return {**user.to_value(), "lastSuccessLogin": when}


def _challenge_view(state: State, challenge: Challenge) -> dict[str, Any]:
    found = models.challenge_state(state.store, challenge.otp_challenge, now=state.now())
    return {
        "otpChallenge": challenge.otp_challenge,
        "username": challenge.username,
        "devAccId": challenge.dev_acc_id,
        "plainText": challenge.plain_text,
        "state": found.value if found else None,
        "approvedAt": challenge.approved_at,
        "expiresAt": challenge.expires_at,
    }


def state_view(state: State) -> dict[str, Any]:
    """Apps, users, devices, challenges and signed transactions; secrets left out."""
    store = state.store
    return {
        "apps": [
            {
                "appId": a.app_id,
                "name": a.name,
                "integrationKey": a.integration_key,
                "secretKey": "***",
                "hmacOrder": a.hmac_order,
            }
            for a in fixtures(state).apps.values()
        ],
        "users": [_user_view(UserState.from_value(r.value)) for r in store.records(NS_USER)],
        "devices": [DeviceState.from_value(r.value).to_value() for r in store.records(NS_DEVICE)],
        "challenges": [
            _challenge_view(state, Challenge.from_value(r.value))
            for r in store.records(NS_CHALLENGE)
        ],
        "transactions": [
            Transaction.from_value(r.value).to_value() for r in store.records(NS_TRANSACTION)
        ],
    }


def dashboard(state: State) -> list[dict[str, str]]:
    """Pending challenges with their QR codes, as a person scanning them would see them."""
    items = []
    for dev_acc_id in fixtures(state).devices:
        for challenge in models.pending_challenges(state.store, dev_acc_id, now=state.now()):
            items.append(
                {
                    "label": f"{dev_acc_id}: challenge {challenge.otp_challenge}",
                    "detail": mask_cards(challenge.plain_text),
                    "image": qr_data_uri(
                        client.qr_content(dev_acc_id, challenge.otp_challenge, challenge.plain_text)
                    ),
                    "href": f"/centagate/device/{dev_acc_id}",
                }
            )
    return items


# -- tables for people ------------------------------------------------------------------------
def credentials(fixtures: CentagateFixtures | None) -> list[tuple[str, str]]:
    """The banner's lines: app keys, users with their devices, the device pages."""
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


def magic_values() -> dict[str, Any]:
    """The return-code tables, the seeded users, the HMAC orders and the OTP rule."""
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

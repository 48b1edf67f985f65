"""Centagate's start-up inputs, read and checked once when the app is built: the fixtures
(apps, users, device accounts) and the ``centagate.*`` options. A bad value stops the app with
an error naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mockbank.clients.centagate import ORDER_NAMES
from mockbank.fixtures import FixtureReader
from mockbank.providers.centagate.errors import DEFAULT_RETURN_CODES, RETURN_CODE_TABLES
from mockbank.providers.centagate.models import (
    DEFAULT_CHALLENGE_TTL_S,
    NS_DEVICE,
    NS_USER,
    App,
    CentagateFixtures,
    DeviceAccount,
    Status,
    User,
)
from mockbank.settings import check_known, choice, positive_seconds, provider_settings
from mockbank.store import Store

if TYPE_CHECKING:
    from mockbank.state import State


def _status(reader: FixtureReader, where: str) -> Status:
    value = reader.get(where, str, default="active")
    if value not in {s.value for s in Status}:
        raise reader.fail(where, f"must be 'active' or 'inactive', not {value!r}")
    return Status(value)


def load_fixtures(reader: FixtureReader) -> CentagateFixtures:
    """Validate ``fixtures/centagate.json``; errors name the file and the field."""
    apps: dict[str, App] = {}
    for where, _node in reader.items("apps"):
        order = reader.get(f"{where}.hmacOrder", str, default="any")
        if order != "any" and order not in ORDER_NAMES:
            raise reader.fail(
                f"{where}.hmacOrder", f"must be 'any' or one of {', '.join(ORDER_NAMES)}"
            )
        codes = reader.get(f"{where}.returnCodes", str, default="") or None
        if codes is not None and codes not in RETURN_CODE_TABLES:
            raise reader.fail(
                f"{where}.returnCodes", f"must be one of {', '.join(RETURN_CODE_TABLES)}"
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
        if app.integration_key in apps:
            raise reader.fail(f"{where}.integrationKey", "is used by another app")
        apps[app.integration_key] = app
    company = reader.get("company", dict, default={})
    users: dict[str, User] = {}
    devices: dict[str, DeviceAccount] = {}
    for where, node in reader.items("users"):
        if not isinstance(node, dict):
            raise reader.fail(where, "expected an object")
        username = reader.get(f"{where}.username", str)
        if not username or username in users:
            raise reader.fail(f"{where}.username", "must be non-empty and unique")
        owned: list[str] = []
        for index, device in enumerate(reader.get(f"{where}.devices", list, default=[])):
            dwhere = f"{where}.devices.{index}"
            if not isinstance(device, dict):
                raise reader.fail(dwhere, "expected an object")
            dev_acc_id = reader.get(f"{dwhere}.devAccId", str)
            secret = reader.get(f"{dwhere}.secret", str)
            if not dev_acc_id or dev_acc_id in devices:
                raise reader.fail(f"{dwhere}.devAccId", "must be non-empty and unique")
            if not secret:
                raise reader.fail(f"{dwhere}.secret", "must not be empty")
            devices[dev_acc_id] = DeviceAccount(
                dev_acc_id=dev_acc_id,
                username=username,
                secret=secret,
                status=_status(reader, f"{dwhere}.status"),
                label=reader.get(f"{dwhere}.label", str, default=dev_acc_id),
            )
            owned.append(dev_acc_id)
        users[username] = User(
            username=username,
            user_id=reader.get(f"{where}.userId", str),
            email=reader.get(f"{where}.email", str, default=""),
            status=_status(reader, f"{where}.status"),
            devices=tuple(owned),
        )
    if not apps:
        raise reader.fail("apps", "at least one app is required")
    return CentagateFixtures(apps, users, devices, {k: str(v) for k, v in company.items()})


def seed(store: Store, fixtures: CentagateFixtures, *, now: datetime) -> None:
    """Write users and device accounts (status, wrong-OTP count) where absent.

    A device locked by wrong OTPs stays locked across restarts until a reset.
    """
    for user in fixtures.users.values():
        store.add(
            NS_USER,
            user.username,
            {"username": user.username, "status": user.status.value, "lastSuccessLogin": 0},
            now=now,
        )
    for device in fixtures.devices.values():
        store.add(
            NS_DEVICE,
            device.dev_acc_id,
            {
                "devAccId": device.dev_acc_id,
                "username": device.username,
                "status": device.status.value,
                "failedAttempts": 0,
                "locked": False,
            },
            now=now,
        )


@dataclass(frozen=True)
class Settings:
    """The app's ``centagate.*`` options, checked: a bad value fails at start, not per request."""

    hmac_order: str | None  # None: each app's own fixture setting
    challenge_ttl_s: float
    return_codes: str = DEFAULT_RETURN_CODES  # apps without their own returnCodes use it


MAX_CHALLENGE_TTL_S = 366 * 86_400


OPTIONS = ("hmac_order", "challenge_ttl_s", "return_codes")


def read_settings(options: Mapping[str, Any]) -> Settings:
    """The ``centagate.*`` options, checked; a `SettingError` names a bad or unknown one."""
    check_known(options, "centagate", OPTIONS)
    order = options.get("centagate.hmac_order")
    if order is not None:
        order = choice(options, "centagate.hmac_order", "any", ("any", *ORDER_NAMES))
    ttl_s = positive_seconds(
        options, "centagate.challenge_ttl_s", DEFAULT_CHALLENGE_TTL_S, high=MAX_CHALLENGE_TTL_S
    )
    codes = choice(options, "centagate.return_codes", DEFAULT_RETURN_CODES, RETURN_CODE_TABLES)
    return Settings(hmac_order=order, challenge_ttl_s=ttl_s, return_codes=codes)


def settings(state: State) -> Settings:
    """This app's checked ``centagate.*`` options (read once, at start)."""
    return provider_settings(state, "centagate", Settings)

"""Every provider's options are read once, when the app is built: a malformed or unknown
``<provider>.<option>`` stops `create_app` with an error naming it, instead of an app that
starts and then answers 500 (or silently ignores a typo) per request."""

from __future__ import annotations

from typing import Any

import pytest

from mockbank.app import create_app
from mockbank.config import StartupError
from mockbank.settings import SettingError


def refused(option: str, value: Any) -> str:
    with pytest.raises(SettingError) as caught:
        create_app({option: value})
    message = str(caught.value)
    assert message.startswith(option), message
    assert isinstance(caught.value, StartupError)  # mockbank serve: one line, exit code 2
    return message


def test_quickstream_refuses_an_option_it_does_not_have() -> None:
    assert "quickstream.hosts" in refused("quickstream.notify_retries", 3)
    assert create_app({"quickstream.hosts": "qs.test"}) is not None


def test_syspay_settings_are_checked_at_start() -> None:
    for value in ("soon", -1, 0, True, float("nan"), 10**9, None):
        assert "seconds" in refused("syspay.redirect_ttl_s", value)
    assert "seconds" in refused("syspay.created_window_s", "5 minutes")
    assert "syspay.redirect_ttl_s" in refused("syspay.redirect_tll_s", 30)
    app = create_app({"syspay.redirect_ttl_s": "30", "syspay.created_window_s": 60})
    assert app.extensions["mockbank"].settings["syspay"].redirect_ttl_s == 30.0


def test_centagate_settings_are_checked_at_start() -> None:
    assert "legacy" in refused("centagate.hmac_order", "backwards")
    assert "seconds" in refused("centagate.challenge_ttl_s", "three minutes")
    assert "current" in refused("centagate.return_codes", "2015")
    refused("centagate.challenge_ttl", 30)


def test_forter_settings_are_checked_at_start() -> None:
    assert "base64, hex" in refused("forter.hmac_encoding", "base32")
    assert "seconds" in refused("forter.single_use_ttl_s", "a day")
    refused("forter.single_use_ttl_s", 0)
    refused("forter.hmac", "hex")
    app = create_app({"forter.hmac_encoding": "hex", "forter.single_use_ttl_s": 60})
    assert app.extensions["mockbank"].settings["forter"].hmac_encoding == "hex"


def test_tokenos_settings_are_checked_at_start() -> None:
    assert "true or false" in refused("tokenos.lenient_signatures", "sometimes")
    for option in (
        "tokenos.token_request_ttl_s",
        "tokenos.balance_cache_s",
        "tokenos.decoupled_approval_s",
        "tokenos.settlement_s",
    ):
        assert "seconds" in refused(option, "later")
    refused("tokenos.token_request_ttl_s", 0)
    refused("tokenos.lenient", True)
    app = create_app({"tokenos.lenient_signatures": "yes", "tokenos.settlement_s": 5})
    found = app.extensions["mockbank"].settings["tokenos"]
    assert (found.lenient_signatures, found.payments.settlement_s) == (True, 5.0)

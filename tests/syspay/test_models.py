"""SysPay's rules called directly (no HTTP): who is calling, and a one-time URL's life.

`authenticate` and `peek_redirect` were in the views; these pin the rules they carry.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mockbank.clients.syspay import wsse_header
from mockbank.providers.syspay import errors, models
from mockbank.providers.syspay.admin import fixtures_of
from mockbank.providers.syspay.auth import Identity, LoginKind
from mockbank.providers.syspay.records import NS_NONCE, NS_REDIRECT, DetokenizeType, RedirectStatus
from mockbank.state import State
from tests.syspay.helpers import MERCHANT, PARTNER, SEED_TOKEN

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
WINDOW_S = 300.0


def _authenticate(state: State, header: str, kind: LoginKind, heard: list[Identity]) -> Identity:
    return models.authenticate(
        state.store,
        fixtures_of(state),
        header,
        expected=kind,
        now=NOW,
        window_s=WINDOW_S,
        identified=heard.append,
    )


def _header(
    who: tuple[str, str] = PARTNER, *, acting_partner: tuple[str, str] | None = None
) -> str:
    partner = acting_partner is None and who != MERCHANT
    return wsse_header(
        *who, partner=partner, created=int(NOW.timestamp()), acting_partner=acting_partner
    )


def test_authenticate_names_the_caller_and_leaves_the_nonce_unspent(state: State) -> None:
    heard: list[Identity] = []
    header = _header()
    identity = _authenticate(state, header, LoginKind.PARTNER, heard)
    assert (identity.kind, identity.login) == (LoginKind.PARTNER, "myPartnerLogin")
    assert heard == [identity]
    assert state.store.record(NS_NONCE, identity.nonce_key) is None
    # Not spent: the same header passes again until a request succeeds with it.
    assert _authenticate(state, header, LoginKind.PARTNER, []) == identity


def test_authenticate_refuses_a_spent_nonce_before_anyone_hears_of_the_caller(
    state: State,
) -> None:
    header = _header()
    identity = _authenticate(state, header, LoginKind.PARTNER, [])
    models.spend_nonce(state.store, identity, now=NOW)
    heard: list[Identity] = []
    with pytest.raises(errors.ReplayedNonce):
        _authenticate(state, header, LoginKind.PARTNER, heard)
    assert heard == []


def test_an_unlinked_acting_partner_is_refused_after_the_caller_is_named(state: State) -> None:
    fixtures = fixtures_of(state)
    merchant = replace(fixtures.merchants[MERCHANT[0]], partners=())
    state.fixtures["syspay"] = replace(fixtures, merchants={MERCHANT[0]: merchant})
    heard: list[Identity] = []
    header = _header(MERCHANT, acting_partner=PARTNER)
    with pytest.raises(errors.PartnerNotLinked):
        _authenticate(state, header, LoginKind.MERCHANT, heard)
    assert [(i.login, i.acting_partner) for i in heard] == [(MERCHANT[0], PARTNER[0])]


def test_a_linked_acting_partner_passes(state: State) -> None:
    header = _header(MERCHANT, acting_partner=PARTNER)
    identity = _authenticate(state, header, LoginKind.MERCHANT, [])
    assert identity.acting_partner == PARTNER[0]


def test_authenticate_checks_the_window_it_is_given(state: State) -> None:
    header = wsse_header(*PARTNER, created=int(NOW.timestamp()) - 301)
    with pytest.raises(errors.StaleCreated):
        _authenticate(state, header, LoginKind.PARTNER, [])
    identity = models.authenticate(
        state.store,
        fixtures_of(state),
        header,
        expected=LoginKind.PARTNER,
        now=NOW,
        window_s=400.0,
    )
    assert identity.login == PARTNER[0]


def _mint(state: State, kind: DetokenizeType = DetokenizeType.IMAGE) -> str:
    identity = _authenticate(state, _header(), LoginKind.PARTNER, [])
    redirect = models.detokenize(
        state.store,
        fixtures_of(state),
        identity,
        SEED_TOKEN,
        models.DetokenizeRequest(kind, "John Doe", "4242"),
        now=NOW,
        new_id=state.new_uuid,
        ttl_s=60.0,
    )
    return redirect.id


@pytest.mark.parametrize("kind", list(DetokenizeType))
def test_peek_says_what_a_url_shows_without_spending_it(state: State, kind: DetokenizeType) -> None:
    redirect_id = _mint(state, kind)
    assert models.peek_redirect(state.store, redirect_id, now=NOW) is kind
    assert models.peek_redirect(state.store, redirect_id, now=NOW) is kind
    redirect, token = models.open_redirect(state.store, redirect_id, now=NOW)
    assert (redirect.type, token.id) == (kind, SEED_TOKEN)


def test_peek_refuses_used_expired_and_unknown_urls(state: State) -> None:
    used, expiring = _mint(state), _mint(state)
    models.open_redirect(state.store, used, now=NOW)
    with pytest.raises(errors.RedirectUsed):
        models.peek_redirect(state.store, used, now=NOW)
    with pytest.raises(errors.RedirectExpired):
        models.peek_redirect(state.store, expiring, now=NOW + timedelta(seconds=60))
    assert models.peek_redirect(state.store, expiring, now=NOW + timedelta(seconds=59))
    with pytest.raises(errors.UnknownRedirect):
        models.peek_redirect(state.store, "no-such-url", now=NOW)


def test_a_urls_status_is_pending_then_viewed_or_expired(state: State) -> None:
    viewed, unviewed = _mint(state), _mint(state)

    def status(redirect_id: str, now: datetime) -> RedirectStatus:
        record = state.store.record(NS_REDIRECT, redirect_id)
        assert record is not None
        return models.redirect_status(record, now)

    assert status(viewed, NOW) is RedirectStatus.PENDING
    models.open_redirect(state.store, viewed, now=NOW)
    later = NOW + timedelta(seconds=61)
    assert status(viewed, later) is RedirectStatus.VIEWED
    assert status(unviewed, later) is RedirectStatus.EXPIRED

"""Generated bad bodies on both APIs: always Centagate's envelope with HTTP 200, never a 5xx,
and a refused body changes nothing."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.centagate.helpers import AUTH_QR, REQUEST_QR, Api, answer, auth_body, qr_body


def _mutations(rng: random.Random, body: dict[str, Any]) -> dict[str, Any]:
    junk: list[Any] = [None, 0, -1, 1.5, True, [], {}, "", " ", "\u0000", "é" * 3, "9" * 40]
    mutated = dict(body)
    for _ in range(rng.randint(1, 4)):
        key = rng.choice([*body, "extra", "HMAC"])
        action = rng.random()
        if action < 0.3:
            mutated.pop(key, None)
        elif action < 0.8:
            mutated[key] = rng.choice(junk)
        else:
            mutated[key] = "".join(chr(rng.randint(32, 0x2FF)) for _ in range(rng.randint(0, 30)))
    return mutated


@pytest.mark.slow
@pytest.mark.parametrize("path", [REQUEST_QR, AUTH_QR], ids=["request-qr", "auth-qr"])
def test_hundreds_of_generated_bad_bodies_never_give_a_5xx(
    api: Api, snapshot: Any, path: str
) -> None:
    rng = random.Random(2026)
    issued = api.issue()
    before = snapshot()
    good = auth_body(issued, api.epoch()) if path == AUTH_QR else qr_body(api.epoch())
    successes = 0
    for _ in range(400):
        body = _mutations(rng, good)
        raw = json.dumps(body) if rng.random() < 0.9 else json.dumps(body)[: rng.randint(0, 40)]
        response = api.post(path, raw)
        assert response.status_code == 200, raw
        code, message, obj = answer(response)
        assert isinstance(message, str)
        assert message
        assert (obj == "") == (code != 0), raw
        # A mutation can leave a valid request (an unsigned extra field, say): that is fine.
        successes += code == 0
    after = snapshot()
    assert after["apps"] == before["apps"]
    if path == REQUEST_QR:
        assert len(after["challenges"]) == 1 + successes
    else:
        assert len(after["transactions"]) == successes
        if not successes:
            assert after["challenges"] == before["challenges"]
            assert after["users"] == before["users"]

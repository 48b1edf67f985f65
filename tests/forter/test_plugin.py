"""The ``mockbank_forter_proxy`` fixture, used the way a project's own tests would use it."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_fixture_gives_proxy_url_proxies_and_ca(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_detokenize(mockbank, mockbank_forter_proxy):
            proxy = mockbank_forter_proxy
            assert proxy.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
            echo = mockbank.url("forter", "/echo/pay")
            response = requests.post(
                echo,
                data='{"pan": "{{ card_number }}"}',
                headers={"forter-token": "ftr1df95272f9e204c5791427722cc4ef407"},
                proxies=proxy.proxies(),
                timeout=10,
            )
            assert response.json()["body"] == '{"pan": "4111111111111111"}'
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)

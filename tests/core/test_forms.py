"""The strict form decoder gives exactly what urllib's parse_qsl gives, errors included."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockbank.forms import parse_form_strict

FORM_CHARS = st.text(alphabet=st.sampled_from("ab=&+%20%ZZ%C3%A9%FF;x \u00e9"), max_size=60)


def _qsl(text: str, limit: int) -> list[tuple[str, str]] | str:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=limit)
    except UnicodeDecodeError:
        return "unicode"
    except ValueError:
        return "too many"


def _ours(text: str, limit: int) -> list[tuple[str, str]] | str:
    try:
        return parse_form_strict(text, limit)
    except UnicodeDecodeError:
        return "unicode"
    except ValueError:
        return "too many"


@given(FORM_CHARS, st.integers(min_value=1, max_value=8))
def test_strict_form_decoding_matches_parse_qsl(text: str, limit: int) -> None:
    assert _ours(text, limit) == _qsl(text, limit)


@pytest.mark.parametrize(
    "text",
    ["", "a", "a=", "=b", "a=1&&b=2", "a+b=c+d", "u=https%3A%2F%2Fx", "a=%E9", "a=%zz", "a=1;b=2"],
)
def test_edge_cases_match_parse_qsl(text: str) -> None:
    assert _ours(text, 200) == _qsl(text, 200)

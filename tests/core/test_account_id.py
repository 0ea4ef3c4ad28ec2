from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from chainsig_core.account_id import (
    is_eth_implicit_account,
    is_implicit_account,
    is_valid_account_id,
    validate_account_id,
)
from chainsig_core.errors import InvalidAccountIdError

VALID = [
    "aa", "alice.near", "a-b_c.d", "v1.signer", "v1.signer-prod.testnet", "0x" + "ab" * 20,
    "f" * 64, "near", "a" * 64, "100", "app.user-1.testnet",
]
INVALID = [
    ("", "at least"), ("a", "at least"), ("a" * 65, "at most"), ("Alice.near", "lowercase"),
    ("alice..near", "stand alone"), ("alice.near.", "start or end"), ("-alice", "start or end"),
    ("a--b", "stand alone"), ("a_-b", "stand alone"), ("alice near", "not allowed"),
    ("ali©e", "not allowed"), ("alice@near", "not allowed"),
]


@pytest.mark.parametrize("account", VALID)
def test_valid(account):
    assert validate_account_id(account) == account


@pytest.mark.parametrize("account, reason", INVALID)
def test_invalid_with_reason(account, reason):
    with pytest.raises(InvalidAccountIdError, match=reason):
        validate_account_id(account)


def test_not_a_string():
    with pytest.raises(InvalidAccountIdError, match="must be a string"):
        validate_account_id(42)


def test_implicit_kinds():
    assert is_implicit_account("ab" * 32)
    assert is_eth_implicit_account("0x" + "0f" * 20)
    assert not is_eth_implicit_account("0x" + "0F" * 20)
    assert not is_implicit_account("ab" * 31)


REFERENCE = re.compile(r"^(([a-z\d]+[\-_])*[a-z\d]+\.)*([a-z\d]+[\-_])*[a-z\d]+$")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab1-_.A ", max_size=70))
def test_agrees_with_nearcore_regex(text):
    expected = 2 <= len(text) <= 64 and REFERENCE.fullmatch(text) is not None
    assert is_valid_account_id(text) == expected
    if not expected:
        with pytest.raises(InvalidAccountIdError):
            validate_account_id(text)

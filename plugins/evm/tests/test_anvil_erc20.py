"""ERC-20: a token deployed on anvil by the test is transferred and read through chainsig."""

from __future__ import annotations

import pytest

from chainsig_core import (
    InsufficientFundsError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidInputError,
    get_signer,
    send,
)
from chainsig_core.flow import chain_endpoint
from chainsig_core.plugins import get_chain

pytestmark = pytest.mark.anvil

RECIPIENT = "0x00000000000000000000000000000000000c0ffe"  # EIP-55 form of 0x…c0ffe


def _token_balance(node, token: str, owner: str) -> int:
    data = "0x70a08231" + "00" * 12 + owner[2:].lower()
    return int(node.rpc("eth_call", {"to": token, "data": data}, "latest"), 16)


def test_erc20_transfer(evm_config, anvil_base, derived, unique_path, deploy_token) -> None:
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**17)
    token = deploy_token(anvil_base, sender, decimals=6, supply=5_000_000)

    result = send(chain="base", account="dev.near", path=unique_path, to=RECIPIENT, amount="1.25",
                  token=token, network="dev")

    assert result.receipt is not None and result.receipt.status == "confirmed"
    assert result.prepared.summary["to"] == RECIPIENT and result.prepared.summary["amount"] == "1.25"
    receipt = anvil_base.rpc("eth_getTransactionReceipt", result.signed.tx_hash)
    assert receipt["status"] == "0x1" and receipt["from"].lower() == sender.lower()
    assert receipt["to"].lower() == token.lower()
    assert _token_balance(anvil_base, token, RECIPIENT) == 1_250_000
    assert _token_balance(anvil_base, token, sender) == 3_750_000

    chain = get_chain("base")
    endpoint = chain_endpoint(chain, "local")
    balance = chain.balance(sender, "local", endpoint, token=token)
    assert (balance.amount, balance.decimals, balance.symbol, balance.formatted) == (3_750_000, 6, "TT", "3.75")
    native = chain.balance(sender, "local", endpoint)
    assert native.symbol == "ETH" and 0 < native.amount < 10**17


def test_erc20_bad_inputs_are_refused_before_signing(evm_config, anvil_base, derived, unique_path, deploy_token) -> None:
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**17)
    token = deploy_token(anvil_base, sender, decimals=6, supply=1_000_000)
    signer = _CountingSigner()

    def attempt(**kw):
        args = dict(chain="base", account="dev.near", path=unique_path, to=RECIPIENT, amount="0.5",
                    token=token, network="dev", signer=signer)
        args.update(kw)
        return send(**args)

    with pytest.raises(InsufficientFundsError, match="token"):
        attempt(amount="2")
    with pytest.raises(InvalidAmountError, match="6 decimals"):
        attempt(amount="0.0000001")
    with pytest.raises(InvalidInputError, match="unknown token"):
        attempt(token=RECIPIENT)  # an account without code
    with pytest.raises(InvalidAddressError):
        attempt(token="0xnot-a-token")
    with pytest.raises(InvalidInputError, match="token-decimals"):
        attempt(options={"token_decimals": 18})
    assert signer.calls == 0
    assert _token_balance(anvil_base, token, sender) == 1_000_000


class _CountingSigner:
    """Wraps the dev signer and counts sign requests (none may happen for refused input)."""

    def __init__(self) -> None:
        self.inner = get_signer("dev")
        self.calls = 0

    def sign_all(self, requests):
        self.calls += len(requests)
        return self.inner.sign_all(requests)

    def close(self) -> None:
        self.inner.close()

"""Native transfers through chainsig against a real anvil node (the tests that count)."""

from __future__ import annotations

import pytest

from chainsig_core import send

pytestmark = pytest.mark.anvil

RECIPIENT = "0x000000000000000000000000000000000000dEaD"


@pytest.mark.parametrize("chain", ["base", "ethereum"])
def test_send_native_with_dev_signer(chain, evm_config, anvil_base, anvil_eth, derived, unique_path):
    node = anvil_base if chain == "base" else anvil_eth
    sender = derived(unique_path, chain)
    node.set_balance(sender, 10**18)
    before_to = node.balance(RECIPIENT)

    result = send(chain=chain, account="dev.near", path=unique_path, to=RECIPIENT, amount="0.01", network="dev")

    assert result.receipt is not None and result.receipt.status == "confirmed"
    receipt = node.rpc("eth_getTransactionReceipt", result.signed.tx_hash)
    assert receipt["status"] == "0x1"
    assert receipt["from"].lower() == sender.lower()
    assert result.prepared.from_address == sender
    assert node.balance(RECIPIENT) - before_to == 10**16
    gas_cost = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert node.balance(sender) == 10**18 - 10**16 - gas_cost
    tx = node.rpc("eth_getTransactionByHash", result.signed.tx_hash)
    assert int(tx["chainId"], 16) == node.chain_id
    assert tx["type"] == "0x2"

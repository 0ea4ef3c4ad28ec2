"""Native transfers through chainsig against a real anvil node (the tests that count)."""

from __future__ import annotations

import pytest

from chainsig_core import (
    CallRequest,
    ChainEndpoint,
    ChainError,
    InsufficientFundsError,
    RpcError,
    TransferRequest,
    derive_address,
    get_signer,
    send,
    sign_prepared,
)
from chainsig_core.flow import chain_endpoint
from chainsig_core.plugins import get_chain

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


def test_legacy_send(evm_config, anvil_base, derived, unique_path):
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**18)
    result = send(chain="base", account="dev.near", path=unique_path, to=RECIPIENT, amount="123wei",
                  network="dev", options={"legacy": True})
    assert result.receipt.status == "confirmed"
    tx = anvil_base.rpc("eth_getTransactionByHash", result.signed.tx_hash)
    assert tx["type"] == "0x0" and int(tx["v"], 16) in (8453 * 2 + 35, 8453 * 2 + 36)
    assert tx["from"].lower() == sender.lower() and int(tx["value"], 16) == 123


def test_wrong_chain_id_is_rejected_by_the_node(evm_config, anvil_eth, chainsig_dev_signer, derived, unique_path):
    """A transaction signed for Base mainnet (8453) sent to a chain-id-1 node: the node refuses it."""
    sender = derived(unique_path)
    anvil_eth.set_balance(sender, 10**18)
    base = get_chain("base")
    account = derive_address(chain="base", account="dev.near", path=unique_path, network="dev").derived_account
    options = {"nonce": 0, "gas": 21000, "max_fee": "10", "priority_fee": "1"}
    prepared = base.prepare(TransferRequest(account, RECIPIENT, "0.01", options=options), "mainnet", ChainEndpoint())
    assert prepared.tx["chainId"] == 8453
    signed = base.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))

    with pytest.raises(ChainError, match="(?i)chain"):
        base.broadcast(signed, ChainEndpoint(url=anvil_eth.url))
    assert anvil_eth.rpc("eth_getTransactionByHash", signed.tx_hash) is None
    assert int(anvil_eth.rpc("eth_getTransactionCount", sender, "pending"), 16) == 0
    assert anvil_eth.balance(sender) == 10**18


def test_node_of_another_chain_is_refused_in_prepare(evm_config, anvil_eth, derived, unique_path):
    sender = derived(unique_path)
    anvil_eth.set_balance(sender, 10**18)
    with pytest.raises(ChainError, match="chain id 1"):
        send(chain="base", account="dev.near", path=unique_path, to=RECIPIENT, amount="0.01",
             network="dev", chain_network="sepolia", rpc_url=anvil_eth.url)


def test_insufficient_balance_is_detected_before_signing(evm_config, anvil_base, derived, unique_path):
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**16)
    signer = _NoSigner()
    with pytest.raises(InsufficientFundsError, match="needs 1 ETH"):
        send(chain="base", account="dev.near", path=unique_path, to=RECIPIENT, amount="1", network="dev", signer=signer)
    # the value fits but value + gas does not
    with pytest.raises(InsufficientFundsError, match="value \\+ gas"):
        send(chain="base", account="dev.near", path=unique_path, to=RECIPIENT, amount="0.01", network="dev", signer=signer)
    assert anvil_base.balance(sender) == 10**16


def test_rpc_down_is_one_clear_error(evm_config, derived, unique_path):
    port = _closed_port()
    with pytest.raises(RpcError, match="cannot reach the EVM node at http://127.0.0.1") as info:
        send(chain="base", account="dev.near", path=unique_path, to=RECIPIENT, amount="0.01", network="dev",
             rpc_url=f"http://127.0.0.1:{port}/v3/secret-api-key", signer=_NoSigner())
    assert "secret-api-key" not in str(info.value) and "\n" not in str(info.value)


def test_broadcast_to_a_down_node(evm_config, chainsig_dev_signer, unique_path):
    base = get_chain("base")
    account = derive_address(chain="base", account="dev.near", path=unique_path, network="dev").derived_account
    options = {"nonce": 0, "gas": 21000, "max_fee": "10", "priority_fee": "1"}
    prepared = base.prepare(TransferRequest(account, RECIPIENT, "0.01", options=options), "mainnet", ChainEndpoint())
    signed = base.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))
    with pytest.raises(RpcError):
        base.broadcast(signed, ChainEndpoint(url=f"http://127.0.0.1:{_closed_port()}"))


def test_contract_call_with_data_and_dry_run(evm_config, anvil_base, derived, unique_path, deploy_token):
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**17)
    token = deploy_token(anvil_base, sender)
    # approve(RECIPIENT, 77) through --data, first as a dry run (nothing sent) …
    data = "0x095ea7b3" + "00" * 12 + RECIPIENT[2:].lower() + f"{77:064x}"
    dry = send(chain="base", account="dev.near", path=unique_path, to=token, amount="0", network="dev",
               options={"data": data}, dry_run=True)
    assert dry.receipt is None and dry.signed.raw.startswith("0x02")
    assert anvil_base.rpc("eth_getTransactionByHash", dry.signed.tx_hash) is None
    # … then for real, through a CallRequest.
    chain = get_chain("base")
    account = derive_address(chain="base", account="dev.near", path=unique_path, network="dev").derived_account
    endpoint = chain_endpoint(chain, "local")
    prepared = chain.prepare(CallRequest(account, token, bytes.fromhex(data[2:])), "local", endpoint)
    signer = get_signer("dev")
    receipt = chain.broadcast(chain.finalize(prepared, sign_prepared(signer, prepared)), endpoint)
    assert receipt.status == "confirmed" and receipt.details["gas_used"] > 21000
    allowance = anvil_base.rpc("eth_call", {"to": token, "data": "0xdd62ed3e" + "00" * 12 + sender[2:].lower()
                                            + "00" * 12 + RECIPIENT[2:].lower()}, "latest")
    assert int(allowance, 16) == 77


def test_reverting_call_is_refused_before_signing(evm_config, anvil_base, derived, unique_path, deploy_token):
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**17)
    token = deploy_token(anvil_base, sender, supply=5)
    data = "0xa9059cbb" + "00" * 12 + RECIPIENT[2:].lower() + f"{6:064x}"  # more than it holds
    with pytest.raises(ChainError, match="exceeds balance"):
        send(chain="base", account="dev.near", path=unique_path, to=token, amount="0", network="dev",
             options={"data": data}, signer=_NoSigner())


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _NoSigner:
    """A signer that must not be asked: refused input never reaches signing."""

    def sign_all(self, requests):
        raise AssertionError("a signature was requested for refused input")

    def close(self) -> None:
        pass


def test_reverted_transaction_is_reported_failed(evm_config, anvil_base, derived, unique_path, deploy_token):
    """With --gas given nothing is estimated: a reverting call is mined and reported 'failed'."""
    sender = derived(unique_path)
    anvil_base.set_balance(sender, 10**17)
    token = deploy_token(anvil_base, sender, supply=5)
    data = "0xa9059cbb" + "00" * 12 + RECIPIENT[2:].lower() + f"{6:064x}"
    result = send(chain="base", account="dev.near", path=unique_path, to=token, amount="0", network="dev",
                  options={"data": data, "gas": 100000})
    assert result.receipt is not None and result.receipt.status == "failed"
    assert anvil_base.rpc("eth_getTransactionReceipt", result.signed.tx_hash)["status"] == "0x0"

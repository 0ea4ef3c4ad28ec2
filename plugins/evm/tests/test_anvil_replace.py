"""Speed-up and cancel of a pending transaction on an anvil node that does not auto-mine."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chainsig_core import ChainError, InvalidInputError, derive_address, send
from chainsig_core.cli import cli
from chainsig_core.flow import chain_endpoint
from chainsig_core.plugins import get_chain
from chainsig_evm.replace import bumped, prepare_replacement

pytestmark = pytest.mark.anvil

RECIPIENT = "0x000000000000000000000000000000000000bEEF"


def _pending(node, path: str) -> tuple[str, str]:
    sender = derive_address(chain="base", account="dev.near", path=path, network="dev").address
    node.set_balance(sender, 10**18)
    result = send(chain="base", account="dev.near", path=path, to=RECIPIENT, amount="0.001", network="dev",
                  options={"max_fee": "2", "priority_fee": "1"})
    assert result.receipt is not None and result.receipt.status == "broadcast"
    return sender, result.signed.tx_hash


def _replace(mode: str, path: str, tx_hash: str, *extra: str) -> dict:
    out = CliRunner().invoke(cli, ["evm", mode, "--network", "dev", "--chain", "base", "--account", "dev.near",
                                   "--path", path, "--tx-hash", tx_hash, "--json", *extra])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_speed_up(manual_config, anvil_manual, unique_path):
    sender, original = _pending(anvil_manual, unique_path)
    before = anvil_manual.balance(RECIPIENT)

    out = _replace("speed-up", unique_path, original)

    assert out["replaces"] == original and out["nonce"] == 0 and out["status"] == "broadcast"
    new = anvil_manual.rpc("eth_getTransactionByHash", out["tx_hash"])
    assert int(new["maxPriorityFeePerGas"], 16) >= bumped(10**9)
    assert int(new["maxFeePerGas"], 16) >= bumped(2 * 10**9)
    anvil_manual.rpc("evm_mine")
    receipt = anvil_manual.rpc("eth_getTransactionReceipt", out["tx_hash"])
    assert receipt["status"] == "0x1" and receipt["from"].lower() == sender.lower()
    assert anvil_manual.rpc("eth_getTransactionReceipt", original) is None
    assert anvil_manual.balance(RECIPIENT) - before == 10**15


def test_cancel(manual_config, anvil_manual, unique_path):
    sender, original = _pending(anvil_manual, unique_path)
    before = anvil_manual.balance(RECIPIENT)

    out = _replace("cancel", unique_path, original, "--max-fee", "5", "--priority-fee", "2")

    tx = anvil_manual.rpc("eth_getTransactionByHash", out["tx_hash"])
    assert tx["to"].lower() == sender.lower() and int(tx["value"], 16) == 0 and int(tx["nonce"], 16) == 0
    assert int(tx["maxFeePerGas"], 16) == 5 * 10**9
    anvil_manual.rpc("evm_mine")
    assert anvil_manual.rpc("eth_getTransactionReceipt", out["tx_hash"])["status"] == "0x1"
    assert anvil_manual.rpc("eth_getTransactionReceipt", original) is None
    assert anvil_manual.balance(RECIPIENT) == before
    assert int(anvil_manual.rpc("eth_getTransactionCount", sender, "latest"), 16) == 1


def test_replacement_refusals(manual_config, anvil_manual, unique_path):
    sender, original = _pending(anvil_manual, unique_path)
    chain = get_chain("base")
    account = derive_address(chain="base", account="dev.near", path=unique_path, network="dev").derived_account
    other = derive_address(chain="base", account="dev.near", path=unique_path + "-other", network="dev").derived_account
    endpoint = chain_endpoint(chain, "local")

    with pytest.raises(InvalidInputError, match="at least"):
        prepare_replacement(chain, account, original, "local", endpoint, mode="speed-up", options={"max_fee": "2.1"})
    with pytest.raises(InvalidInputError, match="not by"):
        prepare_replacement(chain, other, original, "local", endpoint, mode="cancel")
    with pytest.raises(InvalidInputError, match="does not know"):
        prepare_replacement(chain, account, "0x" + "ab" * 32, "local", endpoint, mode="cancel")
    with pytest.raises(InvalidInputError, match="not a transaction hash"):
        prepare_replacement(chain, account, "0x1234", "local", endpoint, mode="cancel")
    with pytest.raises(InvalidInputError, match="--gas-price"):
        prepare_replacement(chain, account, original, "local", endpoint, mode="cancel", options={"gas_price": "9"})
    anvil_manual.rpc("evm_mine")
    with pytest.raises(ChainError, match="already mined"):
        prepare_replacement(chain, account, original, "local", endpoint, mode="speed-up")
    bad = CliRunner().invoke(cli, ["evm", "cancel", "--network", "dev", "--chain", "base", "--account", "dev.near",
                                   "--path", unique_path, "--tx-hash", original])
    assert bad.exit_code == 1 and "already mined" in bad.stderr and "Traceback" not in bad.output


def test_a_replacement_is_signed_in_the_senders_domain(manual_config, anvil_manual, unique_path):
    """A sender derived in an added domain (2) gets its replacement payload in domain 2. The dev
    network has no domain 2, so the sender here is the dev key named as domain 2: the pending
    transaction is from the same address."""
    from chainsig_core import DerivedAccount

    _sender, original = _pending(anvil_manual, unique_path)
    chain = get_chain("base")
    key = derive_address(chain="base", account="dev.near", path=unique_path, network="dev").public_key
    added = DerivedAccount("dev", "dev.near", unique_path, key, 2)
    prepared = prepare_replacement(chain, added, original, "local", chain_endpoint(chain, "local"), mode="speed-up")
    assert prepared.sender.domain_id == 2 and [p.domain_id for p in prepared.payloads] == [2]

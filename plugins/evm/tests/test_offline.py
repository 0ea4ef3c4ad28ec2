"""prepare/finalize without a node: payloads, EIP-1559 and legacy EIP-155, and refusals.

Known answer: for the same key and transaction, chainsig's raw transaction is byte-identical
to eth-account's ``Account.sign_transaction`` (both use RFC 6979 nonces and low s).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainsig_core import (
    ChainEndpoint,
    DerivedAccount,
    InvalidAddressError,
    InvalidAmountError,
    InvalidInputError,
    Prepared,
    RpcError,
    SignatureVerificationError,
    TransferRequest,
    derive_address,
    sign_prepared,
)
from chainsig_core.plugins import get_chain
from chainsig_core.signatures import EcdsaSignature
from chainsig_core.signers.dev import ecdsa_sign_with_scalar
from chainsig_evm.transactions import decode_signed, recover_sender, signing_hash

RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OFFLINE = {"nonce": 7, "gas": 21000, "max_fee": "30", "priority_fee": "1.5"}
OFFLINE_LEGACY = {"nonce": 3, "gas": 21000, "gas_price": "20"}


def _request(path: str = "offline", options: dict | None = None, amount: str | int = "0.01", **kw) -> TransferRequest:
    derived = derive_address(chain="ethereum", account="dev.near", path=path, network="dev")
    return TransferRequest(derived.derived_account, kw.pop("to", RECIPIENT), amount, options=options or dict(OFFLINE), **kw)


def _prepare(request: TransferRequest, chain_network: str = "sepolia") -> Prepared:
    return get_chain("ethereum").prepare(request, chain_network, ChainEndpoint())


def test_offline_eip1559_matches_eth_account(chainsig_dev_signer) -> None:
    from eth_account import Account

    prepared = _prepare(_request())
    tx = prepared.tx
    assert tx == {
        "type": 2, "chainId": 11155111, "nonce": 7, "to": RECIPIENT, "value": 10**16, "data": "0x",
        "gas": 21000, "maxFeePerGas": 30 * 10**9, "maxPriorityFeePerGas": 1_500_000_000, "accessList": [],
    }
    assert prepared.payloads[0].data == signing_hash(tx)
    assert prepared.summary["amount"] == "0.01" and prepared.summary["to"] == RECIPIENT
    signed = get_chain("ethereum").finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))

    secret = chainsig_dev_signer.derived_secret("dev.near", "offline", 0)
    reference = Account.sign_transaction({k: v for k, v in tx.items()}, secret.to_bytes(32, "big"))
    assert signed.raw == "0x" + bytes(reference.raw_transaction).hex()
    assert signed.tx_hash == "0x" + bytes(reference.hash).hex()
    assert recover_sender(bytes.fromhex(signed.raw[2:])) == prepared.from_address


def test_offline_legacy_eip155(chainsig_dev_signer) -> None:
    from eth_account import Account

    prepared = _prepare(_request(options=dict(OFFLINE_LEGACY)), "mainnet")
    assert prepared.tx["type"] == 0 and prepared.tx["gasPrice"] == 20 * 10**9 and prepared.tx["chainId"] == 1
    (signature,) = sign_prepared(chainsig_dev_signer, prepared)
    signed = get_chain("ethereum").finalize(prepared, [signature])
    fields = decode_signed(bytes.fromhex(signed.raw[2:]))
    assert fields["chainId"] == 1 and fields["v"] == 1 * 2 + 35 + (signature.recovery_id & 1)
    secret = chainsig_dev_signer.derived_secret("dev.near", "offline", 0)
    legacy = {k: v for k, v in prepared.tx.items() if k != "type"}
    assert signed.raw == "0x" + bytes(Account.sign_transaction(legacy, secret.to_bytes(32, "big")).raw_transaction).hex()


def test_bundle_round_trip_through_json(chainsig_dev_signer) -> None:
    import json

    prepared = _prepare(_request())
    again = Prepared.from_json(json.loads(json.dumps(prepared.to_json())))
    signed = get_chain("ethereum").finalize(again, sign_prepared(chainsig_dev_signer, again))
    assert signed.details["from"] == prepared.from_address


def test_edited_bundle_is_refused(chainsig_dev_signer) -> None:
    prepared = _prepare(_request())
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    edited = replace(prepared, tx={**prepared.tx, "value": 10**18})
    with pytest.raises(InvalidInputError, match="signing hash"):
        get_chain("ethereum").finalize(edited, signatures)


def test_signature_of_another_key_is_refused(chainsig_dev_signer) -> None:
    prepared = _prepare(_request())
    other = chainsig_dev_signer.derived_secret("dev.near", "another-path", 0)
    foreign = ecdsa_sign_with_scalar(other, prepared.payloads[0].data)
    with pytest.raises(SignatureVerificationError):
        get_chain("ethereum").finalize(prepared, [foreign])


def test_bundle_whose_from_is_not_the_sender_is_refused(chainsig_dev_signer) -> None:
    prepared = _prepare(_request())
    signatures = sign_prepared(chainsig_dev_signer, prepared)
    with pytest.raises(SignatureVerificationError, match="'from'"):
        get_chain("ethereum").finalize(replace(prepared, from_address=RECIPIENT), signatures)


def test_wrong_number_of_signatures(chainsig_dev_signer) -> None:
    prepared = _prepare(_request())
    (signature,) = sign_prepared(chainsig_dev_signer, prepared)
    with pytest.raises(InvalidInputError):
        get_chain("ethereum").finalize(prepared, [signature, signature])


def test_recovery_id_with_high_x_is_refused(chainsig_dev_signer) -> None:
    prepared = _prepare(_request())
    (signature,) = sign_prepared(chainsig_dev_signer, prepared)
    flipped = EcdsaSignature(signature.big_r, signature.s, signature.recovery_id | 2)
    with pytest.raises(SignatureVerificationError):
        get_chain("ethereum").finalize(prepared, [flipped])


@pytest.mark.parametrize(
    ("amount", "error"),
    [("-1", InvalidAmountError), ("0.0000000000000000001", InvalidAmountError), ("1e18", InvalidAmountError),
     ("abc", InvalidAmountError), (-5, InvalidAmountError)],
)
def test_bad_amounts(amount, error, chainsig_config) -> None:
    with pytest.raises(error) as info:
        _prepare(_request(amount=amount))
    assert "\n" not in str(info.value)


def test_float_amount_refused(chainsig_config) -> None:
    with pytest.raises(InvalidAmountError, match="exact"):
        _prepare(_request(amount=0.01))  # type: ignore[arg-type]


def test_amount_forms(chainsig_config) -> None:
    assert _prepare(_request(amount="1000wei")).tx["value"] == 1000
    assert _prepare(_request(amount=1000)).tx["value"] == 1000
    assert _prepare(_request(amount="1.5 ETH")).tx["value"] == 15 * 10**17


def test_bad_recipient(chainsig_config) -> None:
    with pytest.raises(InvalidAddressError, match="recipient"):
        _prepare(_request(to="0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({**OFFLINE, "max_fee": "1", "priority_fee": "2"}, "priority"),
        ({**OFFLINE, "max_fee": "-1"}, "negative"),
        ({**OFFLINE, "max_fee": 1.5}, "exact"),
        ({**OFFLINE, "gas": 100}, "21000"),
        ({**OFFLINE, "data": "0xzz"}, "hex"),
        ({**OFFLINE, "gas_price": "1"}, "--gas-price"),
        ({**OFFLINE, "colour": "red"}, "unknown EVM option"),
        ({**OFFLINE, "memo": "hi", "utxos": "u.json"}, r"^unknown EVM option\(s\): memo, utxos \(EVM takes: nonce, gas, "),
        ({**OFFLINE, "gas": -5}, r"^--gas must be a whole number from 21000 to 18446744073709551615 \(21000 is the cost of any transaction\), got -5$"),
        ({**OFFLINE, "gas": 0}, r"from 21000 to"),
        ({**OFFLINE, "gas": "-5"}, r"from 21000 to .*got '-5'"),
        ({**OFFLINE, "chain_id": 0}, r"^--chain-id must be a whole number from 1 to "),
        ({**OFFLINE, "nonce": -1}, r"^--nonce must be a whole number from 0 to 18446744073709551614, got -1$"),
        ({**OFFLINE, "token_decimals": 6}, r"^--token-decimals gives an ERC-20 token's decimals: it goes with --token$"),
        ({**OFFLINE, "max_fee": "0.0000000001"}, r"^--max-fee '0.0000000001' has more than 9 decimals, the precision of gwei$"),
        ({**OFFLINE, "priority_fee": "0.0000000001"}, r"^--priority-fee '0.0000000001' has more than 9 decimals, the precision of gwei$"),
        ({"nonce": 1, "gas": 21000, "gas_price": "1.0000000001"}, r"^--gas-price '1.0000000001' has more than 9 decimals, the precision of gwei$"),
        ({**OFFLINE, "max_fee": "1e3"}, r"^--max-fee '1e3' is not a decimal number of gwei or a whole number of wei$"),
        ({**OFFLINE, "max_fee": 1.5}, r"^--max-fee: amounts must be exact"),
        ({**OFFLINE, "chain_id": 1}, "contradicts"),
    ],
)
def test_bad_options(options, message, chainsig_config) -> None:
    with pytest.raises(InvalidInputError, match=message):
        _prepare(_request(options=options))


def test_fee_units(chainsig_config) -> None:
    tx = _prepare(_request(options={**OFFLINE, "max_fee": "30gwei", "priority_fee": "1000wei"})).tx
    assert tx["maxFeePerGas"] == 30 * 10**9 and tx["maxPriorityFeePerGas"] == 1000


def test_offline_local_needs_chain_id_or_node(chainsig_config) -> None:
    # local asks the node for its chain id: without a reachable node that is an RpcError …
    endpoint = ChainEndpoint(url="http://127.0.0.1:9")
    with pytest.raises(RpcError, match="cannot reach"):
        get_chain("ethereum").prepare(_request(), "local", endpoint)
    # … and with --chain-id the node is not needed at all.
    prepared = get_chain("ethereum").prepare(_request(options={**OFFLINE, "chain_id": 31337}), "local", endpoint)
    assert prepared.tx["chainId"] == 31337


def test_offline_contract_call_data(chainsig_config) -> None:
    tx = _prepare(_request(options={**OFFLINE, "gas": 60000, "data": "0xdeadbeef"}, amount="0")).tx
    assert tx["data"] == "0xdeadbeef" and tx["value"] == 0 and tx["gas"] == 60000


def test_offline_token_needs_decimals(chainsig_config) -> None:
    token = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    with pytest.raises(InvalidInputError, match="token-decimals"):
        _prepare(_request(token=token))
    prepared = _prepare(_request(token=token, amount="2.5", options={**OFFLINE, "gas": 65000, "token_decimals": 6}))
    assert prepared.tx["to"] == token and prepared.tx["value"] == 0
    assert prepared.tx["data"] == "0xa9059cbb" + "00" * 12 + RECIPIENT[2:].lower() + f"{2_500_000:064x}"
    assert prepared.summary["to"] == RECIPIENT and prepared.summary["token"] == token


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.text(max_size=20),
    nonce=st.integers(0, 2**32),
    value=st.integers(0, 10**24),
    legacy=st.booleans(),
    data=st.binary(max_size=64),
)
def test_any_transaction_recovers_to_the_derived_address(chainsig_dev_signer, path, nonce, value, legacy, data) -> None:
    options = {"nonce": nonce, "gas": 100000, "data": "0x" + data.hex()}
    options.update({"gas_price": "3"} if legacy else {"max_fee": "3", "priority_fee": "1"})
    derived = derive_address(chain="base", account="dev.near", path=path, network="dev")
    request = TransferRequest(derived.derived_account, RECIPIENT, value, options=options)
    prepared = get_chain("base").prepare(request, "mainnet", ChainEndpoint())
    signed = get_chain("base").finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))
    raw = bytes.fromhex(signed.raw[2:])
    assert recover_sender(raw) == derived.address
    fields = decode_signed(raw)
    assert fields["chainId"] == 8453 and fields["nonce"] == nonce and fields["value"] == value


def test_sender_must_be_secp256k1(chainsig_config) -> None:
    from chainsig_core import InvalidKeyError, PublicKey

    ed_key = PublicKey.from_near_string("ed25519:GLLMegupbxhukwpfExph4xU2yRRyJJeeHf7kGkEE32mE")
    with pytest.raises(InvalidKeyError):
        _prepare(TransferRequest(DerivedAccount("dev", "dev.near", "p", ed_key), RECIPIENT, "0.01", options=dict(OFFLINE)))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--utxos", "u.json", "--memo", "hi"], "unknown base option(s): --memo, --utxos (base takes: --chain-id,"),
        (["--fee-rate", "2", "--blockhash", "abc", "--v0"], "unknown base option(s): --blockhash, --fee-rate, --v0 ("),
        (["--gas", "-5"], "--gas must be a whole number from 21000 to 18446744073709551615 (21000 is the cost of any transaction), got -5"),
        (["--max-fee", "0.0000000001"], "--max-fee '0.0000000001' has more than 9 decimals, the precision of gwei"),
        (["--token-decimals", "6"], "--token-decimals gives an ERC-20 token's decimals: it goes with --token"),
    ],
)
def test_cli_option_mistakes_are_one_line_before_any_node(chainsig_config, args, needle) -> None:
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    offline = {"--nonce": "4", "--gas": "21000", "--max-fee": "0.05", "--priority-fee": "0.001", "--rpc-url": "http://127.0.0.1:9"}
    extra: list[str] = []
    for i, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        value = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("--") else None
        if arg in offline and value is not None:
            offline[arg] = value  # replace a value the offline prepare needs
        else:
            extra += [arg] if value is None else [arg, value]
    argv = ["prepare", "--chain", "base", "--network", "mainnet", "--account", "alice.near", "--path", "evm-1",
            "--to", RECIPIENT, "--amount", "0.5", *(x for pair in offline.items() for x in pair), *extra]
    out = CliRunner().invoke(cli, argv)
    assert out.exit_code == 2, out.output
    (line,) = out.stderr.splitlines()
    assert line.startswith("error: " + needle), out.stderr


def test_cli_broadcast_of_a_raw_that_is_no_transaction(chainsig_config, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from chainsig_core.cli import cli

    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps({"chain": "ethereum", "chain_network": "sepolia", "raw": "0x00", "tx_hash": "0x" + "00" * 32}))
    out = CliRunner().invoke(cli, ["broadcast", str(signed), "--rpc-url", "http://127.0.0.1:9"])
    assert out.exit_code == 2, out.output
    assert out.stderr.splitlines() == [
        "error: not a signed EVM transaction: it starts with 0x00, which is no EVM transaction type "
        "(a legacy transaction starts with an RLP list byte 0xc0-0xff, a typed one with 0x01-0x04)"
    ]

"""Property tests: whatever the amount and recipient, the message says exactly that, the
payload is the message, and the finalized transaction verifies and decodes back."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainsig_core import TransferRequest, format_base_units
from chainsig_core.derive import derive_address
from chainsig_core.signers.dev import ed25519_sign_with_scalar

from chainsig_solana import SolanaChain
from chainsig_solana.addresses import encode_address
from chainsig_solana.builder import build_prepared

BLOCKHASH = "CmpNeggWJ4JaWJeJ8YKN1Zypmk7uvQq3PECGUCAEMbky"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lamports=st.integers(min_value=1, max_value=2**64 - 1),
    recipient=st.binary(min_size=32, max_size=32),
    as_text=st.booleans(),
    v0=st.booleans(),
    priority=st.one_of(st.none(), st.integers(min_value=1, max_value=10**9)),
)
def test_offline_transfer_message_says_exactly_the_request(chainsig_dev_signer, lamports, recipient, as_text, v0, priority) -> None:
    from solders.message import from_bytes_versioned
    from solders.system_program import decode_transfer
    from solders.instruction import AccountMeta, Instruction
    from solders.transaction import VersionedTransaction

    chain = SolanaChain()
    derived = derive_address(chain=chain, account="prop.near", path="p", network="dev", chain_network="devnet")
    to = encode_address(recipient)
    amount = format_base_units(lamports, 9) if as_text else lamports
    options = {"blockhash": BLOCKHASH, "v0": v0}
    if priority:
        options["priority_fee"] = priority

    def no_ledger():  # offline: never called
        raise AssertionError

    prepared = build_prepared(chain, TransferRequest(derived.derived_account, to, amount, options=options), "devnet", no_ledger)
    message = prepared.payloads[0].data
    assert base64.b64decode(prepared.tx["message"]) == message
    msg = from_bytes_versioned(message)
    keys = msg.account_keys
    compiled = msg.instructions[-1]
    ix = Instruction(keys[compiled.program_id_index], bytes(compiled.data),
                     [AccountMeta(keys[i], i == 0, True) for i in bytes(compiled.accounts)])
    params = decode_transfer(ix)
    assert params["lamports"] == lamports and str(params["to_pubkey"]) == to and str(params["from_pubkey"]) == derived.address
    assert len(msg.instructions) == (2 if priority else 1)

    secret = chainsig_dev_signer.derived_secret("prop.near", "p", 1)
    signed = chain.finalize(prepared, [ed25519_sign_with_scalar(secret, message)])
    tx = VersionedTransaction.from_bytes(base64.b64decode(signed.raw))
    assert all(tx.verify_with_results()) and str(tx.signatures[0]) == signed.tx_hash
    assert signed.details["size"] == prepared.summary["size"] <= 1232

"""Hostile NEAR input against the running MPC devnet: well-formed but hostile borsh
transactions, and ``sign`` calls with hostile arguments — the contract answers each with one
clear error, the host and the nodes' indexers keep going, and every call that the contract did
accept is answered with a signature that verifies.

Already covered in ``contract/tests`` and not repeated: malformed JSON-RPC bodies and random
``params`` (``test_rpc_hostile.py``, against an in-process host), random transaction *bytes*,
and argument rules of ``sign`` at the contract level (``test_contract_sign.py``). What is added
here: transactions that decode and carry a valid signature, so every later validation step is
reached; and hostile ``sign`` calls executed on chain while the MPC nodes index them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REGISTRAR = "devnet"
U64 = 2**64 - 1
U128 = 2**128 - 1

TX_CAUSES = {"PARSE_ERROR", "INVALID_TRANSACTION", "UNKNOWN_ACCOUNT", "INVALID_ACCOUNT", "UNKNOWN_ACCESS_KEY"}
"""Causes a hostile transaction may get — never ``INTERNAL_ERROR``."""


class TxFactory:
    """Borsh ``SignedTransaction``s signed with the registrar's real key (so the signature
    check passes and every later check is reached), broadcast over JSON-RPC."""

    def __init__(self, devnet: Any) -> None:
        from chainsig_core.credentials import load_access_key

        self.devnet = devnet
        self.key = load_access_key(devnet.host_dir / "credentials", "devnet", REGISTRAR)
        self.accepted: list[str] = []
        self.sign_calls: list[tuple[str, dict[str, Any]]] = []
        self.refresh()

    def refresh(self) -> None:
        """The key's nonce and a recent block hash. The view's nonce is the committed one (as on
        NEAR): a transaction still in the pool is not counted, so the highest nonce this factory
        got accepted is kept too."""
        answer = self.devnet.rpc("query", {"request_type": "view_access_key", "finality": "optimistic",
                                           "account_id": REGISTRAR,
                                           "public_key": self.key.public_key.to_near_string()})
        self.nonce = max(int(answer["result"]["nonce"]), getattr(self, "nonce", 0))
        self.block_hash = answer["result"]["block_hash"]

    def build(self, actions: list[Any], *, signer_id: str = REGISTRAR, receiver_id: str | None = None,
              nonce: int | None = None, block_hash: bytes | None = None, corrupt: int | None = None) -> bytes:
        import base58
        from near import wire

        tx = wire.Transaction(
            signer_id=signer_id,
            public_key=wire.PublicKeyWire.Ed25519(data=self.key.public_key.data),
            nonce=self.nonce + 1 if nonce is None else nonce,
            receiver_id=receiver_id or self.devnet.contract_id,
            block_hash=block_hash if block_hash is not None else base58.b58decode(self.block_hash),
            actions=actions,
        )
        self.last_nonce = tx.nonce
        signature = self.key.sign(hashlib.sha256(tx.to_borsh()).digest())
        raw = wire.SignedTransaction(transaction=tx, signature=wire.SignatureWire.Ed25519(data=signature)).to_borsh()
        if corrupt is not None:  # flip one byte after signing: the signature must not verify
            buf = bytearray(raw)
            buf[corrupt % len(buf)] ^= 0x5A
            raw = bytes(buf)
        return raw

    def broadcast(self, raw: bytes) -> dict[str, Any]:
        import httpx

        response = httpx.post(self.devnet.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_async",
                                                         "params": [base64.b64encode(raw).decode()]}, timeout=15)
        assert response.status_code != 500, response.text
        body = response.json()
        if "result" in body:
            self.accepted.append(body["result"])
            self.nonce = max(self.nonce, self.last_nonce)
            self.refresh()
        else:
            cause = body["error"]["cause"]["name"]
            assert cause in TX_CAUSES, body["error"]
            assert "\n" not in json.dumps(body["error"]["cause"])  # one clear error
        return body


@pytest.fixture(scope="module")
def txs(devnet: Any) -> TxFactory:
    return TxFactory(devnet)


def _actions() -> Any:
    from near import wire

    keys = st.builds(lambda d: wire.PublicKeyWire.Ed25519(data=d), st.binary(min_size=32, max_size=32)) | st.builds(
        lambda d: wire.PublicKeyWire.Secp256k1(data=d), st.binary(min_size=64, max_size=64))
    permission = st.just(wire.AccessKeyPermission.FullAccess()) | st.builds(
        lambda a, r, m: wire.AccessKeyPermission.FunctionCall(allowance=a, receiver_id=r, method_names=m),
        st.none() | st.integers(0, U128), st.text(max_size=70), st.lists(st.text(max_size=20), max_size=3))
    return st.lists(st.one_of(
        st.just(wire.Action.CreateAccount()),
        st.builds(lambda c: wire.Action.DeployContract(code=c), st.binary(max_size=64)),
        st.builds(lambda m, a, g, d: wire.Action.FunctionCall(method_name=m, args=a, gas=g, deposit=d),
                  st.sampled_from(["sign", "respond", "vote_pk", "vote_new_parameters", "init", "state",
                                   "return_signature_and_clean_state_on_success", "fail_on_timeout"])
                  | st.text(max_size=30),
                  st.binary(max_size=80), st.integers(0, U64), st.integers(0, U128)),
        st.builds(lambda d: wire.Action.Transfer(deposit=d), st.integers(0, U128)),
        st.builds(lambda s, k: wire.Action.Stake(stake=s, public_key=k), st.integers(0, U128), keys),
        st.builds(lambda k, n, p: wire.Action.AddKey(public_key=k, access_key=wire.AccessKey(nonce=n, permission=p)),
                  keys, st.integers(0, U64), permission),
        st.builds(lambda k: wire.Action.DeleteKey(public_key=k), keys),
        st.builds(lambda b: wire.Action.DeleteAccount(beneficiary_id=b), st.text(max_size=70)),
    ), max_size=4)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_transactions_get_one_clear_error(txs: TxFactory, data: st.DataObject) -> None:
    actions = data.draw(_actions(), label="actions")
    signer_id = data.draw(st.sampled_from([REGISTRAR, "alice.devnet", "nobody.devnet"]) | st.text(max_size=70),
                          label="signer")
    receiver_id = data.draw(st.sampled_from([None, REGISTRAR, "bob.devnet", "x" * 65]) | st.text(max_size=70),
                            label="receiver")
    nonce = data.draw(st.none() | st.integers(0, U64), label="nonce")
    block_hash = data.draw(st.none() | st.binary(min_size=32, max_size=32), label="block_hash")
    corrupt = data.draw(st.none() | st.integers(0, 10_000), label="corrupt")
    # The registrar must not delete its own key or account (later examples need them)
    from near import wire

    if signer_id == REGISTRAR and any(isinstance(a, (wire.Action.DeleteKey, wire.Action.DeleteAccount))
                                      for a in actions):
        actions = [a for a in actions if not isinstance(a, (wire.Action.DeleteKey, wire.Action.DeleteAccount))]
    txs.broadcast(txs.build(actions, signer_id=signer_id, receiver_id=receiver_id, nonce=nonce,
                            block_hash=block_hash, corrupt=corrupt))


def _sign_arguments() -> Any:
    payload_hex = st.binary(max_size=40).map(bytes.hex) | st.text(max_size=70) | st.integers()
    request = st.fixed_dictionaries(
        {},
        optional={
            "path": st.text(max_size=60) | st.integers() | st.none(),
            "payload_v2": st.dictionaries(st.sampled_from(["Ecdsa", "Eddsa", "Rsa", ""]), payload_hex, max_size=2)
            | st.text(max_size=10),
            "domain_id": st.integers(-2, 2**70) | st.sampled_from([0, 1]) | st.text(max_size=3),
            "payload": st.lists(st.integers(-1, 300), max_size=40),
            "key_version": st.integers(-1, 5),
            "extra": st.booleans(),
        },
    )
    valid_ecdsa = st.builds(lambda p, h: {"path": p, "payload_v2": {"Ecdsa": h.hex()}, "domain_id": 0},
                            st.text(max_size=60), st.binary(min_size=32, max_size=32))
    valid_eddsa = st.builds(lambda p, m: {"path": p, "payload_v2": {"Eddsa": m.hex()}, "domain_id": 1},
                            st.text(max_size=60), st.binary(min_size=32, max_size=200))
    return (st.builds(lambda r: {"request": r}, request | valid_ecdsa | valid_eddsa)
            | st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=3))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=_sign_arguments(), raw_args=st.none() | st.binary(max_size=60),
       deposit=st.sampled_from([1, 1, 1, 0, 10**24]), gas=st.sampled_from([300 * 10**12, 300 * 10**12, 10**12]))
def test_hostile_sign_arguments_executed_on_chain(txs: TxFactory, args: dict[str, Any], raw_args: bytes | None,
                                                  deposit: int, gas: int) -> None:
    from near import wire

    body = raw_args if raw_args is not None else json.dumps(args).encode()
    answer = txs.broadcast(txs.build([wire.Action.FunctionCall(method_name="sign", args=body, gas=gas,
                                                               deposit=deposit)]))
    assert "result" in answer, answer  # a valid transaction; what the contract makes of it comes next
    txs.sign_calls.append((answer["result"], args if raw_args is None else {}))


def _final_outcome(devnet: Any, tx_hash: str, deadline: float) -> dict[str, Any]:
    while True:
        answer = devnet.rpc("tx", {"tx_hash": tx_hash, "sender_account_id": REGISTRAR, "wait_until": "FINAL"},
                            timeout=20)
        if "result" in answer:
            return answer["result"]
        assert answer["error"]["cause"]["name"] in ("TIMEOUT_ERROR", "UNKNOWN_TRANSACTION"), answer["error"]
        assert time.monotonic() < deadline, f"no final outcome for {tx_hash}"
        time.sleep(0.5)


def test_every_hostile_call_ends_cleanly_and_accepted_ones_are_signed(devnet_env: Any, txs: TxFactory) -> None:
    """Each accepted hostile ``sign`` ends with a contract panic (one line) or with a signature
    from the MPC network that verifies under the key derived for the registrar and the path."""
    from chainsig_core.kdf import derive_public_key
    from chainsig_core.signatures import parse_signature_response, verify_signature

    assert txs.sign_calls, "run the module as a whole: the hostile calls come first"
    deadline = time.monotonic() + 120
    signed = 0
    for tx_hash, args in txs.sign_calls:
        outcome = _final_outcome(devnet_env, tx_hash, deadline)
        status = outcome["status"]
        if "Failure" in status:
            failure = json.dumps(status["Failure"])
            assert "ActionError" in failure, failure
            execution = status["Failure"]["ActionError"]["kind"].get("FunctionCallError", {}).get("ExecutionError")
            if execution is not None:
                assert execution.startswith(("Smart contract panicked:", "Exceeded the prepaid gas.")), execution
                assert "\n" not in execution, execution
                assert "Request has timed out" not in execution, (tx_hash, args)  # accepted ⇒ answered
            continue
        response = json.loads(base64.b64decode(status["SuccessValue"]))
        request = args["request"]
        domain_id = request.get("domain_id", 0)
        ((scheme, payload_hex),) = request["payload_v2"].items()
        root = devnet_env.root_key(domain_id)
        verify_signature(derive_public_key(root, REGISTRAR, request["path"]), bytes.fromhex(payload_hex),
                         parse_signature_response(response))
        signed += 1
    assert devnet_env.host_alive()
    devnet_env.assert_signs("after-near-barrage", 2)
    print(f"{len(txs.sign_calls)} hostile sign calls, {signed} accepted and signed, {len(txs.accepted)} txs accepted")

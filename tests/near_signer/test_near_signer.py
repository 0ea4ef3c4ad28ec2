"""The NEAR contract signer against a NEAR-shaped JSON-RPC server on loopback."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli
from chainsig_core.config import load_config
from chainsig_core.credentials import generate_access_key
from chainsig_core.errors import (
    CredentialsError,
    InvalidInputError,
    RootKeyMismatchError,
    RpcError,
    SignatureVerificationError,
    SigningError,
    SignRequestTimedOutError,
    UnknownNameError,
)
from chainsig_core.keys import Curve
from chainsig_core.signatures import verify_signature
from chainsig_core.signers import SignFailure, SignRequest, get_signer
from chainsig_core.signers.dev import dev_root_public_key
from chainsig_core.signers.near import NearContractSigner, request_from_sign_args, sign_call_args


def signer(**kw):
    kw.setdefault("poll_interval", 0.01)
    kw.setdefault("rpc_retries", 0)
    return get_signer("neartest", **kw)


def test_sign_args_roundtrip():
    req = SignRequest("alice.testnet", "ethereum-1", 0, b"\x01" * 32)
    args = sign_call_args(req)
    assert args == {"request": {"path": "ethereum-1", "payload_v2": {"Ecdsa": "01" * 32}, "domain_id": 0}}
    assert request_from_sign_args("alice.testnet", args) == req
    legacy = {"request": {"path": "p", "payload": list(b"\x02" * 32), "key_version": 0}}
    assert request_from_sign_args("alice.testnet", legacy).payload == b"\x02" * 32


@pytest.mark.parametrize("domain_id, payload", [(0, hashlib.sha256(b"tx").digest()), (1, b"solana message bytes")])
def test_sign_ecdsa_and_eddsa(fake_near, domain_id, payload):
    s = signer()
    assert isinstance(s, NearContractSigner)
    result = s.sign(SignRequest("alice.testnet", "p", domain_id, payload))
    verify_signature(result.public_key, payload, result.signature)
    assert s.tx_hashes[result.request] in fake_near.near.txs
    out = result.to_json("neartest")
    assert out["response"] == json.loads(json.dumps(out["response"]))


def test_many_payloads_concurrently_with_nonces(fake_near):
    s = signer()
    requests = [SignRequest("alice.testnet", f"btc-{i}", 0, hashlib.sha256(bytes([i])).digest()) for i in range(8)]
    results = s.sign_many(requests)
    assert all(not isinstance(r, SignFailure) for r in results)
    assert [r.request for r in results] == requests
    assert len(fake_near.near.txs) == 8
    nonces = sorted(t["transaction"]["nonce"] for t in fake_near.near.txs.values())
    assert len(set(nonces)) == 8


def test_timeout_is_retried_once_then_reported(fake_near):
    fake_near.near.mode = "timeout-once"
    result = signer().sign(SignRequest("alice.testnet", "p", 1, b"m"))
    assert fake_near.near.sign_calls == 2 and result.signature
    fake_near.near.mode = "timeout"
    fake_near.near.sign_calls = 0
    with pytest.raises(SignRequestTimedOutError, match="Request has timed out"):
        signer(timeout_retries=0).sign(SignRequest("alice.testnet", "p", 1, b"m"))
    assert fake_near.near.sign_calls == 1


@pytest.mark.parametrize(
    "mode, message",
    [("insufficient-deposit", "Attached deposit is lower than required"), ("wrong-domain", r"Domain DomainId\(0\) not found")],
)
def test_contract_errors_are_reported(fake_near, mode, message):
    fake_near.near.mode = mode
    with pytest.raises(SigningError, match=message) as info:
        signer().sign(SignRequest("alice.testnet", "p", 0, b"\x05" * 32))
    assert not isinstance(info.value, SignRequestTimedOutError)


def test_forged_signature_is_refused(fake_near):
    fake_near.near.mode = "garbage-signature"
    with pytest.raises(SignatureVerificationError):
        signer().sign(SignRequest("alice.testnet", "p", 0, b"\x05" * 32))


def test_root_key_mismatch_fails_loudly(fake_near):
    fake_near.near.root_override = dev_root_public_key(Curve.SECP256K1, seed="other").to_near_string()
    with pytest.raises(RootKeyMismatchError, match="refusing to sign"):
        signer().sign(SignRequest("alice.testnet", "p", 0, b"\x05" * 32))


def test_missing_and_unknown_keys(fake_near, tmp_path):
    with pytest.raises(CredentialsError, match="no key for bob.testnet"):
        signer().sign(SignRequest("bob.testnet", "p", 0, b"\x05" * 32))
    stranger = generate_access_key("alice.testnet")
    with pytest.raises(CredentialsError, match="is not an access key of alice.testnet"):
        signer(key=stranger).sign(SignRequest("alice.testnet", "p", 0, b"\x05" * 32))
    fc = generate_access_key("alice.testnet")
    fake_near.near.add_key(fc, permission="FunctionCall")
    with pytest.raises(CredentialsError, match="function-call access key"):
        signer(key=fc).sign(SignRequest("alice.testnet", "p", 0, b"\x05" * 32))


def test_resume_from_tx_hash(fake_near):
    s = signer()
    request = SignRequest("alice.testnet", "resume-me", 0, b"\x07" * 32)
    first = s.sign(request)
    tx_hash = s.tx_hashes[request]
    resumed = signer().resume(tx_hash, "alice.testnet")
    assert resumed.request == request and resumed.signature == first.signature


def test_rpc_down_is_one_clear_error(tmp_path):
    from chainsig_core.config import register_network
    from chainsig_core.credentials import write_access_key

    key = generate_access_key("alice.testnet")
    write_access_key(tmp_path, "down", key)
    register_network("down", rpc_url="http://127.0.0.1:9", contract_id="v1.signer-prod.testnet",
                     credentials_dir=tmp_path, family="testnet")
    s = get_signer("down", rpc_retries=0)
    with pytest.raises(RpcError, match="127.0.0.1:9"):
        s.sign(SignRequest("alice.testnet", "p", 0, b"\x05" * 32))


def test_cli_sign_and_resume(fake_near):
    runner = CliRunner()
    fake_near.near.pending_polls = 0
    result = runner.invoke(cli, ["sign", "--network", "neartest", "--account", "alice.testnet", "--path", "p",
                                 "--payload", "11" * 32, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["network"] == "neartest" and out["response"]["scheme"] == "Secp256k1"
    (tx_hash,) = fake_near.near.txs
    again = runner.invoke(cli, ["sign", "--network", "neartest", "--account", "alice.testnet", "--resume", tx_hash, "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["signature"] == out["signature"]
    config = load_config()
    assert config.network("neartest").contract_id == "v1.signer-dev.testnet"


def test_library_sign_sync_and_async(fake_near):
    import asyncio

    from chainsig_core import sign, sign_async

    fake_near.near.pending_polls = 0
    result = sign(account="alice.testnet", path="lib", payload=b"\x09" * 32, network="neartest")
    assert result.request.path == "lib"

    async def run():
        return await sign_async(account="alice.testnet", path="lib", payload=b"msg", domain_id=1, network="neartest")

    assert asyncio.run(run()).signature.to_json()["ed25519"]


def test_separate_signers_of_one_key_in_threads_share_its_nonces(fake_near):
    """Each thread has its own signer and event loop; the key's nonces are the process's, so
    they never collide, and one ``view_access_key`` per signer (its permission check) is all
    that is fetched. (Races with senders outside the process: test_burst_nonces.py.)"""
    from concurrent.futures import ThreadPoolExecutor

    fake_near.near.pending_polls = 0

    def one(i: int):
        return signer().sign(SignRequest("alice.testnet", f"race-{i}", 0, hashlib.sha256(bytes([i])).digest()))

    fetches = count_queries(fake_near, "view_access_key")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert len({r.request.path for r in results}) == 8
    assert len(fake_near.near.txs) == 8
    assert len({t["transaction"]["nonce"] for t in fake_near.near.txs.values()}) == 8
    assert len(fetches) <= 8


def count_queries(fake_near, request_type: str) -> list[dict]:
    """Record the fake node's ``query`` calls of ``request_type`` (the list fills as they come)."""
    seen: list[dict] = []
    original = fake_near.near.query

    def counting(params):
        if params.get("request_type") == request_type:
            seen.append(params)
        return original(params)

    fake_near.near.query = counting
    return seen


@pytest.mark.parametrize("rpc_retries", [0, 2])
def test_a_lost_answer_is_waited_on_never_resent(fake_near, rpc_retries):
    """The node applied the transaction but its answer was lost. With near-kit's transport
    retries a copy of the same bytes would be sent again, refused as InvalidNonce (its nonce is
    used — by itself), and near-kit would then sign a second ``sign`` transaction: ``send_tx``
    is therefore never retried by the transport, and the hash is waited on instead."""
    fake_near.near.mode = "lose-answer-once"
    result = signer(rpc_retries=rpc_retries).sign(SignRequest("alice.testnet", "lost", 1, b"message"))
    assert result.signature and fake_near.near.sign_calls == 1 and len(fake_near.near.txs) == 1


@pytest.mark.parametrize("burst", [1, 12])  # bigger bursts: test_burst_nonces.py (the fake is HTTP/1.0, backlog 5)
def test_a_burst_of_first_requests_fetches_the_key_and_block_once(fake_near, monkeypatch, burst):
    """A fresh signer's burst of N requests of one key starts with exactly one
    ``view_access_key`` (the permission check, whose nonce seeds the shared counter), one
    root-key view and one ``final`` block — not one of each per request, as near-kit's
    per-request nonce fetch did — and nonces are then handed out locally, each once."""
    from chainsig_core.signers.near import NearContractSigner

    fetches: list[str] = []
    original_fetch = NearContractSigner._fetch_access_key

    async def counting_fetch(self, client, key):
        fetches.append(key.account_id)
        return await original_fetch(self, client, key)

    monkeypatch.setattr(NearContractSigner, "_fetch_access_key", counting_fetch)
    key_views = count_queries(fake_near, "view_access_key")
    root_views = count_queries(fake_near, "call_function")
    blocks: list[str] = []
    original_rpc = fake_near.near.rpc

    def counting_rpc(method, params):
        if method == "block":
            blocks.append(params.get("finality"))
        return original_rpc(method, params)

    fake_near.near.rpc = counting_rpc
    fake_near.near.pending_polls = 0
    requests = [SignRequest("alice.testnet", f"burst-{i}", 0, hashlib.sha256(bytes([i])).digest()) for i in range(burst)]
    results = signer().sign_many(requests)
    assert all(not isinstance(r, SignFailure) for r in results)
    assert fetches == ["alice.testnet"] and len(key_views) == 1
    assert len(root_views) == 1 and blocks == ["final"]
    nonces = sorted(t["transaction"]["nonce"] for t in fake_near.near.txs.values())
    assert len(nonces) == burst and len(set(nonces)) == burst and nonces[0] > 100  # the key's nonce was 100


# -- domains added by vote_add_domains (2 = secp256k1, 3 = ed25519 on the fake contract) ------


def test_added_domains_sign_under_their_own_root_keys(fake_near, domain_root):
    """Domains 2 and 3 are not in the configuration: their root keys come from the contract's
    public_key view, their curves from those keys."""
    from chainsig_core.kdf import derive_public_key

    fake_near.near.pending_polls = 0
    s = signer()
    assert set(load_config().network("neartest").root_public_keys) == {0, 1}
    ecdsa_payload = hashlib.sha256(b"domain 2").digest()
    for domain_id, payload, kind in ((2, ecdsa_payload, "Ecdsa"), (3, b"a message of domain 3", "Eddsa")):
        result = s.sign(SignRequest("alice.testnet", "added", domain_id, payload))
        root = domain_root(domain_id)
        assert s.root_public_key(domain_id) == root
        assert result.public_key == derive_public_key(root, "alice.testnet", "added")
        assert result.request.curve is root.curve and result.signature.curve is root.curve
        verify_signature(result.public_key, payload, result.signature)
        args = json.loads(base64.b64decode(fake_near.near.txs[s.tx_hashes[result.request]]["transaction"]["actions"][0]["FunctionCall"]["args"]))
        assert args == {"request": {"path": "added", "payload_v2": {kind: payload.hex()}, "domain_id": domain_id}}
    domain0 = s.derived_public_key("alice.testnet", "added", 0)
    with pytest.raises(SignatureVerificationError):  # bound to domain 2's key, not domain 0's
        verify_signature(domain0, ecdsa_payload, s.sign(SignRequest("alice.testnet", "added", 2, ecdsa_payload)).signature)


def test_added_domain_payload_rules_follow_its_curve_before_anything_is_sent(fake_near):
    s = signer()
    with pytest.raises(InvalidInputError, match="an ECDSA payload is exactly 32 bytes"):
        s.sign(SignRequest("alice.testnet", "p", 2, b"not a hash"))
    with pytest.raises(InvalidInputError, match="must not be zero"):
        s.sign(SignRequest("alice.testnet", "p", 2, bytes(32)))
    with pytest.raises(InvalidInputError, match="the root key of domain 3 on network 'neartest' is ed25519, but the request is for secp256k1"):
        s.sign(SignRequest("alice.testnet", "p", 3, b"\x01" * 32, Curve.SECP256K1))
    (failure,) = s.sign_many([SignRequest("alice.testnet", "p", 2, b"m")])
    assert isinstance(failure, SignFailure) and isinstance(failure.error, InvalidInputError)
    assert fake_near.near.sign_calls == 0
    assert s.sign(SignRequest("alice.testnet", "p", 3, bytes(32))).signature.curve is Curve.ED25519  # any EdDSA message


def test_a_configured_added_domain_is_compared_with_the_contract(fake_near, domain_root, tmp_path):
    from chainsig_core.config import register_network

    def configure(roots):
        register_network("neartest", rpc_url=fake_near.url, contract_id="v1.signer-dev.testnet",
                         credentials_dir=tmp_path / "creds", family="testnet", root_public_keys=roots)

    configure({2: domain_root(2), 3: domain_root(3)})
    fake_near.near.pending_polls = 0
    assert signer().sign(SignRequest("alice.testnet", "p", 2, b"\x05" * 32)).public_key.curve is Curve.SECP256K1
    configure({2: domain_root(0)})  # the key of another domain
    with pytest.raises(RootKeyMismatchError, match="for domain 2, but the configuration has"):
        signer().sign(SignRequest("alice.testnet", "p", 2, b"\x05" * 32))
    configure({3: domain_root(2)})  # a key of another curve
    with pytest.raises(RootKeyMismatchError, match="refusing to sign"):
        signer().sign(SignRequest("alice.testnet", "p", 3, b"m"))
    assert fake_near.near.sign_calls == 1


def test_unknown_and_unsupported_domains_are_one_clear_error(fake_near):
    # the contract's state lists its domains: the message is the one `dev` gives
    with pytest.raises(UnknownNameError) as info:
        signer().sign(SignRequest("alice.testnet", "p", 7, b"\x05" * 32))
    assert str(info.value) == ("network 'neartest' has no domain 7: it has domains 0 (secp256k1), 1 (ed25519), "
                               "2 (secp256k1) and 3 (ed25519)")
    # a contract without a state view (the node's older view-panic shape): the panic decides
    fake_near.near.state_view = False
    with pytest.raises(UnknownNameError) as info:
        signer().sign(SignRequest("alice.testnet", "p", 7, b"\x05" * 32))
    assert str(info.value) == ("network 'neartest' has no domain 7 (the contract answered: "
                               "The provided domain ID, 7, was not found.)")
    fake_near.near.foreign_keys[4] = "bls12381:25Sm9ZxCWJwCL4y7sM6LgEXiq5wFLabfRZE2ssw8QkYBD5xPWJ5CxcAgMWbWXwfBFx"
    with pytest.raises(InvalidInputError, match="domain 4 of v1.signer-dev.testnet on neartest has a bls12381 root key: chainsig signs in secp256k1 and ed25519 domains only"):
        signer().sign(SignRequest("alice.testnet", "p", 4, b"\x05" * 32))
    assert fake_near.near.sign_calls == 0


def test_cli_and_library_sign_in_an_added_domain_and_resume_it(fake_near, domain_root):
    from chainsig_core import sign

    fake_near.near.pending_polls = 0
    runner = CliRunner()
    result = runner.invoke(cli, ["sign", "--network", "neartest", "--account", "alice.testnet", "--path", "cli",
                                 "--payload", "22" * 32, "--domain", "2", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["domain_id"] == 2 and out["response"]["scheme"] == "Secp256k1"
    (tx_hash,) = fake_near.near.txs
    again = runner.invoke(cli, ["sign", "--network", "neartest", "--account", "alice.testnet", "--resume", tx_hash, "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["signature"] == out["signature"] and json.loads(again.stdout)["domain_id"] == 2
    bad = runner.invoke(cli, ["sign", "--network", "neartest", "--account", "alice.testnet", "--path", "cli",
                              "--payload", "cafe", "--domain", "2"])
    assert bad.exit_code == 2 and bad.stderr.strip().count("\n") == 0 and "exactly 32 bytes" in bad.stderr
    lib = sign(account="alice.testnet", path="lib", payload=b"ed25519 in domain 3", domain_id=3, network="neartest")
    from chainsig_core.kdf import derive_public_key

    assert lib.public_key == derive_public_key(domain_root(3), "alice.testnet", "lib")
    assert lib.to_json("neartest")["domain_id"] == 3


@pytest.mark.parametrize(
    "vm_error, text",
    [
        ('wasm execution failed with error: FunctionCallError(ExecutionError("Smart contract panicked: '
         'The provided domain was not found."))', "The provided domain was not found."),
        ('wasm execution failed with error: HostError(GuestPanic { panic_msg: "say \\"hi\\"" })', 'say "hi"'),
        ("wasm execution failed with error: CompilationError(PrepareError(Deserialization))",
         "CompilationError(PrepareError(Deserialization))"),
        ("wasm execution failed with error: FunctionCallError(MethodResolveError(MethodNotFound))", "MethodNotFound"),
        ('FunctionCallError(ExecutionError("Smart contract panicked: \x1b[2J' + "x" * 500 + '"))', None),
        ("", "the contract panicked without a message"),
    ],
)
def test_view_panic_texts_are_the_contracts_own_one_printable_line(vm_error, text):
    """Both of near-kit's shapes of a view panic (nearcore ≥ 2: RpcError CONTRACT_EXECUTION_ERROR
    with cause.info.vm_error; older: a ContractPanicError) give the contract's text; remote text
    is one printable line of bounded length."""
    import near

    from chainsig_core.signers.near_errors import view_panic_text

    rpc = near.RpcError("RPC error [CONTRACT_EXECUTION_ERROR]: Server error",
                        data={"cause": {"name": "CONTRACT_EXECUTION_ERROR", "info": {"vm_error": vm_error}}})
    rpc.code = "CONTRACT_EXECUTION_ERROR"
    # near-kit raises the older shape only for a non-empty ``error``
    legacy = [near.ContractPanicError(f"v1.signer.public_key: {vm_error}")] if vm_error else []
    for exc in (rpc, *legacy):
        got = view_panic_text(exc)
        if text is None:  # hostile: escape sequences and a huge message
            assert got.startswith("?[2Jxxx") and len(got) == 300 and got.isprintable()
        else:
            assert got == text
    assert view_panic_text(near.RpcError("RPC error [UNKNOWN_BLOCK]: Server error")) is None

"""Security checks against the running MPC devnet (after the hostile barrages of this package
ran, so the logs hold their error lines too):

* a node with an unknown TLS key cannot connect to any node;
* ``respond`` from a non-participant is refused;
* a valid signature for a *different* request is refused (same payload, other path / account);
* no key share, presignature, FROST nonce, node key or TLS identity key appears — in hex (either
  case), decimal, base64 or base58 — in any file under the devnet data dir (logs, host records,
  chain database) other than the files that must hold them, nor in the metrics/health bodies;
* the stores do not open without the node key, and hold no secret in the clear.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import base58
import pytest

from chainsig_mpc.node.identity import NodeIdentity, load_identity
from chainsig_mpc.node.tls import TlsStream, client_connection, make_context


async def _handshake(url: str, identity: NodeIdentity, node_key: Any) -> None:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    stream = TlsStream(client_connection(make_context(identity, lambda: [node_key], server=False), node_key),
                       reader, writer)
    try:
        await asyncio.wait_for(stream.handshake(), 10)
        # TLS 1.3: the server checks the client certificate after the client's Finished, so a
        # refusal shows on the first read, not in the handshake call.
        await asyncio.wait_for(stream.read_exactly(1), 5)
    finally:
        stream.abort()


def refused_connections(devnet: Any, node: dict[str, Any]) -> int:
    found = devnet.samples(node, "chainsig_mpc_peer_connections_refused_total")
    assert found, "the node reports no refused-connection metric"
    return int(sum(found.values()))


def test_a_node_with_an_unknown_tls_key_cannot_connect(devnet: Any) -> None:
    stranger = NodeIdentity.generate()
    refused_before = [refused_connections(devnet, node) for node in devnet.description["nodes"]]
    for index, node in enumerate(devnet.description["nodes"]):
        node_key = load_identity(devnet.node_dirs()[index] / "tls_identity.pem").public_key
        with pytest.raises(Exception) as refused:
            asyncio.run(_handshake(node["url"], stranger, node_key))
        assert not isinstance(refused.value, asyncio.TimeoutError), "the node neither refused nor spoke"
    time.sleep(0.5)
    refused_after = [refused_connections(devnet, node) for node in devnet.description["nodes"]]
    assert all(after > before for before, after in zip(refused_before, refused_after)), (refused_before, refused_after)
    for index in range(len(devnet.description["nodes"])):
        log = (devnet.root / "logs" / f"mpc-node{index}.log").read_text(errors="replace")
        assert f"key {stranger.tls_public_key} is not a participant" in log or "refused peer connection" in log


@contextmanager
def nodes_paused(devnet: Any) -> Iterator[None]:
    """SIGSTOP every node (processes this test session started) so a request stays pending."""
    pids = [s.pid for s in devnet.services() if s.name.startswith("mpc-node")]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


async def _call(devnet: Any, account: str, method: str, args: dict[str, Any], wait_until: str,
                deposit: str = "0 yocto") -> Any:
    from near import AsyncNear, function_call

    from chainsig_core.credentials import load_access_key

    key = load_access_key(devnet.host_dir / "credentials", "devnet", account)
    async with AsyncNear(network="devnet", rpc_url=devnet.rpc_url, account_id=account,
                         private_key=key.to_near_secret_string()) as near:
        return await near.send_transaction(devnet.contract_id, [function_call(method, args, gas="300 Tgas",
                                                                               deposit=deposit)],
                                           wait_until=wait_until)


def _respond_error(devnet: Any, account: str, request: dict[str, Any], response: dict[str, Any]) -> str:
    try:
        asyncio.run(_call(devnet, account, "respond", {"request": request, "response": response},
                          "EXECUTED_OPTIMISTIC"))
    except Exception as exc:  # near-kit's execution error carries the contract's panic
        return str(exc)
    raise AssertionError(f"respond from {account} was accepted")


def test_respond_is_refused_from_a_non_participant_and_for_another_request(devnet_env: Any) -> None:
    from chainsig_core.kdf import derive_public_key, tweak
    from chainsig_core.signatures import parse_signature_response, verify_signature

    payload = hashlib.sha256(b"security: one payload, two requests").digest()
    (answered,) = devnet_env.sign_batch("security-a", 1, accounts=("alice.devnet",))
    assert not isinstance(answered, BaseException), answered
    stolen = dict(answered.response)  # valid for (alice, "security-a-0", its payload)
    request_a = {"domain_id": 0, "payload": {"Ecdsa": answered.request.payload.hex()},
                 "tweak": list(tweak("alice.devnet", "security-a-0"))}
    pending_args = {"request": {"path": "security-b", "payload_v2": {"Ecdsa": payload.hex()}, "domain_id": 0}}
    pending = {"domain_id": 0, "payload": {"Ecdsa": payload.hex()}, "tweak": list(tweak("bob.devnet", "security-b"))}
    with nodes_paused(devnet_env):
        asyncio.run(_call(devnet_env, "bob.devnet", "sign", pending_args, "INCLUDED", "1 yocto"))
        deadline = time.monotonic() + 10
        while devnet_env.view("get_pending_request", {"request": pending}) is None:
            assert time.monotonic() < deadline, "the sign request never became pending"
            time.sleep(0.1)
        # a user (not a participant) answers a pending request
        assert "Not a participant: alice.devnet" in _respond_error(devnet_env, "alice.devnet", pending, stolen)
        # a participant answers request B with a valid signature of request A
        refused = _respond_error(devnet_env, "node0.devnet", pending, stolen)
        assert "The provided signature is invalid." in refused
        # … or replays A's signature for A, which was answered already
        again = _respond_error(devnet_env, "node0.devnet", request_a, stolen)
        assert "timed out, was completed, or never existed" in again
        assert devnet_env.view("get_pending_request", {"request": pending}) is not None  # still waiting
    # the nodes wake up and answer B properly
    deadline = time.monotonic() + 60
    while devnet_env.view("get_pending_request", {"request": pending}) is not None:
        assert time.monotonic() < deadline, "the paused nodes did not answer the pending request"
        time.sleep(0.2)
    from chainsig_core.signers import get_signer

    signer = get_signer("devnet")
    try:  # resubmitting the same request is answered and verifies under bob's derived key
        result = signer.sign(sign_request_of("bob.devnet", "security-b", payload))
    finally:
        asyncio.run(signer.aclose())
    verify_signature(derive_public_key(devnet_env.root_key(0), "bob.devnet", "security-b"), payload,
                     parse_signature_response(dict(result.response)))


def sign_request_of(account: str, path: str, payload: bytes) -> Any:
    from chainsig_core.signers.base import SignRequest

    return SignRequest(account, path, 0, payload)


# -- secrets -------------------------------------------------------------------------------------

def _encodings(secret: bytes) -> set[bytes]:
    """How a 32-byte secret could leak into text."""
    out = {secret.hex().encode(), secret.hex().upper().encode(), str(int.from_bytes(secret, "big")).encode(),
           base64.b64encode(secret).rstrip(b"="), base58.b58encode(secret)}
    if len(secret) == 32:
        out.add(str(int.from_bytes(secret, "little")).encode())
    return out


def _node_secrets(devnet: Any) -> dict[str, bytes]:
    """Every secret the nodes hold, read from their stores with their node keys."""
    from chainsig_mpc.service.store import KIND_KEYSHARE, NodeStore

    secrets: dict[str, bytes] = {}
    for node_dir in devnet.node_dirs():
        name = node_dir.name
        node_key = node_key_of(node_dir)
        secrets[f"{name} node key"] = node_key
        identity_pem = (node_dir / "tls_identity.pem").read_bytes()
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        tls_key = load_pem_private_key(identity_pem, None)
        secrets[f"{name} tls key"] = tls_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        store = NodeStore(node_dir / STORE, node_key)
        try:
            for record_id, share in store.items(KIND_KEYSHARE):
                secrets[f"{name} share {record_id}"] = bytes.fromhex(share["share"])
            for record_id, p in store.items("presignature"):
                for part in ("a", "w", "u", "e"):
                    secrets[f"{name} presignature {record_id[:8]} {part}"] = bytes.fromhex(p[part])
            for record_id, n in store.items("nonce"):
                for part in ("hiding", "binding"):
                    secrets[f"{name} nonce {record_id[:8]} {part}"] = bytes.fromhex(n[part])
        finally:
            store.close()
    return secrets


STORE = "store.sqlite"
SECRET_HOLDERS = {"node.key", "tls_identity.pem", STORE, STORE + "-wal", STORE + "-shm"}


def node_key_of(node_dir: Path) -> bytes:
    """The node key as the node loads it (its config's ``[node_key]`` file)."""
    from chainsig_mpc.node.nodekey import NodeKeySource

    return NodeKeySource(file=node_dir / "node.key").load()


def test_no_secret_in_any_log_record_or_endpoint(devnet: Any) -> None:
    secrets = _node_secrets(devnet)
    kinds = {name.split(" ")[1] for name in secrets}
    assert {"node", "tls", "share", "presignature", "nonce"} <= kinds, kinds
    searched: list[Path] = []
    haystacks: list[tuple[str, bytes]] = []
    for path in devnet.root.rglob("*"):
        if path.is_file() and path.name not in SECRET_HOLDERS and "credentials" not in path.parts:
            searched.append(path)
            haystacks.append((str(path), path.read_bytes()))
    for node in devnet.description["nodes"]:
        haystacks.append((node["metrics_url"] + "/metrics", devnet.metrics_text(node).encode()))
        haystacks.append((node["metrics_url"] + "/health", json.dumps(devnet.health(node)).encode()))
    assert any(p.name == "chain.sqlite" for p in searched) and any(p.suffix == ".log" for p in searched)
    leaks = find_leaks(secrets, haystacks)
    assert not leaks, leaks[:5]


def find_leaks(secrets: dict[str, bytes], haystacks: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    """(secret name, where) for every encoding of a secret found inside a haystack.

    Every encoding is a run of hex digits, decimal digits or base64/base58 characters; each such
    run in a haystack is cut into every window of an encoding's length and looked up in a set
    (fast on a multi-megabyte chain database, and it finds a secret embedded in a longer run)."""
    owner = {form.lower() if re.fullmatch(rb"[0-9a-fA-F]+", form) else form: name
             for name, secret in secrets.items() for form in _encodings(secret)}
    lengths = sorted({len(form) for form in owner})
    leaks = []
    for where, data in haystacks:
        for run in re.finditer(rb"[0-9A-Za-z+/]{%d,}" % lengths[0], data):
            token = run.group(0)
            lowered = token.lower()
            for size in lengths:
                for start in range(len(token) - size + 1):
                    for candidate in (token[start:start + size], lowered[start:start + size]):
                        if candidate in owner:
                            leaks.append((owner[candidate], where))
    return leaks


def test_stores_do_not_open_without_the_node_key(devnet: Any, tmp_path: Path) -> None:
    from chainsig_mpc.node.errors import WrongNodeKeyError
    from chainsig_mpc.service.store import NodeStore

    secrets = _node_secrets(devnet)
    for node_dir in devnet.node_dirs():
        copy = tmp_path / node_dir.name
        copy.mkdir()
        for name in (STORE, STORE + "-wal"):
            if (node_dir / name).exists():
                shutil.copy(node_dir / name, copy / name)
        wrong = os.urandom(32)
        with pytest.raises(WrongNodeKeyError) as error:
            NodeStore(copy / STORE, wrong)
        message = str(error.value)
        assert "\n" not in message and wrong.hex() not in message
        raw = b"".join(p.read_bytes() for p in copy.iterdir())
        own = {k: v for k, v in secrets.items() if k.startswith(node_dir.name + " ")}
        leaked = [name for name, secret in own.items() if any(form in raw for form in _encodings(secret))]
        assert not leaked, leaked

"""Hostile MPC wire input: the protocol decoders, then a running node's TLS port.

The decoders (``protocols.messages.decode``, ``service.network.decode_envelope`` /
``message_of``) must turn any bytes into a message or exactly their one error class. Against
a live node, a peer holding a *participant's* TLS key (so it gets past the handshake — the
worst case short of a malicious node's own protocol logic) sends garbage frames and garbage
envelopes on every channel the node handles; afterwards the node is still up, still connected
and the network still signs.

Frame-level properties (``framing.decode_body`` / ``read_frame``) are covered by
``mpc/tests/node/test_properties.py``; they are not repeated here.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainsig_mpc.node.framing import encode_data, encode_hello
from chainsig_mpc.node.identity import NodeIdentity, load_identity
from chainsig_mpc.node.tls import TlsStream, client_connection, make_context
from chainsig_mpc.protocols.errors import MessageError
from chainsig_mpc.protocols.messages import Message, decode
from chainsig_mpc.service.network import EnvelopeError, decode_envelope, encode_envelope, message_of

CHANNELS = ["round", "reply", "ecdsa.request", "frost.package", "presign.invite", "frost.precommit",
            "frost.commitment", "reshare.commitment"]
KINDS = ["dkg.commit", "dkg.share", "dkg.commit.echo", "presign.triple", "presign.commit", "ecdsa.share",
         "frost.sign", "reshare.deal"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.text(max_size=40)
    | st.sampled_from(["00" * 32, "ff" * 32, "02" + "11" * 32, "04" + "22" * 64, "ab"]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)


@st.composite
def protocol_messages(draw: Any, sender: int | None = None) -> bytes:
    """Canonically encoded messages with hostile content (wrong ids, bodies, kinds)."""
    message = Message(
        kind=draw(st.sampled_from(KINDS) | st.text(min_size=1, max_size=64)),
        sid=draw(st.binary(min_size=32, max_size=32)),
        sender=sender if sender is not None else draw(st.integers(0, 2**16)),
        recipient=draw(st.none() | st.integers(0, 2**16)),
        body=draw(st.dictionaries(st.text(max_size=12), json_values, max_size=6)),
    )
    return message.encode()


# -- decoders ----------------------------------------------------------------------------------

@given(st.binary(max_size=600) | protocol_messages().map(lambda raw: raw[: len(raw) // 2]))
def test_message_decoder_answers_a_message_or_message_error(raw: bytes) -> None:
    try:
        message = decode(raw)
    except MessageError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        assert message.encode() == raw  # only the canonical encoding is accepted


@given(protocol_messages(), st.integers(0, 2**16))
def test_message_of_binds_the_sender_to_the_authenticated_peer(raw: bytes, peer: int) -> None:
    try:
        message = message_of(peer, {"m": raw.decode()})
    except MessageError:
        return
    assert message.sender == peer


@given(st.binary(max_size=400) | st.builds(lambda c, t, b: json.dumps({"c": c, "t": t, "b": b}).encode(),
                                           json_values, json_values, json_values))
def test_envelope_decoder_answers_an_envelope_or_envelope_error(raw: bytes) -> None:
    try:
        env = decode_envelope(raw)
    except EnvelopeError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(env["c"], str) and isinstance(env["b"], dict)


# -- a live node's TLS port ---------------------------------------------------------------------

async def _session(url: str, identity: NodeIdentity, node_key: Any, frames: list[bytes]) -> bytes:
    """Connect to ``url`` as ``identity``, send ``frames``, read until the node closes (or 1 s
    of silence); returns what the node sent back (ACK frames)."""
    host, port = url.removeprefix("https://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    stream = TlsStream(client_connection(make_context(identity, lambda: [node_key], server=False), node_key),
                       reader, writer)
    received = b""
    try:
        await asyncio.wait_for(stream.handshake(), 10)
        for frame in frames:
            try:
                await stream.write(frame)
            except OSError:  # the node already closed this connection (a bad frame before)
                return received
        while True:
            try:
                received += await asyncio.wait_for(stream.read_exactly(1), 1.0)
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, OSError):
                break
            except Exception:  # the node closed the TLS session on us
                break
    finally:
        stream.abort()
    return received


def _impostor(devnet: Any, target: int, speaker: int) -> tuple[str, NodeIdentity, Any]:
    dirs = devnet.node_dirs()
    identity = load_identity(dirs[speaker] / "tls_identity.pem")
    node_key = load_identity(dirs[target] / "tls_identity.pem").public_key
    url = devnet.description["nodes"][target]["url"]
    return url, identity, node_key


def _stream_id(i: int) -> bytes:
    return struct.pack(">QQ", 0x7E57_0000 + i, i)


@pytest.fixture(scope="module")
def barrage_counter() -> list[int]:
    return [0]


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    frames=st.lists(
        st.binary(max_size=64)                                                       # raw bytes
        | st.builds(lambda n, b: struct.pack(">I", n) + b, st.integers(0, 2**32 - 1), st.binary(max_size=16))
        | st.builds(lambda kind, b: struct.pack(">I", len(b) + 1) + bytes([kind]) + b,
                    st.integers(0, 255), st.binary(max_size=40)),                   # unknown / short frames
        min_size=1, max_size=4),
)
def test_garbage_frames_from_a_participant_key(devnet: Any, barrage_counter: list[int], frames: list[bytes]) -> None:
    """Frames that are not a protocol (bad lengths, types, HELLO versions, oversized lengths):
    the node closes that connection and carries on."""
    barrage_counter[0] += 1
    url, identity, node_key = _impostor(devnet, target=0, speaker=4)
    asyncio.run(_session(url, identity, node_key, frames))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payloads=st.lists(
    st.binary(max_size=200)
    | st.builds(lambda c, t, b: encode_envelope(c, t, b), st.sampled_from(CHANNELS) | st.text(max_size=20),
                st.text(max_size=40), st.dictionaries(st.text(max_size=8), json_values, max_size=5))
    | st.builds(lambda c, t, m: encode_envelope(c, t, {"m": m.decode()}), st.sampled_from(CHANNELS),
                st.sampled_from(["dkg/0/0/0", "presign/x", "sign/0", ""]) | st.text(max_size=30),
                protocol_messages(sender=4)),
    min_size=1, max_size=6))
def test_garbage_envelopes_on_every_channel(devnet: Any, barrage_counter: list[int], payloads: list[bytes]) -> None:
    """Well-framed DATA messages whose envelopes and protocol messages are garbage, on every
    channel the node serves, claiming to come from the peer whose key we hold: each is dropped
    or refused (the node acknowledges what it received and stays connected)."""
    barrage_counter[0] += 1
    url, identity, node_key = _impostor(devnet, target=1, speaker=3)
    frames = [encode_hello(_stream_id(barrage_counter[0]))]
    frames += [encode_data(seq, payload) for seq, payload in enumerate(payloads, start=1)]
    acks = asyncio.run(_session(url, identity, node_key, frames))
    assert acks, "the node did not acknowledge well-framed messages"


def test_nodes_survive_the_barrage_and_still_sign(devnet_env: Any, barrage_counter: list[int]) -> None:
    """After the barrages (run first in this module) every node is healthy, reconnected to all
    peers, and the network signs in both domains."""
    import time

    assert barrage_counter[0] > 0, "run the module as a whole: the barrages come first"
    deadline = time.monotonic() + 30
    while True:
        healths = [devnet_env.health(node) for node in devnet_env.description["nodes"]]
        if all(len(h["connected"]) == 4 for h in healths) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert all(h["ok"] and h["state"] == "Running" for h in healths), healths
    assert all(len(h["connected"]) == 4 for h in healths), [h["connected"] for h in healths]
    devnet_env.assert_signs("after-mpc-barrage", 4)

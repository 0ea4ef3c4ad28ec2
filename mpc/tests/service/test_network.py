"""Round protocols over real mutually authenticated TLS: DKG and presign complete; a forged
sender is dropped; a silent participant is named at the timeout; bad envelopes are refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from chainsig_mpc.protocols.dkg import Dkg
from chainsig_mpc.protocols.errors import MessageError, ProtocolTimeout
from chainsig_mpc.protocols.messages import Message
from chainsig_mpc.protocols.presign import EcdsaPresign
from chainsig_mpc.service.network import EnvelopeError, decode_envelope, encode_envelope, message_of

Run = Callable[[Awaitable[Any]], Any]


def test_dkg_and_presign_over_tls(run: Run, tls_cluster: Any) -> None:
    async def scenario() -> None:
        async with tls_cluster(3) as cluster:
            ids = cluster.ids
            shares = await asyncio.gather(*(
                cluster.networks[i].run_protocol("dkg/0/0/0", Dkg("secp256k1", 0, 0, ids, 2, i), 20)
                for i in ids))
            assert len({s.public_key for s in shares}) == 1
            presigs = await asyncio.gather(*(
                cluster.networks[i].run_protocol("presign/0.x", EcdsaPresign(shares[i], ids, 0, "0.x"), 20)
                for i in ids))
            assert {p.presignature_id for p in presigs} == {presigs[0].presignature_id}

    run(scenario())


def test_late_joiner_gets_buffered_messages(run: Run, tls_cluster: Any) -> None:
    async def scenario() -> None:
        async with tls_cluster(3) as cluster:
            ids = cluster.ids
            early = [asyncio.create_task(cluster.networks[i].run_protocol(
                "dkg/0/1/0", Dkg("ed25519", 1, 0, ids, 2, i), 20)) for i in ids[:2]]
            await asyncio.sleep(0.5)  # node 2 opens the session after the others started
            late = await cluster.networks[2].run_protocol("dkg/0/1/0", Dkg("ed25519", 1, 0, ids, 2, 2), 20)
            assert late.public_key == (await early[0]).public_key == (await early[1]).public_key

    run(scenario())


def test_silent_participant_is_named_at_timeout(run: Run, tls_cluster: Any) -> None:
    async def scenario() -> None:
        async with tls_cluster(3) as cluster:
            ids = cluster.ids
            with pytest.raises(ProtocolTimeout) as caught:  # silent, not proven malicious
                await asyncio.gather(*(cluster.networks[i].run_protocol(
                    "dkg/0/0/9", Dkg("secp256k1", 0, 0, ids, 2, i), 1.5) for i in ids[:2]))
            assert caught.value.culprits == (2,)

    run(scenario())


def test_a_node_cannot_speak_for_another() -> None:
    message = Message("dkg.contribution", bytes(32), 2, None, {"x": "00"})
    body = {"m": message.encode().decode()}
    assert message_of(2, body) == message
    with pytest.raises(MessageError, match="claiming"):
        message_of(1, body)
    with pytest.raises(MessageError):
        message_of(1, {"m": 5})


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"c":"round","t":"x"}',
                                 b'{"c":"round","t":"' + b"x" * 500 + b'","b":{}}',
                                 b'{"c":1,"t":"x","b":{}}', b'{"c":"r","t":"x","b":[]}'])
def test_bad_envelopes_are_refused(raw: bytes) -> None:
    with pytest.raises(EnvelopeError):
        decode_envelope(raw)


def test_envelope_round_trip() -> None:
    data = encode_envelope("reply", "ab", {"refused": "no"})
    assert decode_envelope(data) == {"c": "reply", "t": "ab", "b": {"refused": "no"}}

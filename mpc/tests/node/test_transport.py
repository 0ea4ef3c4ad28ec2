"""Peer transport over mutual TLS on loopback with real sockets."""

from __future__ import annotations

import asyncio
import struct

import pytest

from chainsig_core.errors import InvalidInputError
from chainsig_mpc.node import framing
from chainsig_mpc.node.errors import FrameError, PeerRefusedError, QueueFullError, UnknownPeerError
from chainsig_mpc.node.identity import NodeIdentity
from chainsig_mpc.node.tls import TlsStream, client_connection, make_context
from chainsig_mpc.node.transport import Peer, PeerTransport


def test_messages_flow_both_ways_between_three_nodes_in_order(run, cluster, recv_n):
    async def scenario():
        c = await cluster(3).start()
        try:
            for sender, transport in c.nodes.items():
                for receiver in c.nodes:
                    for n in range(50):
                        transport.send(receiver, f"{sender}>{receiver}#{n}".encode())
            for receiver, transport in c.nodes.items():
                got = await recv_n(transport, 150)
                for sender in c.nodes:
                    expected = [f"{sender}>{receiver}#{n}".encode() for n in range(50)]
                    assert [data for pid, data in got if pid == sender] == expected
            await asyncio.sleep(0.1)
            assert all(t.queued(p) == 0 for t in c.nodes.values() for p in c.nodes if p != t.node_id)
        finally:
            await c.close()

    run(scenario())


def test_large_message_up_to_the_bound_arrives_intact(run, cluster, recv_n):
    async def scenario():
        c = await cluster(2, max_message_bytes=300_000).start()
        try:
            blob = bytes(range(256)) * 1171  # 299,776 bytes: several TLS records
            c.nodes[1].send(2, blob)
            assert await recv_n(c.nodes[2], 1) == [(1, blob)]
            with pytest.raises(InvalidInputError):
                c.nodes[1].send(2, bytes(300_001))
        finally:
            await c.close()

    run(scenario())


def test_send_to_unknown_peer_and_non_bytes_are_clear_errors(run, cluster):
    async def scenario():
        c = await cluster(2).start()
        try:
            with pytest.raises(UnknownPeerError):
                c.nodes[1].send(7, b"x")
            with pytest.raises(InvalidInputError):
                c.nodes[1].send(2, "text")  # type: ignore[arg-type]
        finally:
            await c.close()

    run(scenario())


def test_queue_bound_refuses_more_while_peer_is_down(run, cluster):
    async def scenario():
        c = await cluster(2, max_queued=5).start()
        try:
            await c.nodes[2].close()
            for _ in range(5):
                c.nodes[1].send(2, b"waiting")
            with pytest.raises(QueueFullError):
                c.nodes[1].send(2, b"one too many")
        finally:
            await c.close()

    run(scenario())


def test_incoming_peer_with_unknown_key_is_refused(run, cluster, recv_n):
    async def scenario():
        c = await cluster(2).start()
        outsider_identity = NodeIdentity.generate()
        # The outsider lists node 1 (so it dials it), but node 1's table does not list the outsider.
        outsider_table = {1: c.participants[1], 9: Peer(9, "127.0.0.1", 1, outsider_identity.public_key)}
        outsider = PeerTransport(outsider_identity, 9, lambda: outsider_table, backoff_max=0.1)
        await outsider.start()
        try:
            outsider.send(1, b"let me in")
            await c.wait_connected()
            for _ in range(200):
                if c.nodes[1].refused >= 2 and outsider.refused >= 2:
                    break
                await asyncio.sleep(0.02)
            assert c.nodes[1].refused >= 2 and outsider.refused >= 2
            assert 1 not in outsider.connected
            c.nodes[2].send(1, b"from a participant")
            assert await recv_n(c.nodes[1], 1) == [(2, b"from a participant")]  # nothing else came
        finally:
            await outsider.close()
            await c.close()

    run(scenario())


@pytest.mark.parametrize("impostor_kind", ["outsider", "other participant"])
def test_dialled_peer_must_present_exactly_its_listed_key(run, cluster, impostor_kind):
    async def scenario():
        c = await cluster(3).start()
        await c.wait_connected()
        port_of_2 = c.participants[2].port
        await c.nodes[2].close()
        # Something else now listens where node 2 should be; it would gladly accept node 1.
        identity = NodeIdentity.generate() if impostor_kind == "outsider" else c.identities[3]
        impostor_table = {1: c.participants[1], 2: Peer(2, "127.0.0.1", port_of_2, identity.public_key)}
        impostor = PeerTransport(identity, 2, lambda: impostor_table, "127.0.0.1", port_of_2)
        await impostor.start()
        try:
            c.nodes[1].send(2, b"secret share for node 2")
            refused_before = c.nodes[1].refused
            for _ in range(300):
                if c.nodes[1].refused > refused_before:
                    break
                await asyncio.sleep(0.02)
            assert c.nodes[1].refused > refused_before
            assert 2 not in c.nodes[1].connected
            assert impostor._inbox.empty()
            assert c.nodes[1].queued(2) == 1  # still waiting for the real node 2
        finally:
            await impostor.close()
            await c.close()

    run(scenario())


async def _raw_participant_stream(c, as_node: int, to_node: int) -> TlsStream:
    """A hand-driven TLS connection from a participant's identity (to send bad frames)."""
    context = make_context(c.identities[as_node], lambda: [c.identities[to_node].public_key], server=False)
    reader, writer = await asyncio.open_connection("127.0.0.1", c.participants[to_node].port)
    stream = TlsStream(client_connection(context, c.identities[to_node].public_key), reader, writer)
    await stream.handshake()
    return stream


async def _closed_by_peer(stream: TlsStream) -> bool:
    try:
        await asyncio.wait_for(stream.read_exactly(1), 5)
    except asyncio.IncompleteReadError:
        return True
    return False


@pytest.mark.parametrize(
    "bad_bytes",
    [
        pytest.param(struct.pack(">I", 2**31) + b"\x01", id="oversized-length"),
        pytest.param(struct.pack(">I", 100) + b"\x01" + bytes(9), id="truncated-body"),
        pytest.param(b"\x00\x00", id="truncated-header"),
        pytest.param(struct.pack(">I", 3) + b"\x07ab", id="unknown-type"),
        pytest.param(struct.pack(">I", 4) + b"\x01abc", id="short-data"),
    ],
)
def test_bad_frames_close_the_connection_and_the_node_carries_on(run, cluster, recv_n, bad_bytes):
    async def scenario():
        c = await cluster(3).start()
        try:
            stream = await _raw_participant_stream(c, as_node=2, to_node=1)
            await stream.write(framing.encode_hello(b"\x01" * 16))
            await stream.write(bad_bytes)
            if bad_bytes[:4] == struct.pack(">I", 100) or len(bad_bytes) < 4:
                await stream.close()  # the stream ends inside the frame
            else:
                assert await _closed_by_peer(stream)
                await stream.close()
            for _ in range(100):
                if c.nodes[1].refused:
                    break
                await asyncio.sleep(0.02)
            assert c.nodes[1].refused == 1
            c.nodes[3].send(1, b"still alive")
            c.nodes[2].send(1, b"real node 2")
            got = await recv_n(c.nodes[1], 2)
            assert sorted(got) == [(2, b"real node 2"), (3, b"still alive")]
        finally:
            await c.close()

    run(scenario())


def test_a_restarted_peer_reconnects_and_queued_messages_arrive(run, cluster, recv_n):
    async def scenario():
        c = await cluster(3, backoff_max=0.2).start()
        try:
            await c.wait_connected()
            c.nodes[1].send(2, b"before")
            assert await recv_n(c.nodes[2], 1) == [(1, b"before")]
            await c.nodes[2].close()
            await asyncio.sleep(0.1)
            for n in range(5):
                c.nodes[1].send(2, f"while down {n}".encode())
            restarted = await c.restart(2)
            got = await recv_n(restarted, 5)
            assert got == [(1, f"while down {n}".encode()) for n in range(5)]
            restarted.send(3, b"hello again")
            restarted.send(1, b"hello again")
            assert await recv_n(c.nodes[3], 1) == [(2, b"hello again")]
            assert await recv_n(c.nodes[1], 1) == [(2, b"hello again")]
            await c.wait_connected()
        finally:
            await c.close()

    run(scenario())


def test_a_participant_removed_from_the_contract_is_dropped_and_refused(run, cluster, recv_n):
    async def scenario():
        c = await cluster(3, backoff_max=0.1).start()
        try:
            await c.wait_connected()
            removed = c.participants.pop(3)
            c.nodes[1].refresh()
            c.nodes[2].refresh()
            with pytest.raises(UnknownPeerError):
                c.nodes[1].send(3, b"x")
            # Node 3 still believes it is a participant and keeps dialling; it is refused.
            c.nodes[3].send(1, b"I left")
            refused_before = c.nodes[1].refused
            for _ in range(200):
                if c.nodes[1].refused > refused_before:
                    break
                await asyncio.sleep(0.02)
            assert c.nodes[1].refused > refused_before
            c.nodes[2].send(1, b"ok")
            assert await recv_n(c.nodes[1], 1) == [(2, b"ok")]
            assert removed.peer_id == 3
        finally:
            await c.close()

    run(scenario())


def test_peer_from_participant_fields():
    key = NodeIdentity.generate().tls_public_key
    peer = Peer.from_participant(4, "https://node4.example:3000", key)
    assert (peer.host, peer.port, peer.tls_public_key.to_near_string()) == ("node4.example", 3000, key)
    assert Peer.from_participant(1, "127.0.0.1:9", key).port == 9
    with pytest.raises(InvalidInputError):
        Peer.from_participant(4, "https://node4.example", key)
    with pytest.raises(InvalidInputError):
        Peer.from_participant(4, "node:99999", key)
    with pytest.raises(InvalidInputError):
        Peer.from_participant(4, "node:1", "secp256k1:abc")


def test_frame_codec_round_trips_and_rejects_garbage():
    assert framing.decode_body(framing.encode_data(7, b"xyz")[4:]) == framing.Frame(framing.DATA, seq=7, payload=b"xyz")
    assert framing.decode_body(framing.encode_ack(9)[4:]).seq == 9
    assert framing.decode_body(framing.encode_hello(b"s" * 16)[4:]).stream_id == b"s" * 16
    for body in (b"", b"\x00\x02" + bytes(16), b"\x00\x01", b"\x02\x00", b"\x09"):
        with pytest.raises(FrameError):
            framing.decode_body(body)


def test_refused_is_a_transport_error_with_one_line_message():
    error = PeerRefusedError("TLS handshake failed: certificate verify failed")
    assert isinstance(error, ConnectionError) and "\n" not in str(error)


def test_resent_messages_after_a_reconnect_are_delivered_once_and_gaps_refused(run, cluster, recv_n):
    async def scenario():
        c = await cluster(2).start()
        try:
            stream_id = b"\x07" * 16
            first = await _raw_participant_stream(c, as_node=2, to_node=1)
            await first.write(framing.encode_hello(stream_id))
            for seq in (1, 2):
                await first.write(framing.encode_data(seq, f"m{seq}".encode()))
            assert await recv_n(c.nodes[1], 2) == [(2, b"m1"), (2, b"m2")]
            await first.close()  # as if the acks were lost: the sender resends 2
            second = await _raw_participant_stream(c, as_node=2, to_node=1)
            await second.write(framing.encode_hello(stream_id))
            for seq in (2, 3):
                await second.write(framing.encode_data(seq, f"m{seq}".encode()))
            assert await recv_n(c.nodes[1], 1) == [(2, b"m3")]
            acks = [await framing.read_frame(second, 64) for _ in range(2)]
            assert [(a.kind, a.seq) for a in acks] == [(framing.ACK, 2), (framing.ACK, 3)]
            await second.write(framing.encode_data(5, b"gap"))  # 4 is missing: refused
            assert await _closed_by_peer(second)
            await second.close()
            assert c.nodes[1]._inbox.empty()
        finally:
            await c.close()

    run(scenario())


def test_a_silent_connection_is_dropped_after_the_handshake_timeout(run, cluster, recv_n):
    async def scenario():
        c = await cluster(2, handshake_timeout=0.3).start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", c.participants[1].port)
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the node
            writer.close()
            c.nodes[2].send(1, b"fine")
            assert await recv_n(c.nodes[1], 1) == [(2, b"fine")]
        finally:
            await c.close()

    run(scenario())


def test_a_peer_with_a_non_ed25519_certificate_is_refused(run, cluster):
    async def scenario():
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        from OpenSSL import SSL

        c = await cluster(2).start()
        try:
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p256")])
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(key.public_key()).serial_number(1)
                    .not_valid_before(now - datetime.timedelta(days=1))
                    .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
            context = SSL.Context(SSL.TLS_CLIENT_METHOD)
            context.use_certificate(cert)
            context.use_privatekey(key)
            context.set_verify(SSL.VERIFY_NONE)
            reader, writer = await asyncio.open_connection("127.0.0.1", c.participants[1].port)
            connection = SSL.Connection(context, None)
            connection.set_connect_state()
            stream = TlsStream(connection, reader, writer)
            with pytest.raises((PeerRefusedError, asyncio.IncompleteReadError)):
                await stream.handshake()
                await stream.write(framing.encode_hello(b"\x01" * 16))
                await stream.read_exactly(1)
            await stream.close()
            for _ in range(100):
                if c.nodes[1].refused:
                    break
                await asyncio.sleep(0.02)
            assert c.nodes[1].refused == 1
        finally:
            await c.close()

    run(scenario())

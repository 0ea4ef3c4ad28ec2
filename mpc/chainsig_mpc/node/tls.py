"""Mutually authenticated TLS 1.3 between nodes, keyed by the contract's ``tls_public_key``s.

Why pyOpenSSL and not the standard library: ``ssl`` can only accept a client certificate that
chains to a configured CA; it offers no hook to accept a self-signed certificate because of the
key it carries. pyOpenSSL exposes OpenSSL's verify callback, where we accept a peer exactly when
its (leaf) certificate's ed25519 key is one of the current participants' keys — and, when we
dialled a particular participant, exactly that participant's key. The TLS handshake itself proves
the peer holds the matching private key (CertificateVerify), so the key is the identity; the
certificate's names and dates are ignored.

Session resumption is disabled (no tickets, no session cache): a resumed session would skip the
verify callback, and a participant removed from the contract must not come back that way.

asyncio has no pyOpenSSL integration, so :class:`TlsStream` drives an ``SSL.Connection`` over
memory BIOs: ciphertext moves between the BIOs and an asyncio stream, plaintext in and out of
OpenSSL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any

from chainsig_core.keys import PublicKey

from .errors import PeerRefusedError, TransportError
from .identity import NodeIdentity, public_key_of_certificate

log = logging.getLogger(__name__)

AllowedKeys = Callable[[], Collection[PublicKey]]
"""Returns the ``tls_public_key`` of every current participant (read at each handshake)."""

_READ_CHUNK = 65536


def make_context(identity: NodeIdentity, allowed_keys: AllowedKeys, *, server: bool) -> Any:
    """An ``OpenSSL.SSL.Context`` for one side of a peer connection.

    Parameters
    ----------
    identity:
        This node's TLS identity (certificate and key).
    allowed_keys:
        The participants' keys; the peer must present one of them. A connection whose app data
        is set to a :class:`PublicKey` (see :func:`client_connection`) must present exactly it.
    server:
        True for the accepting side.

    Returns
    -------
    OpenSSL.SSL.Context
    """
    from OpenSSL import SSL

    context = SSL.Context(SSL.TLS_SERVER_METHOD if server else SSL.TLS_CLIENT_METHOD)
    context.set_min_proto_version(SSL.TLS1_3_VERSION)
    context.use_certificate(identity.certificate)
    context.use_privatekey(identity.private_key)
    context.check_privatekey()
    context.set_options(SSL.OP_NO_TICKET)
    context.set_session_cache_mode(SSL.SESS_CACHE_OFF)
    context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, _verifier(allowed_keys))
    return context


def _verifier(allowed_keys: AllowedKeys) -> Callable[..., bool]:
    def verify(connection: Any, certificate: Any, errno: int, depth: int, ok: int) -> bool:
        # OpenSSL's own verdict (``ok``) is ignored on purpose: a self-signed certificate always
        # fails chain building. Only the leaf counts, and only its key.
        if depth != 0:
            return False
        key = public_key_of_certificate(certificate.to_cryptography())
        if key is None:
            return False
        expected = connection.get_app_data()
        if isinstance(expected, PublicKey):
            return key == expected
        return key in set(allowed_keys())

    return verify


def server_connection(context: Any) -> Any:
    """A memory-BIO ``SSL.Connection`` in accept state."""
    from OpenSSL import SSL

    connection = SSL.Connection(context, None)
    connection.set_accept_state()
    return connection


def client_connection(context: Any, expected_key: PublicKey) -> Any:
    """A memory-BIO ``SSL.Connection`` in connect state that accepts only ``expected_key``."""
    from OpenSSL import SSL

    connection = SSL.Connection(context, None)
    connection.set_app_data(expected_key)
    connection.set_connect_state()
    return connection


class TlsStream:
    """A TLS connection over an asyncio stream pair.

    Parameters
    ----------
    connection:
        A memory-BIO ``SSL.Connection`` from :func:`server_connection` or
        :func:`client_connection`.
    reader, writer:
        The TCP stream from ``asyncio.open_connection`` / ``start_server``.
    """

    def __init__(self, connection: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conn = connection
        self._reader = reader
        self._writer = writer
        self._plain = bytearray()
        self._eof = False
        self.peer_key: PublicKey | None = None
        """The peer's verified ``tls_public_key`` (after :meth:`handshake`)."""

    @property
    def buffered(self) -> int:
        """Decrypted bytes received but not yet read (0 when the next read waits on the peer)."""
        return len(self._plain) + self._conn.pending()

    @property
    def peer_address(self) -> str:
        """``host:port`` of the remote end (for logs)."""
        address = self._writer.get_extra_info("peername")
        return f"{address[0]}:{address[1]}" if address else "?"

    async def handshake(self) -> PublicKey:
        """Run the TLS handshake.

        Returns
        -------
        PublicKey
            The peer's ed25519 key (already accepted by the verify callback).

        Raises
        ------
        PeerRefusedError
            If the peer's key was refused, or the handshake failed.
        """
        from OpenSSL import SSL

        while True:
            try:
                self._conn.do_handshake()
                break
            except SSL.WantReadError:
                self._pump_out()
                await self._writer.drain()
                if not await self._pump_in():
                    raise PeerRefusedError("peer closed the connection during the TLS handshake")
            except SSL.Error as exc:
                self._pump_out()  # deliver our alert, so the peer learns why
                raise PeerRefusedError(f"TLS handshake failed: {_ssl_reason(exc)}") from None
        self._pump_out()
        await self._writer.drain()
        certificate = self._conn.get_peer_certificate(as_cryptography=True)
        key = public_key_of_certificate(certificate) if certificate is not None else None
        if key is None:  # cannot happen after VERIFY_FAIL_IF_NO_PEER_CERT; checked anyway
            raise PeerRefusedError("peer presented no ed25519 certificate")
        self.peer_key = key
        return key

    async def write(self, data: bytes) -> None:
        """Encrypt and send ``data`` (waits while the socket's buffer is full).

        Raises
        ------
        TransportError
            If the connection is broken.
        """
        from OpenSSL import SSL

        try:
            self._conn.sendall(data)
        except SSL.Error as exc:
            raise TransportError(f"TLS write failed: {_ssl_reason(exc)}") from None
        self._pump_out()
        await self._writer.drain()

    async def read_exactly(self, size: int) -> bytes:
        """Read exactly ``size`` plaintext bytes.

        Raises
        ------
        asyncio.IncompleteReadError
            If the peer closed the connection first (``partial`` holds what came).
        TransportError
            If TLS failed.
        """
        while len(self._plain) < size:
            if not await self._fill():
                partial = bytes(self._plain)
                self._plain.clear()
                raise asyncio.IncompleteReadError(partial, size)
        data = bytes(self._plain[:size])
        del self._plain[:size]
        return data

    async def _fill(self) -> bool:
        """Decrypt more plaintext into the buffer; False at end of stream."""
        from OpenSSL import SSL

        while not self._eof:
            try:
                chunk = self._conn.recv(_READ_CHUNK)
            except SSL.WantReadError:
                self._pump_out()  # TLS 1.3 may answer post-handshake messages
                if not await self._pump_in():
                    self._conn.bio_shutdown()
                continue
            except SSL.ZeroReturnError:
                self._eof = True
                break
            except SSL.SysCallError:  # ciphertext stream ended without close_notify
                self._eof = True
                break
            except SSL.Error as exc:
                reason = _ssl_reason(exc)
                if "alert" in reason:  # in TLS 1.3 a server refuses a client after its Finished
                    raise PeerRefusedError(f"peer ended the TLS session: {reason}") from None
                raise TransportError(f"TLS read failed: {reason}") from None
            if chunk:
                self._plain += chunk
                return True
        return False

    def _pump_out(self) -> None:
        from OpenSSL import SSL

        while True:
            try:
                chunk = self._conn.bio_read(_READ_CHUNK)
            except SSL.WantReadError:
                return
            if not chunk:
                return
            self._writer.write(chunk)

    async def _pump_in(self) -> bool:
        data = await self._reader.read(_READ_CHUNK)
        if not data:
            return False
        self._conn.bio_write(data)
        return True

    async def close(self) -> None:
        """Send close_notify (best effort) and close the socket (never waits on the peer)."""
        from OpenSSL import SSL

        if self._writer.is_closing():
            return
        try:
            self._conn.shutdown()
            self._pump_out()
        except SSL.Error:
            pass
        self._writer.close()

    def abort(self) -> None:
        """Drop the connection at once (no close_notify, buffered data discarded)."""
        self._writer.transport.abort()


def _ssl_reason(exc: BaseException) -> str:
    """A one-line reason from a pyOpenSSL error (its ``args`` hold OpenSSL's error queue)."""
    try:
        errors = exc.args[0]
        if errors and isinstance(errors, list):
            return "; ".join(str(entry[-1]) for entry in errors if entry)
    except (IndexError, TypeError):
        pass
    return type(exc).__name__


__all__ = [
    "AllowedKeys",
    "TlsStream",
    "client_connection",
    "make_context",
    "server_connection",
]

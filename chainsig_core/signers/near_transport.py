"""The near-kit clients of the NEAR contract signer (:mod:`chainsig_core.signers.near`).

Two kinds, both reading nothing from the environment (chainsig resolves networks, URLs and keys
itself, with its own rules):

* :func:`read_only_client` — reads, ``tx`` polls and ``block``/``view_access_key`` calls, with
  near-kit's retries (a read may be repeated freely);
* :func:`send_client` — ``send_tx`` only, with **no** retries, and a transport that raises
  :class:`~.near_errors.Unreachable` when the connection itself failed. Sending is exactly once
  per transmission: a retry inside near-kit could land a transaction twice or make a refusal
  belong to an earlier copy, and telling "could not connect" (nothing left this process: send
  again) from "the answer was lost" (maybe on chain: wait on the hash) needs the httpx error
  that near-kit's own transport drops. :mod:`.near_errors` says what each failure then becomes.
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import SigningError
from .near_errors import Unreachable


class _NeverSigns:
    """The signer handed to near-kit's clients so that they resolve none of their own.

    ``AsyncNear(signer=None)`` resolves one from the environment: ``NEAR_ACCOUNT_ID`` /
    ``NEAR_PRIVATE_KEY`` (raising ``ValueError("… set account_id= …")`` for a key without an
    account, or an error quoting a malformed key) or ``~/.near-credentials``. chainsig resolves
    keys itself (:func:`~chainsig_core.credentials.load_access_key`, with its own rules for
    ``NEAR_ACCOUNT_ID``) and signs its transactions itself, so its clients only read and relay.
    """

    @property
    def account_id(self) -> str:
        raise SigningError("internal: a read-only near-kit client was asked for its account")

    @property
    def public_key(self) -> Any:
        raise SigningError("internal: a read-only near-kit client was asked for its key")

    def sign(self, message: bytes) -> bytes:
        raise SigningError("internal: a read-only near-kit client was asked to sign")


def read_only_client(network: str, rpc_url: str, retries: int) -> Any:
    """A near-kit ``AsyncNear`` for ``rpc_url`` that reads nothing from the environment: the
    network and URL are explicit (no ``NEAR_NETWORK``/``NEAR_RPC_URL``) and so is its signer
    (:class:`_NeverSigns`: no ``NEAR_PRIVATE_KEY``/``NEAR_ACCOUNT_ID``, no credentials files).

    Parameters
    ----------
    network:
        The network's name (near-kit's ``network`` argument).
    rpc_url:
        The node's JSON-RPC URL.
    retries:
        near-kit's retries of a failed RPC call.

    Returns
    -------
    near.AsyncNear
        A client whose event loop is the one it is first used in.
    """
    from near import AsyncNear

    return AsyncNear(network, rpc_url=rpc_url, retries=retries, signer=_NeverSigns())


def send_client(network: str, rpc_url: str) -> Any:
    """:func:`read_only_client` without retries whose transport tells a refused connection
    apart. near-kit's transport turns every httpx error into one ``RpcError`` without its cause,
    so "could not connect" (nothing sent: send again) looked like "the answer was lost" (maybe
    on chain: wait on the hash), and a transaction that never left was waited on for max_wait.

    Parameters
    ----------
    network:
        The network's name (near-kit's ``network`` argument).
    rpc_url:
        The node's JSON-RPC URL.

    Returns
    -------
    near.AsyncNear
        A client whose ``rpc`` raises :class:`~.near_errors.Unreachable` on a connect error or
        connect timeout, and near-kit's errors otherwise.
    """
    client = read_only_client(network, rpc_url, 0)
    near_kit_transport = client._transport  # noqa: SLF001 - near-kit has no transport parameter
    client._transport = _send_transport_class()(rpc_url, timeout=near_kit_transport.timeout, retries=0)  # noqa: SLF001
    return client


@functools.cache
def _send_transport_class() -> type:
    import httpx
    from near.rpc import AsyncRpcTransport

    class SendTransport(AsyncRpcTransport):  # type: ignore[misc]
        async def call(self, method: str, params: Any) -> Any:
            try:
                response = await self._client.post(self.rpc_url, json=self._body(method, params))
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise Unreachable(f"cannot connect to the NEAR RPC ({type(exc).__name__})") from None
            return self._handle(response, method)

    return SendTransport

"""A ``send_tx`` whose connection is refused transmitted nothing: the signer sends it again at
once. (near-kit's transport folded "could not connect" into the same error as "the answer was
lost", so such a transaction — never sent — was waited on for ``max_wait``.)"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chainsig_core.signers import SignRequest, get_signer
from chainsig_core.signers.near_errors import Unreachable, refusal
from chainsig_core.signers.near_transport import send_client


@pytest.fixture
def first_send_refused(monkeypatch):
    """The first ``send_tx`` POST fails to connect (every other request goes through)."""
    real_post = httpx.AsyncClient.post
    refused: list[str] = []

    async def post(self, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        body = kwargs.get("json") or {}
        if body.get("method") == "send_tx" and not refused:
            refused.append(url)
            raise httpx.ConnectError("connection refused")
        return await real_post(self, url, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "post", post)
    return refused


def test_a_refused_connection_is_sent_again_and_lands_once(devnet_host, first_send_refused):
    # Waiting on the unsent transaction's hash would end in UNKNOWN_TRANSACTION after max_wait.
    signer = get_signer("devnet", max_wait=30)
    try:
        result = signer.sign(SignRequest("alice.devnet", "unreachable", 0, bytes(31) + b"\x07"))
    finally:
        signer.close()
    assert first_send_refused, "the first send_tx was not refused"
    assert result.signature is not None
    on_chain = [request for _, request in devnet_host.sign_calls_on_chain("alice.devnet")
                 if request["path"] == "unreachable"]
    assert len(on_chain) == 1


def test_the_send_transport_names_an_unreachable_node():
    async def send() -> BaseException:
        client = send_client("devnet", "http://127.0.0.1:9")  # discard port: nothing listens
        try:
            with pytest.raises(Unreachable) as info:
                await client.rpc("send_tx", {"signed_tx_base64": "", "wait_until": "NONE"})
        finally:
            await client.aclose()
        return info.value

    assert refusal(asyncio.run(send())) == "unreachable"

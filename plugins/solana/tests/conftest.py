"""Fixtures for chainsig-solana's tests: a LiteSVM, a funded dev-derived sender, mints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chainsig_core import DerivedAccount, DevSigner, Prepared, SignedTx, sign_prepared
from chainsig_core.derive import derive_address

from chainsig_solana import SolanaChain
from chainsig_solana.builder import build_prepared
from chainsig_solana.ledger import LiteSvmLedger

SOL = 10**9


@dataclass(frozen=True)
class Sender:
    """The dev-derived account that signs in the tests."""

    account: DerivedAccount
    address: str


@pytest.fixture
def chain() -> SolanaChain:
    return SolanaChain()


@pytest.fixture
def svm() -> Any:
    from solders.litesvm import LiteSVM

    return LiteSVM()


@pytest.fixture
def sender(chain: SolanaChain) -> Sender:
    derived = derive_address(chain=chain, account="alice.near", path="solana-1", network="dev", chain_network="local")
    return Sender(derived.derived_account, derived.address)


@pytest.fixture
def funded_sender(svm: Any, sender: Sender) -> Sender:
    from solders.pubkey import Pubkey

    svm.airdrop(Pubkey.from_string(sender.address), 10 * SOL)
    return sender


@pytest.fixture
def sign_and_finalize(chain: SolanaChain, chainsig_dev_signer: DevSigner) -> Callable[[Prepared], SignedTx]:
    """prepared → signatures from the dev signer (verified) → finalize."""

    def run(prepared: Prepared) -> SignedTx:
        return chain.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))

    return run


@pytest.fixture
def prepare_on_svm(chain: SolanaChain, svm: Any) -> Callable[..., Prepared]:
    """``prepare_on_svm(request)``: the builder reading the LiteSVM ledger directly."""

    def run(request: Any, chain_network: str = "local") -> Prepared:
        return build_prepared(chain, request, chain_network, lambda: LiteSvmLedger(svm))

    return run


@pytest.fixture
def new_keypair() -> Callable[[], Any]:
    from solders.keypair import Keypair

    return Keypair


def create_mint(svm: Any, decimals: int = 6, supply_to: str | None = None, amount: int = 0) -> str:
    """Create an SPL mint with a fresh authority (funded by airdrop); optionally mint
    ``amount`` to the associated token account of ``supply_to`` (created through the real ATA
    program). Returns the mint address."""
    from solders.keypair import Keypair
    from solders.message import MessageV0
    from solders.pubkey import Pubkey
    from solders.system_program import CreateAccountParams, create_account
    from solders.transaction import VersionedTransaction
    from spl.token.constants import MINT_LEN, TOKEN_PROGRAM_ID
    from spl.token.instructions import (
        create_associated_token_account,
        get_associated_token_address,
        initialize_mint2,
        mint_to_checked,
    )
    from spl.token.models import InitializeMint2Params, MintToCheckedParams

    authority, mint = Keypair(), Keypair()
    svm.airdrop(authority.pubkey(), 10 * SOL)
    rent = svm.minimum_balance_for_rent_exemption(MINT_LEN)
    ixs = [
        create_account(CreateAccountParams(from_pubkey=authority.pubkey(), to_pubkey=mint.pubkey(), lamports=rent, space=MINT_LEN, owner=TOKEN_PROGRAM_ID)),
        initialize_mint2(InitializeMint2Params(decimals=decimals, mint=mint.pubkey(), mint_authority=authority.pubkey(), program_id=TOKEN_PROGRAM_ID)),
    ]
    if supply_to is not None:
        owner = Pubkey.from_string(supply_to)
        ata = get_associated_token_address(owner, mint.pubkey())
        ixs += [
            create_associated_token_account(authority.pubkey(), owner, mint.pubkey()),
            mint_to_checked(MintToCheckedParams(program_id=TOKEN_PROGRAM_ID, mint=mint.pubkey(), dest=ata, mint_authority=authority.pubkey(), amount=amount, decimals=decimals, signers=[])),
        ]
    msg = MessageV0.try_compile(authority.pubkey(), ixs, [], svm.latest_blockhash())
    result = svm.send_transaction(VersionedTransaction(msg, [authority, mint]))
    assert not hasattr(result, "err"), result
    return str(mint.pubkey())


def token_balance(svm: Any, token_account: str) -> int | None:
    """Amount held by a token account on the LiteSVM, ``None`` if it does not exist."""
    from solders.pubkey import Pubkey
    from solders.token.state import TokenAccount

    account = svm.get_account(Pubkey.from_string(token_account))
    if account is None or not account.data:
        return None
    return TokenAccount.from_bytes(bytes(account.data)[:165]).amount  # Token-2022 appends extensions


def submit(svm: Any, signed: SignedTx) -> Any:
    """Send a finalized transaction to the LiteSVM runtime; returns its result."""
    import base64

    from solders.transaction import VersionedTransaction

    return svm.send_transaction(VersionedTransaction.from_bytes(base64.b64decode(signed.raw)))


@pytest.fixture
def mint_factory(svm: Any) -> Iterator[Callable[..., str]]:
    yield lambda **kw: create_mint(svm, **kw)


@pytest.fixture
def helpers() -> Any:
    """Module-level helpers for the test modules (no imports between test modules)."""

    class _Helpers:
        create_mint = staticmethod(create_mint)
        token_balance = staticmethod(token_balance)
        submit = staticmethod(submit)
        sol = SOL

    return _Helpers


@pytest.fixture
def local_rpc() -> Iterator[Any]:
    """A LiteSVM-backed local Solana RPC on a free loopback port (background thread)."""
    from chainsig_solana.local_rpc import LocalRpcServer

    with LocalRpcServer() as server:
        yield server


@pytest.fixture
def rpc_endpoint(local_rpc: Any) -> Any:
    from chainsig_core import ChainEndpoint

    return ChainEndpoint(local_rpc.url, {"confirm_timeout": 10})


@pytest.fixture
def rpc_call(local_rpc: Any) -> Callable[..., Any]:
    """``rpc_call(body)`` posts raw JSON (bytes/str/obj) and returns (status, parsed body)."""
    import json
    import urllib.error
    import urllib.request

    def call(body: Any, method: str = "POST", path: str = "/") -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        request = urllib.request.Request(local_rpc.url + path, data=data if method == "POST" else None,
                                         method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    return call

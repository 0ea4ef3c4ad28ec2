"""Bursts of sign requests of one key against the project's devnet host (real NEAR-format
transactions, access-key nonces, yield/resume answered by the dev responder): one nonce fetch
for a burst, every request on chain exactly once — also while another process sends with the
same key — and one signer used from several event loops and threads."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import textwrap
import threading
from collections import Counter

from chainsig_core.signatures import verify_signature
from chainsig_core.signers import SignFailure, SignRequest, get_signer
from chainsig_core.signers.near_nonces import nonces_of

ACCOUNT = "alice.devnet"


def requests(label: str, n: int) -> list[SignRequest]:
    return [SignRequest(ACCOUNT, f"{label}-{i}", 0, hashlib.sha256(f"{label}/{i}".encode()).digest()) for i in range(n)]


def signer():
    # timeout_retries=0: a request the contract timed out would be sent again, a second sign
    # call on chain for the same payload; these tests count sign calls, so none is allowed.
    return get_signer("devnet", poll_interval=0.02, timeout_retries=0)


def assert_each_once_on_chain(host, since: int, sent: list[SignRequest]) -> list[int]:
    """Every request is on chain exactly once (no lost, no duplicated ``sign`` call); the nonces."""
    on_chain = host.sign_calls_on_chain(ACCOUNT, since)
    seen = Counter((r["path"], r["payload_v2"]["Ecdsa"]) for _, r in on_chain)
    assert seen == Counter((r.path, r.payload.hex()) for r in sent)
    nonces = [n for n, _ in on_chain]
    assert len(set(nonces)) == len(nonces)
    return nonces


def test_a_burst_of_16_fetches_the_key_once_and_lands_each_request_once(devnet_host):
    s = signer()
    burst = requests("burst", 16)
    since = devnet_host.height()
    devnet_host.calls.clear()
    results = s.sign_many(burst)
    assert [r.request for r in results] == burst
    for result in results:
        assert not isinstance(result, SignFailure), result
        verify_signature(s.derived_public_key(ACCOUNT, result.request.path, 0), result.request.payload, result.signature)
    assert devnet_host.calls.count("query", request_type="view_access_key", account_id=ACCOUNT) == 1
    assert nonces_of(devnet_host.url, devnet_host.key(ACCOUNT)).fetches == 1
    assert devnet_host.calls.count("send_tx", account_id=ACCOUNT) == 16 + devnet_host.calls.count(
        "send_tx", account_id=ACCOUNT, error="InvalidNonce")
    assert_each_once_on_chain(devnet_host, since, burst)


ADVERSARY = textwrap.dedent("""
    import sys
    from near import InvalidNonceError, Near, transfer

    url, creds, warmup, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    near = Near(network="devnet", rpc_url=url, account_id="alice.devnet", credentials_dir=creds, retries=2)
    for i in range(total):
        if i == warmup:
            print("bumped", flush=True)
            sys.stdin.readline()  # the test starts its burst, then lets the rest race it
        for attempt in range(10):  # near-kit resyncs 3 times per call; the burst outnumbers it
            try:
                near.send_transaction("bob.devnet", [transfer("1 yocto")], wait_until="INCLUDED")
                break
            except InvalidNonceError:
                continue
        else:
            sys.exit("transfer %d never landed" % i)
    print("done", total, flush=True)
""")


def test_another_sender_of_the_key_races_the_burst_and_each_request_lands_once(devnet_host):
    """Another process sends with alice's key (near-kit's own nonce cache): 5 transfers after
    our signer last used the key — our cached nonce is behind, so the burst's first
    transactions are refused — then 15 more while the burst is in flight. Every request still
    verifies and is on chain exactly once; the refusals resynchronise from the node's nonce
    without a second ``view_access_key``; the other process's transfers all land."""
    s = signer()
    warm = requests("warm", 1)
    assert not isinstance(s.sign_many(warm)[0], SignFailure)
    other = subprocess.Popen(
        [sys.executable, "-c", ADVERSARY, devnet_host.url, str(devnet_host.data_dir / "credentials"), "5", "20"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "bumped"
        since = devnet_host.height()
        devnet_host.calls.clear()
        burst = requests("raced", 16)

        async def race():
            task = asyncio.ensure_future(s.sign_many_async(burst))
            await asyncio.sleep(0)
            other.stdin.write("go\n")
            other.stdin.flush()
            return await task

        results = asyncio.run(race())
        out, _ = other.communicate(timeout=60)
    finally:
        other.kill()
    assert other.returncode == 0 and out.strip() == "done 20"
    assert all(not isinstance(r, SignFailure) for r in results), [r for r in results if isinstance(r, SignFailure)]
    assert devnet_host.calls.count("send_tx", account_id=ACCOUNT, error="InvalidNonce") >= 1  # the race happened
    assert nonces_of(devnet_host.url, devnet_host.key(ACCOUNT)).fetches == 1
    assert_each_once_on_chain(devnet_host, since, burst)


def test_one_signer_in_several_event_loops_and_threads(devnet_host):
    """``sign`` is ``asyncio.run`` each time, and threads run their own loops: the clients are
    per loop (a connection pool cannot outlive its loop), the key's nonces are shared — one
    fetch for all of it, no nonce twice."""
    s = signer()
    since = devnet_host.height()
    sent = requests("loop-a", 1) + requests("loop-b", 1)
    for request in sent:
        s.sign(request)
    start = threading.Barrier(3)
    failures: list[object] = []

    def thread(label: str) -> None:
        batch = requests(label, 4)
        sent.extend(batch)
        start.wait()
        failures.extend(r for r in asyncio.run(s.sign_many_async(batch)) if isinstance(r, SignFailure))

    threads = [threading.Thread(target=thread, args=(f"thread-{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures
    assert nonces_of(devnet_host.url, devnet_host.key(ACCOUNT)).fetches == 1
    assert len(assert_each_once_on_chain(devnet_host, since, sent)) == 14
    s.close()


def test_the_shared_fetch_survives_cancelled_callers_across_loops():
    """A waiter cancelled in its own loop leaves the fetch to the others; a fetcher cancelled
    mid-fetch hands over to a waiter — in another thread's event loop — which fetches itself."""
    from chainsig_core.signers.near_nonces import SharedFetch

    shared: SharedFetch[str] = SharedFetch()
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    async def slow(label: str) -> str:
        calls.append(label)
        started.set()
        while not release.is_set():
            await asyncio.sleep(0.01)
        return label

    async def first_loop() -> str:
        leader = asyncio.ensure_future(shared(lambda: slow("leader")))
        await asyncio.sleep(0.05)
        waiter = asyncio.ensure_future(shared(lambda: slow("never")))
        await asyncio.sleep(0.05)
        waiter.cancel()  # a cancelled waiter: the leader's fetch goes on
        await asyncio.gather(waiter, return_exceptions=True)
        release.set()
        return await leader

    assert asyncio.run(first_loop()) == "leader" and calls == ["leader"]

    started.clear()
    release.clear()
    calls.clear()
    other_loop: list[str] = []

    def waiter_in_another_loop() -> None:
        assert started.wait(5)
        other_loop.append(asyncio.run(shared(lambda: slow("took over"))))

    thread = threading.Thread(target=waiter_in_another_loop)
    thread.start()

    async def cancelled_leader() -> None:
        leader = asyncio.ensure_future(shared(lambda: slow("cancelled")))
        while not started.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # the other loop is waiting on this fetch now
        leader.cancel()
        await asyncio.gather(leader, return_exceptions=True)
        release.set()

    asyncio.run(cancelled_leader())
    thread.join(10)
    assert other_loop == ["took over"] and calls == ["cancelled", "took over"]

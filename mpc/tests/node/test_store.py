"""Encrypted node store: SQLite on disk, AES-GCM at rest, fsynced consumption, backups."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from chainsig_core.errors import InvalidInputError
from chainsig_mpc.node.backup import backup_shares, restore_shares
from chainsig_mpc.node.errors import (
    BackupError,
    NodeKeyError,
    RecordConsumedError,
    StoreError,
    WrongNodeKeyError,
)
from chainsig_mpc.node.nodekey import NodeKeySource, generate_node_key_file, parse_node_key
from chainsig_mpc.node.store import (
    KIND_KEYSHARE,
    KIND_PRESIGNATURE,
    KIND_PROGRESS,
    NodeStore,
)
from chainsig_mpc.protocols.storage import ConsumptionLog

SECRET = b"SECRET-SHARE-0123456789abcdef-do-not-leak"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def node_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "node" / "store.sqlite"


def _all_bytes(directory) -> bytes:
    return b"".join(p.read_bytes() for p in directory.iterdir() if p.is_file())


def test_records_survive_a_restart_and_stay_encrypted_on_disk(db_path, node_key):
    store = NodeStore(db_path, node_key)
    store.put(KIND_KEYSHARE, "domain-0/epoch-0", SECRET)
    store.put(KIND_PRESIGNATURE, "p1", SECRET + b"-presig")
    store.put(KIND_PROGRESS, "dkg-0", b'{"round": 2}')
    # Before closing (WAL not yet checkpointed) and after, nothing on disk shows the plaintext.
    assert SECRET not in _all_bytes(db_path.parent)
    assert b'{"round": 2}' not in _all_bytes(db_path.parent)
    store.close()
    assert SECRET not in _all_bytes(db_path.parent)

    reopened = NodeStore(db_path, node_key)
    assert reopened.get(KIND_KEYSHARE, "domain-0/epoch-0") == SECRET
    assert reopened.ids(KIND_PRESIGNATURE) == ["p1"]
    assert dict(reopened.items(KIND_PROGRESS)) == {"dkg-0": b'{"round": 2}'}
    assert reopened.get(KIND_KEYSHARE, "missing") is None
    assert reopened.count(KIND_PRESIGNATURE) == 1
    reopened.close()


def test_sqlite_runs_in_wal_mode_with_full_sync_and_private_file(db_path, node_key):
    store = NodeStore(db_path, node_key)
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert oct(db_path.stat().st_mode & 0o777) == "0o600"
    store.close()


def test_wrong_node_key_is_one_clear_error(db_path, node_key):
    NodeStore(db_path, node_key).close()
    with pytest.raises(WrongNodeKeyError, match="does not open node store"):
        NodeStore(db_path, os.urandom(32))


def test_swapped_records_fail_authentication(db_path, node_key):
    store = NodeStore(db_path, node_key)
    store.put(KIND_KEYSHARE, "a", b"share A")
    store.put(KIND_KEYSHARE, "b", b"share B")
    store.put(KIND_PROGRESS, "a", b"progress A")
    store.close()
    raw = sqlite3.connect(db_path)
    rows = dict(((k, i), (n, s)) for k, i, n, s in raw.execute("SELECT kind, id, nonce, sealed FROM records"))
    for target, source in (((KIND_KEYSHARE, "a"), (KIND_KEYSHARE, "b")), ((KIND_PROGRESS, "a"), (KIND_KEYSHARE, "a"))):
        raw.execute("UPDATE records SET nonce=?, sealed=? WHERE kind=? AND id=?", (*rows[source], *target))
    raw.commit()
    raw.close()
    store = NodeStore(db_path, node_key)
    with pytest.raises(WrongNodeKeyError, match="does not authenticate"):
        store.get(KIND_KEYSHARE, "a")
    with pytest.raises(WrongNodeKeyError):
        store.get(KIND_PROGRESS, "a")
    assert store.get(KIND_KEYSHARE, "b") == b"share B"
    store.close()


def test_consume_is_single_use_erases_the_record_and_survives_restart(db_path, node_key):
    store = NodeStore(db_path, node_key)
    store.put(KIND_PRESIGNATURE, "p7", SECRET)
    store.consume(KIND_PRESIGNATURE, "p7")
    assert store.get(KIND_PRESIGNATURE, "p7") is None
    assert store.is_consumed(KIND_PRESIGNATURE, "p7")
    with pytest.raises(RecordConsumedError):
        store.consume(KIND_PRESIGNATURE, "p7")
    with pytest.raises(RecordConsumedError):
        store.put(KIND_PRESIGNATURE, "p7", SECRET)  # a restored copy cannot come back
    store.close()
    reopened = NodeStore(db_path, node_key)
    assert reopened.is_consumed(KIND_PRESIGNATURE, "p7")
    with pytest.raises(RecordConsumedError):
        reopened.mark_consumed(KIND_PRESIGNATURE, "p7")
    assert not reopened.is_consumed(KIND_PRESIGNATURE, "p8")
    reopened.close()


def test_store_is_the_protocols_consumption_log(db_path, node_key):
    with NodeStore(db_path, node_key) as store:
        assert isinstance(store, ConsumptionLog)


def test_consumption_is_durable_when_the_process_is_killed_right_after(db_path, node_key):
    child = textwrap.dedent(f"""
        import os, signal
        from chainsig_mpc.node.store import NodeStore
        store = NodeStore({str(db_path)!r}, bytes.fromhex({node_key.hex()!r}))
        store.put("presignature", "p1", b"x")
        store.consume("presignature", "p1")
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint
    """)
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr.decode()
    with NodeStore(db_path, node_key) as store:
        assert store.is_consumed("presignature", "p1")
        assert store.get("presignature", "p1") is None


def test_atomic_groups_writes_and_rolls_back_on_error(db_path, node_key):
    with NodeStore(db_path, node_key) as store:
        store.put(KIND_PRESIGNATURE, "old", b"x")
        with pytest.raises(RuntimeError):
            with store.atomic():
                store.put(KIND_KEYSHARE, "new", b"share")
                store.delete(KIND_PRESIGNATURE, "old")
                raise RuntimeError("crash before commit")
        assert store.get(KIND_KEYSHARE, "new") is None
        assert store.get(KIND_PRESIGNATURE, "old") == b"x"
        with store.atomic():
            store.put(KIND_KEYSHARE, "new", b"share")
            assert store.delete(KIND_PRESIGNATURE, "old")
        assert store.ids(KIND_PRESIGNATURE) == []


@pytest.mark.parametrize("kind, record_id", [("", "x"), ("k", ""), ("k\x00", "x"), ("k", "x" * 300), (3, "x")])
def test_malformed_names_are_refused(db_path, node_key, kind, record_id):
    with NodeStore(db_path, node_key) as store, pytest.raises(InvalidInputError):
        store.put(kind, record_id, b"v")


def test_not_a_database_is_one_clear_error(tmp_path, node_key):
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open node store"):
        NodeStore(path, node_key)


def test_secrets_never_reach_logs_or_error_messages(db_path, node_key, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    store = NodeStore(db_path, node_key)
    store.put(KIND_KEYSHARE, "s", SECRET)
    store.put(KIND_PRESIGNATURE, "p", SECRET)
    store.consume(KIND_PRESIGNATURE, "p")
    for action in (lambda: store.consume(KIND_PRESIGNATURE, "p"), lambda: store.put(KIND_PRESIGNATURE, "p", SECRET)):
        with pytest.raises(StoreError) as info:
            action()
        messages.append(str(info.value))
    backup = tmp_path / "backup.json"
    backup_shares(store, backup, PASSPHRASE, scrypt_n=2**10)
    with pytest.raises(BackupError) as info:
        restore_shares(store, backup, "wrong passphrase!!")
    messages.append(str(info.value))
    store.close()
    with pytest.raises(WrongNodeKeyError) as info:
        NodeStore(db_path, os.urandom(32))
    messages.append(str(info.value))
    logged = "\n".join(r.getMessage() for r in caplog.records) + "\n".join(messages)
    assert caplog.records, "the store and backup should log what they do"
    for secret in (SECRET.decode(), node_key.hex(), PASSPHRASE):
        assert secret not in logged
    assert SECRET not in backup.read_bytes()


def test_backup_and_restore_round_trip_to_a_new_node_store(tmp_path, node_key):
    source = NodeStore(tmp_path / "a.sqlite", node_key)
    source.put(KIND_KEYSHARE, "domain-0", SECRET)
    source.put(KIND_KEYSHARE, "domain-1", b"ed25519 share")
    source.put(KIND_PRESIGNATURE, "p", b"never backed up")
    backup = tmp_path / "shares.backup"
    assert backup_shares(source, backup, PASSPHRASE, scrypt_n=2**10) == 2
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(BackupError, match="already exists"):
        backup_shares(source, backup, PASSPHRASE, scrypt_n=2**10)
    target = NodeStore(tmp_path / "b.sqlite", os.urandom(32))  # another node key: fine
    assert restore_shares(target, backup, PASSPHRASE) == 2
    assert dict(target.items(KIND_KEYSHARE)) == {"domain-0": SECRET, "domain-1": b"ed25519 share"}
    assert target.ids(KIND_PRESIGNATURE) == []
    assert restore_shares(target, backup, PASSPHRASE) == 2  # same values again: harmless
    target.put(KIND_KEYSHARE, "domain-0", b"newer share")
    with pytest.raises(BackupError, match="exists with another value"):
        restore_shares(target, backup, PASSPHRASE)
    assert target.get(KIND_KEYSHARE, "domain-0") == b"newer share"
    restore_shares(target, backup, PASSPHRASE, replace=True)
    assert target.get(KIND_KEYSHARE, "domain-0") == SECRET
    source.close()
    target.close()


def test_backup_refuses_single_use_kinds_short_passphrases_and_tampering(tmp_path, node_key):
    store = NodeStore(tmp_path / "a.sqlite", node_key)
    store.put(KIND_KEYSHARE, "k", SECRET)
    with pytest.raises(BackupError, match="single-use"):
        backup_shares(store, tmp_path / "x", PASSPHRASE, kinds=[KIND_PRESIGNATURE])
    with pytest.raises(BackupError, match="at least"):
        backup_shares(store, tmp_path / "x", "short")
    backup = tmp_path / "b.json"
    backup_shares(store, backup, PASSPHRASE, scrypt_n=2**10)
    document = json.loads(backup.read_text())
    for field, value in (("nonce", "00" * 12), ("kdf", dict(document["kdf"], n=2**11))):
        tampered = tmp_path / f"tampered-{field}.json"
        tampered.write_text(json.dumps(dict(document, **{field: value})))
        with pytest.raises(BackupError, match="wrong passphrase or damaged"):
            restore_shares(store, tampered, PASSPHRASE)
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"format": "something else"}')
    with pytest.raises(BackupError, match="not a chainsig-mpc share backup"):
        restore_shares(store, bogus, PASSPHRASE)
    with pytest.raises(BackupError, match="does not exist"):
        restore_shares(store, tmp_path / "missing", PASSPHRASE)
    store.close()


def test_node_key_from_file_and_env(tmp_path, monkeypatch):
    path = generate_node_key_file(tmp_path / "node.key")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    key = NodeKeySource(file=path).load()
    assert len(key) == 32
    with pytest.raises(NodeKeyError, match="already exists"):
        generate_node_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(NodeKeyError, match="chmod 600"):
        NodeKeySource(file=path).load()
    monkeypatch.setenv("MY_NODE_KEY", key.hex())
    assert NodeKeySource(env="MY_NODE_KEY").load() == key
    monkeypatch.setenv("MY_NODE_KEY", "zz" * 32)
    with pytest.raises(NodeKeyError, match="not hex") as info:
        NodeKeySource(env="MY_NODE_KEY").load()
    assert "zz" not in str(info.value)
    monkeypatch.delenv("MY_NODE_KEY")
    with pytest.raises(NodeKeyError, match="not set"):
        NodeKeySource(env="MY_NODE_KEY").load()
    with pytest.raises(NodeKeyError, match="does not exist"):
        NodeKeySource(file=tmp_path / "none").load()
    with pytest.raises(NodeKeyError, match="exactly one"):
        NodeKeySource()
    with pytest.raises(NodeKeyError, match="32 bytes"):
        parse_node_key("ab" * 16)


def test_concurrent_consumers_of_one_file_get_exactly_one_success(db_path, node_key):
    import threading

    with NodeStore(db_path, node_key) as setup:
        for n in range(20):
            setup.put(KIND_PRESIGNATURE, f"p{n}", b"x")
    stores = [NodeStore(db_path, node_key) for _ in range(4)]  # separate connections
    wins: list[tuple[int, str]] = []
    losses: list[str] = []
    barrier = threading.Barrier(len(stores))

    def worker(index: int, store: NodeStore) -> None:
        barrier.wait()
        for n in range(20):
            try:
                store.consume(KIND_PRESIGNATURE, f"p{n}")
                wins.append((index, f"p{n}"))
            except RecordConsumedError:
                losses.append(f"p{n}")

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for store in stores:
        store.close()
    assert sorted(item for _, item in wins) == sorted(f"p{n}" for n in range(20))
    assert len(losses) == 20 * (len(stores) - 1)

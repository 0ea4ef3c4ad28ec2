"""bitcoinlib, a third implementation, agrees with chainsig-bitcoin's addresses and accepts its
signed transactions — with bitcoinlib's data directory kept out of the user's home.

chainsig-bitcoin itself never imports bitcoinlib (see docs/bitcoin.md); bitcoinlib writes a
config, logs and a database directory on import, into ``$BCL_DATA_DIR`` or ``~/.bitcoinlib``,
so the fixture points it at a temporary directory before the first import.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chainsig_core.keys import PublicKey
from chainsig_core.types import Prepared

# bitcoinlib 0.7 still calls SQLAlchemy 1.x APIs on import; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def bitcoinlib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home_dir = Path.home() / ".bitcoinlib"
    existed = home_dir.exists()
    data_dir = tmp_path_factory.mktemp("bitcoinlib")
    previous = os.environ.get("BCL_DATA_DIR")
    os.environ["BCL_DATA_DIR"] = str(data_dir)
    ours = "bitcoinlib" not in sys.modules  # else another test module imported it first
    try:
        yield importlib.import_module("bitcoinlib.transactions")
    finally:
        if previous is None:
            os.environ.pop("BCL_DATA_DIR", None)
        else:
            os.environ["BCL_DATA_DIR"] = previous
    if ours:
        assert (data_dir / "config.ini").exists()  # it did write — here
        assert home_dir.exists() == existed  # and not under the user's home


def test_addresses_agree_with_bitcoinlib(bitcoinlib: Any, vectors: Any, btc: Any) -> None:
    from bitcoinlib.keys import Key

    for row in vectors("derivation.json")["derived"]:
        key = PublicKey.from_near_string(row["secp256k1_near"])
        net = "mainnet" if row["network"] == "mainnet" else "testnet"
        theirs = Key(key.compressed.hex(), network="bitcoin" if net == "mainnet" else "testnet")
        assert theirs.address(encoding="bech32", script_type="p2wpkh") == btc.address(key, net) == row["btc_p2wpkh"]
        assert theirs.address(encoding="base58", script_type="p2pkh") == btc.address(key, net, address_type="p2pkh")


@pytest.mark.parametrize("kind", ["p2wpkh", "p2pkh"])
def test_bitcoinlib_verifies_signed_spends(
    kind: str, bitcoinlib: Any, prepare_spend: Callable[..., Prepared], sign_and_finalize: Callable[..., Any]
) -> None:
    prepared = prepare_spend(values=(30_000, 40_000), amount="0.0006", address_type=kind, fee_rate="3")
    signed = sign_and_finalize(prepared)

    def parse(raw_hex: str) -> Any:
        tx = bitcoinlib.Transaction.parse_hex(raw_hex, network="regtest")
        for tx_input, utxo in zip(tx.inputs, prepared.tx["inputs"], strict=True):
            tx_input.value = utxo["value"]
        return tx

    tx = parse(signed.raw)
    assert tx.txid == signed.tx_hash and tx.vsize == signed.details["vsize"]
    assert tx.verify()
    # a bit of the first signature's r flipped: bitcoinlib rejects it as well
    from embit.script import Script, Witness
    from embit.transaction import Transaction

    etx = Transaction.parse(bytes.fromhex(signed.raw))
    if kind == "p2wpkh":
        sig, key = etx.vin[0].witness.items
        sig = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
        etx.vin[0].witness = Witness([sig, key])
    else:
        data = bytearray(etx.vin[0].script_sig.data)
        data[11] ^= 1  # push length, 0x30, length, 0x02, r length, then r
        etx.vin[0].script_sig = Script(bytes(data))
    assert not parse(etx.serialize().hex()).verify()

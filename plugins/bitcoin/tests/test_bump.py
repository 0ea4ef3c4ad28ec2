"""BIP125 fee bumping: library function and ``chainsig bitcoin bump-fee``."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from chainsig_core.errors import InsufficientFundsError, InvalidInputError
from chainsig_core.flow import sign_prepared
from chainsig_core.signers.dev import DevSigner
from chainsig_core.types import ChainEndpoint, Prepared, TransferRequest

from chainsig_bitcoin.bump import bump_spend
from chainsig_bitcoin.fees import estimate_vsize
from chainsig_bitcoin.spend import UnsignedSpend


def test_bump_takes_the_fee_from_the_change(
    prepare_spend: Callable[..., Prepared], sign_and_finalize: Callable[..., Any]
) -> None:
    original = UnsignedSpend.from_json(prepare_spend(values=(100_000,), amount="0.0005", fee_rate="2").tx)
    bumped = bump_spend(original, Decimal("10"))
    assert bumped.inputs == original.inputs and bumped.sequences == original.sequences
    assert bumped.outputs[0] == original.outputs[0]
    vsize = estimate_vsize(["p2wpkh"], [s for s, _ in bumped.outputs])
    assert bumped.fee >= 10 * vsize
    assert bumped.fee >= original.fee + vsize  # BIP125 rule 4 at 1 sat/vB incremental relay fee
    assert bumped.outputs[1][1] == original.outputs[1][1] - (bumped.fee - original.fee)


def test_bump_drops_dust_change(prepare_spend: Callable[..., Prepared]) -> None:
    original = UnsignedSpend.from_json(prepare_spend(values=(51_000,), amount="0.0005", fee_rate="1").tx)
    assert len(original.outputs) == 2 and original.outputs[1][1] < 1000
    bumped = bump_spend(original, Decimal("6"))
    assert len(bumped.outputs) == 1 and bumped.fee == 1_000


def test_bump_refusals(prepare_spend: Callable[..., Prepared]) -> None:
    original = UnsignedSpend.from_json(prepare_spend(values=(100_000,), amount="0.0005", fee_rate="5").tx)
    with pytest.raises(InvalidInputError, match="higher than the original"):
        bump_spend(original, Decimal("4"))
    with pytest.raises(InvalidInputError, match="guard"):
        bump_spend(original, Decimal("5000"))
    with pytest.raises(InsufficientFundsError):
        bump_spend(original, Decimal("500"))
    final = UnsignedSpend.from_json(prepare_spend(values=(100_000,), amount="0.0005", no_rbf=True).tx)
    assert not final.replaceable
    with pytest.raises(InvalidInputError, match="replaceability"):
        bump_spend(final, Decimal("10"))
    no_change = UnsignedSpend.from_json(prepare_spend(values=(50_200,), amount="0.0005", fee_rate="1").tx)
    assert len(no_change.outputs) == 1
    with pytest.raises(InvalidInputError, match="no change output"):
        bump_spend(no_change, Decimal("10"))


def test_bump_fee_cli_from_bundle_and_from_txid(
    tmp_path: Any, esplora: Any, ledger: Any, btc: Any, sender: Any, chainsig_dev_signer: DevSigner,
) -> None:
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    from chainsig_bitcoin.addresses import script_pubkey

    ledger.fund(script_pubkey(sender.public_key.compressed, "p2wpkh"), 400_000)
    endpoint = ChainEndpoint(esplora.url)
    prepared = btc.prepare(TransferRequest(sender, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "0.001",
                                           options={"fee_rate": "2"}), "regtest", endpoint)
    signed = btc.finalize(prepared, sign_prepared(chainsig_dev_signer, prepared))
    btc.broadcast(signed, endpoint)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(prepared.to_json()))
    runner = CliRunner()
    by_bundle = runner.invoke(cli, ["bitcoin", "bump-fee", str(bundle), "--fee-rate", "20", "-o", str(tmp_path / "b1.json")])
    assert by_bundle.exit_code == 0, by_bundle.output
    by_txid = runner.invoke(cli, [
        "bitcoin", "bump-fee", "--txid", signed.tx_hash, "--fee-rate", "20", "--network", "dev",
        "--account", sender.account_id, "--path", sender.path, "--rpc-url", esplora.url, "-o", str(tmp_path / "b2.json"),
    ])
    assert by_txid.exit_code == 0, by_txid.output
    one = Prepared.from_json(json.loads((tmp_path / "b1.json").read_text()))
    two = Prepared.from_json(json.loads((tmp_path / "b2.json").read_text()))
    assert one.tx["unsigned_tx"] == two.tx["unsigned_tx"]
    assert one.summary["fee"] > prepared.summary["fee"]
    replacement = runner.invoke(cli, ["finalize", str(tmp_path / "b2.json"), "--sign"])
    assert replacement.exit_code == 0, replacement.output
    raw = json.loads(replacement.stdout)["raw"]
    from btclib.tx.tx import Tx

    assert {(i.prev_out.tx_id.hex(), i.prev_out.vout) for i in Tx.parse(bytes.fromhex(raw)).vin} == {
        (u["txid"], u["vout"]) for u in prepared.tx["inputs"]}
    bad = runner.invoke(cli, ["bitcoin", "bump-fee", "--fee-rate", "20"])
    assert bad.exit_code == 2 and "exactly one of BUNDLE or --txid" in bad.output

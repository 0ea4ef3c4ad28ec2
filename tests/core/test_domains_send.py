"""Sending from an address derived in an added signer domain (``vote_add_domains``: 2, 3 …).

``DerivedAccount`` carries its domain; ``derive_address(domain_id=)`` sets it; bundles keep it
(and read old bundles without it); plugins sign in it; ``derive``/``prepare``/``send``/``balance``
take ``--domain``. Network ``added`` here is configured with the fake NEAR contract's four root
keys (tests/near_signer): 0/1 the dev keys, 2 a secp256k1 key and 3 an ed25519 key of their own.
The air-gapped path signs with domain 2's root secret, as that contract would.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chainsig_core import kdf
from chainsig_core.cli import cli
from chainsig_core.config import register_network
from chainsig_core.derive import derive_address
from chainsig_core.errors import InvalidInputError, UnknownNameError
from chainsig_core.flow import finalize_bundle, prepare, sign_prepared
from chainsig_core.keys import Curve
from chainsig_core.signatures import EcdsaSignature, signature_from_json
from chainsig_core.signers import DevSigner
from chainsig_core.signers.dev import (
    dev_root_public_key,
    dev_root_secret,
    ecdsa_sign_with_scalar,
    ed25519_sign_with_scalar,
)
from chainsig_core.types import DerivedAccount, Payload, Prepared

SEEDS = {0: None, 1: None, 2: "fake-near-domain-2", 3: "fake-near-domain-3"}
CURVES = {0: Curve.SECP256K1, 1: Curve.ED25519, 2: Curve.SECP256K1, 3: Curve.ED25519}
ROOTS = {d: dev_root_public_key(CURVES[d], SEEDS[d]) for d in SEEDS}
ACCOUNT = "alice.near"
RECIPIENT = "local1" + "ab" * 20


def domain_signature(domain_id: int, path: str, payload: bytes):
    """What the contract's domain would answer: a signature by its derived secret."""
    curve = CURVES[domain_id]
    secret = kdf.derive_secret_key(curve, dev_root_secret(curve, SEEDS[domain_id]), ACCOUNT, path)
    sign = ecdsa_sign_with_scalar if curve is Curve.SECP256K1 else ed25519_sign_with_scalar
    return sign(secret, payload)


@pytest.fixture
def added(chainsig_config, fake_plugin, tmp_path):
    """Network ``added`` with root keys for domains 0–3 (only 0–2 for ``partial``)."""
    register_network("added", rpc_url="http://127.0.0.1:9", contract_id="v1.signer.added",
                     credentials_dir=tmp_path / "creds", root_public_keys=ROOTS)
    return "added"


@pytest.fixture
def run(added):
    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


# -- DerivedAccount ------------------------------------------------------------------------


def test_a_derived_account_defaults_to_its_curves_domain_and_carries_any_other():
    secp, ed = ROOTS[0], ROOTS[1]
    assert DerivedAccount("dev", ACCOUNT, "p", secp).domain_id == 0
    assert DerivedAccount("dev", ACCOUNT, "p", ed).domain_id == 1
    assert DerivedAccount("dev", ACCOUNT, "p", secp) == DerivedAccount("dev", ACCOUNT, "p", secp, 0)
    second = DerivedAccount("x", ACCOUNT, "p", ROOTS[2], 2)
    assert second.domain_id == 2 and not second.is_default_domain
    assert second != DerivedAccount("x", ACCOUNT, "p", ROOTS[2])  # same key, another domain
    assert DerivedAccount("x", ACCOUNT, "p", ed, 3).domain_id == 3
    with pytest.raises(InvalidInputError, match="domain 0 is secp256k1, but the sender's key is ed25519"):
        DerivedAccount("x", ACCOUNT, "p", ed, 0)
    with pytest.raises(InvalidInputError, match="domain 1 is ed25519, but the sender's key is secp256k1"):
        DerivedAccount("x", ACCOUNT, "p", secp, 1)
    for bad in (-1, 2**64, True, "2", 2.0):
        with pytest.raises(InvalidInputError, match="domain must be an unsigned 64-bit integer"):
            DerivedAccount("x", ACCOUNT, "p", secp, bad)  # type: ignore[arg-type]


def test_sender_json_names_only_a_non_default_domain_and_old_bundles_still_read():
    default = DerivedAccount("x", ACCOUNT, "p", ROOTS[0])
    old_form = {"network": "x", "account": ACCOUNT, "path": "p", "public_key": ROOTS[0].to_near_string()}
    assert default.to_json() == old_form  # byte-for-byte what earlier versions wrote
    assert DerivedAccount.from_json(old_form) == default
    second = DerivedAccount("x", ACCOUNT, "p", ROOTS[2], 2)
    assert second.to_json() == {**old_form, "public_key": ROOTS[2].to_near_string(), "domain_id": 2}
    assert DerivedAccount.from_json(json.loads(json.dumps(second.to_json()))) == second
    assert DerivedAccount.from_json({**old_form, "domain_id": 0}) == default
    ed3 = DerivedAccount("x", ACCOUNT, "p", ROOTS[3], 3)
    assert DerivedAccount.from_json(ed3.to_json()) == ed3
    for bad in ("2", -1, 2**64, True, [2]):
        with pytest.raises(InvalidInputError, match="bundle sender 'domain_id' must be an unsigned 64-bit integer"):
            DerivedAccount.from_json({**old_form, "domain_id": bad})
    with pytest.raises(InvalidInputError, match="domain 1 is ed25519, but the sender's key is secp256k1"):
        DerivedAccount.from_json({**old_form, "domain_id": 1})
    with pytest.raises(InvalidInputError, match="bundle sender is missing 'public_key'"):
        DerivedAccount.from_json({"network": "x", "account": ACCOUNT, "path": "p"})
    with pytest.raises(InvalidInputError, match="bundle sender must be a JSON object"):
        Prepared.from_json({"version": 1, "chain": "c", "chain_network": "n", "sender": "alice",
                            "from": "a", "payloads": [], "tx": {}})


# -- derive_address and the library flow ----------------------------------------------------


def test_derive_address_records_its_domain(added):
    second = derive_address(chain="fakechain", account=ACCOUNT, path="p", network=added, domain_id=2)
    assert second.domain_id == 2 and second.public_key == kdf.derive_public_key(ROOTS[2], ACCOUNT, "p")
    assert second.derived_account == DerivedAccount(added, ACCOUNT, "p", second.public_key, 2)
    assert second.to_json()["domain_id"] == 2
    default = derive_address(chain="fakechain", account=ACCOUNT, path="p", network=added)
    assert default.domain_id == 0 and "domain_id" not in default.to_json()  # the stable form
    explicit = derive_address(chain="fakechain", account=ACCOUNT, path="p", network=added, domain_id=0)
    assert explicit.to_json() == default.to_json()
    ed = derive_address(chain="fakechain-ed", account=ACCOUNT, path="p", network=added, domain_id=3)
    assert ed.derived_account.domain_id == 3 and ed.to_json()["domain_id"] == 3


def test_library_prepare_signs_in_the_senders_domain_and_finalizes_offline(added):
    bundle = prepare(chain="fakechain", account=ACCOUNT, path="eth-2", to=RECIPIENT, amount="1",
                     network=added, options={"nonce": 4}, domain_id=2)
    assert bundle.sender.domain_id == 2 and [p.domain_id for p in bundle.payloads] == [2]
    key2 = kdf.derive_public_key(ROOTS[2], ACCOUNT, "eth-2")
    assert bundle.sender.public_key == key2
    reread = Prepared.from_json(json.loads(json.dumps(bundle.to_json())))
    assert reread.sender == bundle.sender and reread.payloads == bundle.payloads
    signed = finalize_bundle(reread, [domain_signature(2, "eth-2", bundle.payloads[0].data)])
    assert signed.chain == "fakechain"
    from chainsig_core.errors import SignatureVerificationError

    with pytest.raises(SignatureVerificationError):  # domain 0's key signing is not the sender
        finalize_bundle(reread, [domain_signature(0, "eth-2", bundle.payloads[0].data)])
    default = prepare(chain="fakechain", account=ACCOUNT, path="eth-2", to=RECIPIENT, amount="1",
                      network=added, options={"nonce": 4})
    assert default.sender.public_key != key2 and [p.domain_id for p in default.payloads] == [0]
    assert "domain_id" not in default.to_json()["sender"]


def test_prepare_refuses_unknown_keys_and_curves_that_do_not_fit(added, chainsig_config):
    with pytest.raises(UnknownNameError, match=r"the root key of domain 7 on network 'added' is not known yet: set root_public_keys\.7"):
        prepare(chain="fakechain", account=ACCOUNT, path="p", to=RECIPIENT, amount="1", network=added, domain_id=7)
    with pytest.raises(InvalidInputError, match="fakechain-ed needs a ed25519 key, but the root key of domain 2 on network 'added' is secp256k1|fakechain-ed needs an ed25519 key"):
        prepare(chain="fakechain-ed", account=ACCOUNT, path="p", to=RECIPIENT, amount="1", network=added, domain_id=2)
    with pytest.raises(UnknownNameError, match="network 'dev' has no domain 2"):
        prepare(chain="fakechain", account=ACCOUNT, path="p", to=RECIPIENT, amount="1", network="dev", domain_id=2)


def test_a_payload_outside_the_senders_domain_is_refused_before_signing(chainsig_config, fake_plugin):
    bundle = prepare(chain="fakechain", account=ACCOUNT, path="p", to=RECIPIENT, amount="1", network="dev",
                     options={"nonce": 1})
    moved = Prepared(bundle.chain, bundle.chain_network, bundle.sender, bundle.from_address,
                     (Payload(bundle.payloads[0].data, 2, "tx"),), bundle.tx, bundle.summary)

    class Counting(DevSigner):
        calls = 0

        def sign_all(self, requests):  # type: ignore[no-untyped-def]
            Counting.calls += 1
            return super().sign_all(requests)

    from chainsig_core.config import load_config

    signer = Counting(load_config().network("dev"))
    with pytest.raises(InvalidInputError, match="payload 0 of the bundle is for domain 2, but its sender's key is derived in domain 0: refused"):
        sign_prepared(signer, moved)
    assert Counting.calls == 0
    assert len(sign_prepared(signer, bundle)) == 1


# -- the CLI ------------------------------------------------------------------------------


def test_derive_domain_option_single_chain_and_every_chain_of_the_curve(run, added):
    out = run("derive", "--network", added, "--chain", "fakechain", "--account", ACCOUNT, "--path", "p",
              "--domain", "2", "--json")
    assert out.exit_code == 0, out.output
    row = json.loads(out.stdout)
    assert row["domain_id"] == 2
    assert row["public_key"] == kdf.derive_public_key(ROOTS[2], ACCOUNT, "p").to_near_string()
    plain = json.loads(run("derive", "--network", added, "--chain", "fakechain", "--account", ACCOUNT,
                           "--path", "p", "--json").stdout)
    assert "domain_id" not in plain and plain["address"] != row["address"]
    every = run("derive", "--network", added, "--account", ACCOUNT, "--path", "p", "--domain", "3", "--json")
    assert every.exit_code == 0, every.output
    assert [(r["chain"], r["domain_id"]) for r in json.loads(every.stdout)] == [("fakechain-ed", 3)]
    table = run("derive", "--network", added, "--account", ACCOUNT, "--path", "p", "--domain", "2")
    assert table.exit_code == 0 and "fakechain " in table.stdout and "fakechain-ed" not in table.stdout
    assert "domain 2" in table.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("derive", "--chain", "fakechain", "--domain", "9"), "the root key of domain 9 on network 'added' is not known yet"),
        (("derive", "--chain", "fakechain-ed", "--domain", "2"), "fakechain-ed needs a"),
        (("derive", "--chain", "fakechain", "--domain", "1"), "fakechain needs a secp256k1 key, but the root key of domain 1"),
        (("derive", "--domain", "9"), "the root key of domain 9 on network 'added' is not known yet"),
        (("prepare", "--chain", "fakechain", "--to", RECIPIENT, "--amount", "1", "--domain", "9"), "root key of domain 9"),
        (("send", "--chain", "fakechain-ed", "--to", RECIPIENT, "--amount", "1", "--domain", "2"), "fakechain-ed needs a"),
        (("balance", "--chain", "fakechain", "--domain", "3"), "fakechain needs a secp256k1 key, but the root key of domain 3"),
    ],
)
def test_domain_errors_are_one_line(run, added, args, message):
    base = list(args)
    if base[0] == "balance":
        base += ["--network", added, "--account", ACCOUNT, "--path", "p"]
    elif "--chain" in base or base[0] == "derive":
        base += ["--network", added, "--account", ACCOUNT, "--path", "p"]
    result = run(*base)
    assert result.exit_code != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("command", ["derive", "prepare", "send", "balance"])
@pytest.mark.parametrize("domain", ["-1", str(2**64), "two"])
def test_domain_option_is_a_u64(run, added, command, domain):
    result = run(command, "--domain", domain)
    assert result.exit_code == 2 and "Invalid value for '--domain'" in result.stderr and "Traceback" not in result.output


def test_domain_is_refused_where_it_has_no_meaning(run, added):
    batch = run("derive", "--from-file", "-", "--domain", "2",
                input=json.dumps({"chain": "fakechain", "account": ACCOUNT, "path": "p"}) + "\n")
    assert batch.exit_code != 0 and "--domain is for one account" in batch.stderr
    by_address = run("balance", "--chain", "fakechain", "--network", added, "--address", RECIPIENT, "--domain", "2")
    assert by_address.exit_code != 0 and "give --address or the account's options, not both" in by_address.stderr
    dev = run("send", "--network", "dev", "--chain", "fakechain", "--account", ACCOUNT, "--path", "p",
              "--to", RECIPIENT, "--amount", "1", "--domain", "2", "--dry-run")
    assert dev.exit_code != 0 and "network 'dev' has no domain 2" in dev.stderr


def test_cli_prepare_then_finalize_offline_in_domain_2(run, added, tmp_path):
    bundle_file = tmp_path / "bundle.json"
    done = run("prepare", "--network", added, "--chain", "fakechain", "--account", ACCOUNT, "--path", "eth-2",
               "--to", RECIPIENT, "--amount", "2.5", "--nonce", "3", "--domain", "2", "-o", str(bundle_file))
    assert done.exit_code == 0, done.output
    bundle = json.loads(bundle_file.read_text())
    assert bundle["sender"]["domain_id"] == 2 and [p["domain_id"] for p in bundle["payloads"]] == [2]
    key2 = kdf.derive_public_key(ROOTS[2], ACCOUNT, "eth-2")
    assert bundle["sender"]["public_key"] == key2.to_near_string()
    signature = domain_signature(2, "eth-2", bytes.fromhex(bundle["payloads"][0]["payload"]))
    assert isinstance(signature, EcdsaSignature)
    sigs = tmp_path / "sigs.json"
    sigs.write_text(json.dumps([signature.to_json()]))
    signed_file = tmp_path / "signed.json"
    final = run("finalize", str(bundle_file), "--signatures", str(sigs), "-o", str(signed_file))
    assert final.exit_code == 0, final.output
    signed = json.loads(signed_file.read_text())
    assert signature_from_json(json.loads(signed["raw"])["signature"]) == signature
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([domain_signature(0, "eth-2", bytes.fromhex(bundle["payloads"][0]["payload"])).to_json()]))
    refused = run("finalize", str(bundle_file), "--signatures", str(wrong))
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    # an old bundle (no domain_id on the sender) is still read as the curve's default domain
    old = run("prepare", "--network", added, "--chain", "fakechain", "--account", ACCOUNT, "--path", "eth-2",
              "--to", RECIPIENT, "--amount", "2.5", "--nonce", "3")
    old_bundle = json.loads(old.stdout)
    assert "domain_id" not in old_bundle["sender"] and old_bundle["payloads"][0]["domain_id"] == 0
    assert Prepared.from_json(old_bundle).sender.domain_id == 0


def test_balance_by_account_reads_the_domains_address(run, added):
    import chainsig_fakechain

    second = derive_address(chain="fakechain", account=ACCOUNT, path="p", network=added, domain_id=2)
    chainsig_fakechain.LEDGER[second.address] = 1_500_000
    try:
        out = run("balance", "--network", added, "--chain", "fakechain", "--account", ACCOUNT, "--path", "p",
                  "--domain", "2", "--json")
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["address"] == second.address and json.loads(out.stdout)["amount"] == "1.5"
        plain = json.loads(run("balance", "--network", added, "--chain", "fakechain", "--account", ACCOUNT,
                               "--path", "p", "--json").stdout)
        assert plain["address"] != second.address and plain["amount"] == "0"
    finally:
        chainsig_fakechain.LEDGER.pop(second.address, None)

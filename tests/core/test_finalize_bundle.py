"""Air-gapped finalize: a bundle edited after ``prepare`` (sender account, path, network or
domain) is refused even when its signatures verify, and a bad signatures entry is named."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chainsig_core.cli import cli
from chainsig_core.errors import InvalidInputError
from chainsig_core.flow import finalize_bundle

TO = "local1" + "cd" * 20


@pytest.fixture
def run(fake_plugin):
    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def signed_bundle(run, tmp_path):
    """(bundle file, signatures file) for a dev-network fakechain transfer, signed correctly."""
    bundle = tmp_path / "bundle.json"
    assert run("prepare", "--network", "dev", "--chain", "fakechain", "--account", "alice.near", "--path", "p",
               "--to", TO, "--amount", "3", "-o", str(bundle)).exit_code == 0
    (payload,) = json.loads(bundle.read_text())["payloads"]
    signed = run("sign", "--network", "dev", "--account", "alice.near", "--path", "p",
                 "--payload", payload["payload"], "--json")
    sigs = tmp_path / "sigs.json"
    sigs.write_text(json.dumps([json.loads(signed.stdout)]))
    return bundle, sigs


def test_the_untouched_bundle_finalizes(run, signed_bundle):
    bundle, sigs = signed_bundle
    result = run("finalize", str(bundle), "--signatures", str(sigs))
    assert result.exit_code == 0, result.output


# (The dev network's domains of one curve share a root key, so a domain edit there changes no key;
# domain 1 for a secp256k1 sender is refused when the bundle is read.)
@pytest.mark.parametrize("field, value", [("account", "mallory.near"), ("path", "q"), ("network", "testnet")])
def test_an_edited_sender_is_refused_although_the_signature_verifies(run, signed_bundle, field, value):
    bundle, sigs = signed_bundle
    data = json.loads(bundle.read_text())
    data["sender"][field] = value
    bundle.write_text(json.dumps(data))
    result = run("finalize", str(bundle), "--signatures", str(sigs))
    assert result.exit_code == 2
    assert "the bundle's sender key is" in result.stderr and "edited" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_sender_on_a_network_without_a_known_root_key_is_only_verified_by_signature(run, signed_bundle,
                                                                                     tmp_path, monkeypatch):
    """An offline machine may not know a private network's root key: the signature check stands."""
    bundle, sigs = signed_bundle
    data = json.loads(bundle.read_text())
    data["sender"]["network"] = "private"
    bundle.write_text(json.dumps(data))
    config = tmp_path / "config.toml"
    config.write_text('[networks.private]\nrpc_url = "http://127.0.0.1:1"\ncontract_id = "v1.signer.private"\n')
    monkeypatch.setenv("CHAINSIG_CONFIG", str(config))
    result = run("finalize", str(bundle), "--signatures", str(sigs))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "entry, message",
    [({"r": "zz", "s": "00" * 32, "recovery_id": 0}, "signatures file, entry 1: "),
     ("text", "signatures file, entry 1: ")],
)
def test_a_bad_signatures_entry_is_invalid_input_naming_it(run, signed_bundle, entry, message):
    bundle, sigs = signed_bundle
    sigs.write_text(json.dumps([entry]))
    result = run("finalize", str(bundle), "--signatures", str(sigs))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: " + message)


@pytest.mark.parametrize("prepared, signatures", [(None, []), ("x", [])])
def test_library_finalize_bundle_refuses_wrong_types(prepared, signatures):
    with pytest.raises(InvalidInputError, match="Prepared bundle"):
        finalize_bundle(prepared, signatures)  # type: ignore[arg-type]


def test_a_broken_sender_key_names_its_field(run, signed_bundle):
    bundle, sigs = signed_bundle
    data = json.loads(bundle.read_text())
    data["sender"]["public_key"] = "secp256k1:abc"
    bundle.write_text(json.dumps(data))
    result = run("finalize", str(bundle), "--signatures", str(sigs))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: bundle sender 'public_key': ")

"""The batch derive path: the hand-built JSON lines equal the JSON encoder's, rows are parsed
strictly, and bad rows become error lines."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chainsig_core import derive, kdf
from chainsig_core.config import load_config, register_network
from chainsig_core.errors import ChainsigError, InvalidInputError
from chainsig_core.keys import Curve
from chainsig_core.signers.dev import dev_root_public_key

accounts = st.from_regex(r"[a-z0-9]{2,12}([-_.][a-z0-9]{1,8}){0,3}", fullmatch=True)
# Any text JSON can carry except lone surrogates (those are a row error, tested below).
paths = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
targets = st.sampled_from([
    ("mainnet", "fakechain", None, None),
    ("testnet", "fakechain", "local", "long"),
    ("mainnet", "fakechain", None, "short"),
    ("mainnet", "fakechain-ed", None, None),
    ("dev", "fakechain-ed", None, None),
    ("dev", "fakechain", None, None),
])


@pytest.fixture
def resolve(fake_plugin):
    config = load_config()
    return lambda key: derive._DerivationTarget.resolve(config, *key)


# The fixture only loads the fake plugin; nothing in it changes between examples.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=targets, account=accounts, path=paths)
def test_json_line_is_the_encoders_text(resolve, key, account, path):
    target = resolve(key)
    line = target.json_line(account, path)
    assert line == derive._JSON_LINE(target.derive_json(account, path)) + "\n"
    assert json.loads(line) == target.derive(account, path).to_json()


@pytest.mark.parametrize("layout", ["extra members", "reordered", "failing sample"])
def test_json_line_follows_to_json_whatever_its_layout(fake_plugin, monkeypatch, layout):
    """The constant parts of a batch line come from to_json itself; an unexpected layout falls
    back to encoding every row."""
    original = derive.DerivedAddress.to_json

    def to_json(self):
        out = original(self)
        if layout == "extra members":
            return {"first": [1, "é"], **out, "domain_id": 7, "note": None}
        if layout == "reordered":
            return {"path": out.pop("path"), **out}
        if self.account == "sample.near":
            raise InvalidInputError("no sample")
        return out

    monkeypatch.setattr(derive.DerivedAddress, "to_json", to_json)
    config = load_config()
    for key in [("mainnet", "fakechain", None, "long"), ("dev", "fakechain-ed", None, None)]:
        target = derive._DerivationTarget.resolve(config, *key)
        for account, path in [("alice.near", "p"), ("bob_1.near", 'x"\\\n')]:
            assert target.json_line(account, path) == derive._JSON_LINE(target.derive_json(account, path)) + "\n"
        assert (target._json_parts is None) == (layout != "extra members")


def _lines(rows: list[object]) -> list[str]:
    return [row if isinstance(row, str) else json.dumps(row) for row in rows]


ROWS = [
    {"chain": "fakechain", "account": "alice.near", "path": "a"},
    {"chain": "fakechain-ed", "account": "bob.near", "path": 'quote " and \\ and \n and é'},
    {"chain": None, "account": "alice.near", "path": "a"},
    {"chain": "fakechain", "account": None, "path": "a"},
    {"chain": "fakechain", "account": "alice.near", "path": 7},
    {"chain": "fakechain", "account": "alice.near", "path": "a", "network": None, "chain_network": None, "address_type": None},
    '{"chain": "fakechain-ed", "account": "alice.near", "path": "\\ud800"}',
    {"chain": "fakechain", "account": "alice.near", "path": "a", "extra": 1},
    {"account": "alice.near"},
    "[1, 2]",
    "   ",
    {"chain": "fakechain", "account": "alice.near", "path": "a", "chain_network": "test", "address_type": "long"},
]


def test_text_and_object_outputs_agree(fake_plugin):
    lines = _lines(ROWS)
    objects = list(derive.derive_batch(lines))
    text = "".join(derive.derive_batch_parallel(lines, workers=1))
    assert text.splitlines() == [derive._JSON_LINE(o) for o in objects]
    assert len(objects) == len(ROWS) - 1  # the blank line gives nothing
    errors = {o["line"]: o["error"] for o in objects if "error" in o}
    assert errors == {
        3: "field 'chain' must be a string",
        4: "field 'account' must be a string",
        5: "field 'path' must be a string",
        7: "derivation path is not valid Unicode text (lone surrogate)",
        8: "unknown field(s): extra",
        9: "missing field(s): chain, path",
        10: "line must be a JSON object",
    }
    assert objects[1]["path"] == 'quote " and \\ and \n and é'


def test_parallel_text_equals_serial_text(fake_plugin, monkeypatch):
    monkeypatch.setattr(derive, "PARALLEL_MIN_ROWS", 4)
    monkeypatch.setattr(derive, "PARALLEL_CHUNK", 5)
    lines = _lines(ROWS * 4)
    serial = "".join(derive.derive_batch_parallel(lines, workers=1))
    parallel = "".join(derive.derive_batch_parallel(lines, workers=2))
    assert parallel == serial
    numbers = [json.loads(line)["line"] for line in parallel.splitlines() if '"error"' in line]
    assert numbers[:7] == [3, 4, 5, 7, 8, 9, 10] and numbers[7] == 3 + len(ROWS)


@pytest.mark.parametrize("line, message", [
    ("{", "line is not valid JSON"),
    ('"text"', "line must be a JSON object"),
    ('{"chain": "x", "account": "a.near"}', "missing field(s): path"),
    ('{"chain": "x", "account": "a.near", "path": "p", "domain": 1}', "unknown field(s): domain"),
    ('{"chain": "x", "account": "a.near", "path": "p", "network": 1}', "field 'network' must be a string"),
    ('{"chain": "x", "account": "a.near", "path": null}', "field 'path' must be a string"),
    ('{"chain": "x", "account": "a.near", "path": "p", "domain_id": true}', "domain must be an unsigned 64-bit integer"),
    ('{"chain": "x", "account": "a.near", "path": "p", "domain_id": 2.0}', "domain must be an unsigned 64-bit integer"),
])
def test_parse_row_errors(line, message):
    with pytest.raises(InvalidInputError) as info:
        derive._parse_row(line)
    assert str(info.value).startswith(message)


def test_parse_row_allows_null_optional_fields():
    row = derive._parse_row('{"chain": "x", "account": "a.near", "path": "", "network": null, "address_type": null}')
    assert row["path"] == "" and row["network"] is None
    row = derive._parse_row('{"chain": "x", "account": "a.near", "path": "", "domain_id": null}')
    assert row["domain_id"] is None
    assert derive._parse_row('{"chain": "x", "account": "a.near", "path": "", "domain_id": 7}')["domain_id"] == 7


def test_single_derive_with_a_lone_surrogate_is_one_clear_error(fake_plugin):
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    result = CliRunner().invoke(cli, ["derive", "--chain", "fakechain-ed", "--account", "a.near", "--path", "\ud800"])
    assert result.exit_code == 2
    assert "derivation path is not valid Unicode text" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("rows", [3, 2400])  # 2,400 lines go to forked workers
def test_a_file_with_a_bom_and_bytes_that_are_not_utf8_loses_no_good_row(fake_plugin, tmp_path, rows):
    """Line 1 after a BOM derives; a line that is not UTF-8 is one error object; the rest go on."""
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    good = [json.dumps({"chain": "fakechain", "account": "a.near", "path": f"p{i}é"}).encode() for i in range(rows)]
    bad = 1 if rows == 3 else 1500
    lines = [*good[:bad], b'{"chain": "fakechain", "account": "a.near", "path": "\xff\xfe"}', *good[bad:]]
    source = tmp_path / "rows.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(cli, ["derive", "--from-file", str(source), "--workers", "2"])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == rows + 1
    assert out[bad] == {"line": bad + 1, "error": "line is not UTF-8 text"}
    assert [o["path"] for o in out[:bad] + out[bad + 1:]] == [f"p{i}é" for i in range(rows)]


def test_batch_derivation_imports_no_transaction_machinery(tmp_path):
    """The derive path loads libsodium through nacl._sodium, never nacl.bindings (every binding
    PyNaCl has) nor any transaction library."""
    import os
    import subprocess
    import sys

    from .conftest import HERE

    script = (
        "import sys\n"
        "from chainsig_core.derive import derive_batch_parallel\n"
        "rows = ['{\"chain\": \"%s\", \"account\": \"alice.near\", \"path\": \"p%d\"}' % (c, i)"
        " for i in range(3) for c in ('fakechain', 'fakechain-ed')]\n"
        "out = ''.join(derive_batch_parallel(rows, workers=1))\n"
        "assert out.count('\\n') == 6 and 'error' not in out, out\n"
        "heavy = sorted(m for m in sys.modules if m == 'nacl.bindings' or m.split('.')[0] in"
        " ('web3', 'eth_account', 'solana', 'solders', 'bitcoinlib'))\n"
        "assert not heavy, heavy\n"
        "assert 'nacl._sodium' in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(HERE / "fake_plugin"), "CHAINSIG_LOAD_PLUGINS": "fakechain",
           "CHAINSIG_CONFIG": str(tmp_path / "none.toml")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr


# --- rows with "domain_id" (a signer domain the contract added, or the chain's own) ---------

ADDED_ROOTS = {
    0: dev_root_public_key(Curve.SECP256K1),
    1: dev_root_public_key(Curve.ED25519),
    2: dev_root_public_key(Curve.SECP256K1, seed="batch-domain-2"),
    3: dev_root_public_key(Curve.ED25519, seed="batch-domain-3"),
}


@pytest.fixture
def added(chainsig_config, fake_plugin, tmp_path):
    """Network ``added`` whose contract has domains 0–3 (2 secp256k1, 3 ed25519), configured."""
    register_network("added", rpc_url="http://127.0.0.1:9", contract_id="v1.signer.added",
                     credentials_dir=tmp_path / "creds", root_public_keys=ADDED_ROOTS)
    return "added"


def _cli(*args: str, input: str | None = None):
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    return CliRunner().invoke(cli, list(args), input=input)


@pytest.mark.parametrize("network", ["added", "mainnet", "dev"])
@pytest.mark.parametrize("chain, default", [("fakechain", 0), ("fakechain-ed", 1)])
def test_a_row_in_its_chains_default_domain_is_the_row_without_one(added, network, chain, default):
    base = {"chain": chain, "account": "alice.near", "path": "p", "network": network}
    lines = _lines([base, {**base, "domain_id": default}, {**base, "domain_id": None}])
    text = "".join(derive.derive_batch_parallel(lines, workers=1)).splitlines()
    assert text[0] == text[1] == text[2]
    assert "domain_id" not in json.loads(text[0])
    assert [*map(derive._JSON_LINE, derive.derive_batch(lines))] == text


@pytest.mark.parametrize("chain, domain", [("fakechain", 2), ("fakechain-ed", 3)])
def test_a_row_in_an_added_domain_is_what_derive_domain_n_prints(added, chain, domain):
    account, path = "alice.near", 'p-2 "quoted" é'
    row = {"chain": chain, "account": account, "path": path, "domain_id": domain}
    batch = _cli("derive", "--network", added, "--from-file", "-", input=json.dumps(row) + "\n")
    single = _cli("derive", "--network", added, "--chain", chain, "--account", account, "--path", path,
                  "--domain", str(domain), "--json")
    default = _cli("derive", "--network", added, "--chain", chain, "--account", account, "--path", path, "--json")
    assert batch.exit_code == single.exit_code == default.exit_code == 0, (batch.output, single.output)
    [line] = batch.stdout.splitlines()
    out = json.loads(line)
    assert out == json.loads(single.stdout)
    assert out["domain_id"] == domain
    assert out["public_key"] == kdf.derive_public_key(ADDED_ROOTS[domain], account, path).to_near_string()
    assert out["address"] != json.loads(default.stdout)["address"]
    assert line == derive._JSON_LINE(out)  # the hand-built line is the encoder's text


def _single_derive_error(**kwargs) -> str:
    with pytest.raises(ChainsigError) as info:
        derive.derive_address(account="alice.near", path="p", **kwargs)
    return str(info.value)


def test_a_bad_domain_is_the_single_derive_error_on_its_line(added):
    rows = [
        {"chain": "fakechain", "domain_id": 3},             # ed25519 root for a secp256k1 chain
        {"chain": "fakechain-ed", "domain_id": 2},          # and the other way round
        {"chain": "fakechain", "domain_id": 5},             # not configured
        {"chain": "fakechain", "domain_id": 2, "network": "dev"},  # dev has 0 and 1 only
        {"chain": "fakechain", "domain_id": -1},
        {"chain": "fakechain", "domain_id": 2**64},
        {"chain": "fakechain", "domain_id": "2"},
        {"chain": "fakechain", "domain_id": True},
        {"chain": "fakechain", "domain_id": 2.0},
        {"chain": "fakechain", "domain_id": [2]},
        {"chain": "fakechain", "domain_id": 2},             # good rows go on after bad ones
    ]
    lines = _lines([{"account": "alice.near", "path": "p", "network": added, **row} for row in rows])
    out = list(derive.derive_batch(lines, network="mainnet"))
    expected = [
        _single_derive_error(chain=row["chain"], network=row.get("network", added), domain_id=row["domain_id"])
        for row in rows[:-1]
    ]
    assert out[:-1] == [{"line": n, "error": message} for n, message in enumerate(expected, start=1)]
    assert expected[0] == "fakechain needs a secp256k1 key, but the root key of domain 3 on network 'added' is ed25519"
    assert expected[2].startswith("the root key of domain 5 on network 'added' is not known yet")
    assert "network 'dev' has no domain 2" in expected[3]
    assert all(message.startswith("domain must be an unsigned 64-bit integer") for message in expected[4:])
    assert out[-1]["domain_id"] == 2 and "error" not in out[-1]
    text = "".join(derive.derive_batch_parallel(lines, workers=1))
    assert text.splitlines() == [derive._JSON_LINE(o) for o in out]


def test_a_bad_domain_through_the_cli_names_its_line(added):
    rows = [{"chain": "fakechain", "account": "alice.near", "path": "p"},
            {"chain": "fakechain", "account": "alice.near", "path": "p", "domain_id": 3}]
    result = _cli("derive", "--network", added, "--from-file", "-", input="\n".join(_lines(rows)) + "\n")
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert json.loads(result.stdout.splitlines()[1]) == {
        "line": 2, "error": "fakechain needs a secp256k1 key, but the root key of domain 3 on network 'added' is ed25519",
    }
    refused = _cli("derive", "--network", added, "--from-file", "-", "--domain", "2", input=json.dumps(rows[0]) + "\n")
    assert refused.exit_code == 2 and '"domain_id": N' in refused.stderr


def test_parallel_rows_with_domains_equal_serial_rows(added, monkeypatch):
    monkeypatch.setattr(derive, "PARALLEL_MIN_ROWS", 4)
    monkeypatch.setattr(derive, "PARALLEL_CHUNK", 5)
    rows = []
    for i in range(30):
        chain = "fakechain" if i % 2 == 0 else "fakechain-ed"
        domain = [None, 2 if chain == "fakechain" else 3, 0 if chain == "fakechain" else 1, 3 if chain == "fakechain" else 2][i % 4]
        rows.append({"chain": chain, "account": f"user{i % 3}.near", "path": f"p{i}", "domain_id": domain})
    lines = _lines(rows)
    serial = "".join(derive.derive_batch_parallel(lines, network=added, workers=1))
    parallel = "".join(derive.derive_batch_parallel(lines, network=added, workers=2))
    assert parallel == serial
    out = [json.loads(line) for line in parallel.splitlines()]
    assert [o["line"] for o in out if "error" in o] == [n for n in range(1, 31) if n % 4 == 0]
    assert [o.get("domain_id") for o in out if "error" not in o] == [
        row["domain_id"] if row["domain_id"] in (2, 3) else None for n, row in enumerate(rows, 1) if n % 4
    ]
    cli_parallel = _cli("derive", "--network", added, "--from-file", "-", "--workers", "2", input="\n".join(lines) + "\n")
    assert cli_parallel.exit_code == 0 and cli_parallel.stdout == serial

"""The batch derive path: the hand-built JSON lines equal the JSON encoder's, rows are parsed
strictly, and bad rows become error lines."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chainsig_core import derive
from chainsig_core.config import load_config
from chainsig_core.errors import InvalidInputError

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
])
def test_parse_row_errors(line, message):
    with pytest.raises(InvalidInputError) as info:
        derive._parse_row(line)
    assert str(info.value) == message


def test_parse_row_allows_null_optional_fields():
    row = derive._parse_row('{"chain": "x", "account": "a.near", "path": "", "network": null, "address_type": null}')
    assert row["path"] == "" and row["network"] is None


def test_single_derive_with_a_lone_surrogate_is_one_clear_error(fake_plugin):
    from click.testing import CliRunner

    from chainsig_core.cli import cli

    result = CliRunner().invoke(cli, ["derive", "--chain", "fakechain-ed", "--account", "a.near", "--path", "\ud800"])
    assert result.exit_code == 2
    assert "derivation path is not valid Unicode text" in result.output and "Traceback" not in result.output


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

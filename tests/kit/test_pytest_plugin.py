"""The pytest11 plugin's fixtures, exercised the way a plugin author's test suite uses them
(pytester runs a separate pytest session in a temporary directory)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

DEV_ROOT_SECP256K1 = (
    "secp256k1:3qmT2JyTSG2YDgSCFSWD7FrFtCJ7nCqxmnuLLWPhoG7Fxs6o2ND9CoXRHEwBsfyhGLw4nKLQKLZG9wpip2ZL18RT"
)
DEV_ROOT_ED25519 = "ed25519:DNGmCi7N5uLhyAqckwZ8YZnfM6nRvwXNsMQjSu7Aru3"


def test_dev_signer_fixtures_have_the_documented_root(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import os
        from chainsig_core import SignRequest, verify_signature

        def test_root(chainsig_dev_root):
            assert chainsig_dev_root(0).to_near_string() == {DEV_ROOT_SECP256K1!r}
            assert chainsig_dev_root(1).to_near_string() == {DEV_ROOT_ED25519!r}

        def test_signs_for_derived_account(chainsig_dev_signer, chainsig_derived_account):
            sender = chainsig_derived_account("alice.near", "p", 0)
            assert sender.network == "dev" and sender.domain_id == 0
            result = chainsig_dev_signer.sign(SignRequest("alice.near", "p", 0, b"\\x01" * 32))
            verify_signature(sender.public_key, b"\\x01" * 32, result.signature)

        def test_config_is_isolated(chainsig_config):
            assert os.environ["CHAINSIG_CONFIG"] == str(chainsig_config)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_register_plugin_lasts_for_one_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from chainsig_core import Chain, UnknownNameError, hookimpl
        from chainsig_core.plugins import get_chain

        class Toy(Chain):
            name, domain_id, chain_networks, symbol = "toy", 0, ("main",), "TOY"
            def address(self, public_key, chain_network, *, address_type=None): return "toy"
            def prepare(self, request, chain_network, rpc): raise NotImplementedError
            def finalize(self, prepared, signatures): raise NotImplementedError
            def broadcast(self, signed, rpc): raise NotImplementedError
            def balance(self, address, chain_network, rpc, token=None): raise NotImplementedError

        class ToyPlugin:
            @hookimpl
            def register_chains(self, register):
                register(Toy())

        def test_registered(chainsig_config, chainsig_register_plugin):
            chainsig_register_plugin(ToyPlugin(), "toy")
            assert get_chain("toy").name == "toy"

        def test_gone_afterwards(chainsig_config):
            with pytest.raises(UnknownNameError):
                get_chain("toy")
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_http_server_records_and_serves_canned_responses(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, urllib.error, urllib.request
        import pytest

        URLS = []

        def fetch(url, data=None):
            request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        def test_serves_and_records(chainsig_http_server):
            server = chainsig_http_server
            URLS.append(server.url)
            assert server.url.startswith("http://127.0.0.1:")
            server.add("GET", "/status", json={"ok": True})
            server.add("POST", "/rpc", handler=lambda r: __import__(
                "chainsig_core.testing", fromlist=["CannedResponse"]).CannedResponse(json={"echo": r.json()}))
            server.add("GET", "/once", json={"n": 1}, times=1)
            server.add("GET", "/boom", handler=lambda r: 1 / 0)
            assert fetch(server.url + "/status?x=1") == (200, {"ok": True})
            assert fetch(server.url + "/rpc", b'{"id": 3}') == (200, {"echo": {"id": 3}})
            assert fetch(server.url + "/once")[0] == 200
            assert fetch(server.url + "/once")[0] == 404
            status, body = fetch(server.url + "/boom")
            assert status == 500 and "ZeroDivisionError" in body["error"]
            status, body = fetch(server.url + "/nowhere")
            assert status == 404 and body["error"] == "no canned response for GET /nowhere"
            first = server.requests[0]
            assert (first.method, first.path, first.query) == ("GET", "/status", {"x": ["1"]})
            assert server.requests_to("/rpc", "POST")[0].json() == {"id": 3}
            assert len(server.requests) == 6

        def test_stopped_after_the_test():
            with pytest.raises(OSError):
                urllib.request.urlopen(URLS[0] + "/status", timeout=2)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_conformance_suite_fails_a_chain_that_skips_verification(pytester: pytest.Pytester) -> None:
    """The suite can fail: a chain whose finalize attaches signatures without verifying them
    is caught by the tampered-signature check, and only by it."""
    pytester.makepyfile(
        """
        import hashlib, json
        import pytest
        from chainsig_core import (Chain, InvalidAddressError, InvalidKeyError, Payload, Prepared,
            SignedTx, UnknownNameError, hookimpl, to_base_units)
        from chainsig_core.testing import ChainConformanceTests

        class Careless(Chain):
            name, domain_id, symbol, decimals = "careless", 0, "CRL", 8
            chain_networks = ("main", "local")
            def address(self, public_key, chain_network, *, address_type=None):
                self.check_chain_network(chain_network)
                if public_key.domain_id != 0:
                    raise InvalidKeyError("needs a secp256k1 key")
                return "c1" + hashlib.sha256(public_key.compressed).hexdigest()[:40]
            def validate_address(self, address, chain_network):
                if not isinstance(address, str) or len(address) != 42 or not address.startswith("c1"):
                    raise InvalidAddressError("not a careless address")
                try:
                    int(address[2:], 16)
                except ValueError:
                    raise InvalidAddressError("not a careless address") from None
                return address
            def prepare(self, request, chain_network, rpc):
                to = self.validate_address(request.to, chain_network)
                amount = to_base_units(request.amount, self.decimals)
                tx = {"to": to, "amount": amount}
                sender = self.address(request.sender.public_key, chain_network)
                digest = hashlib.sha256(json.dumps(tx).encode()).digest()
                return Prepared(self.name, chain_network, request.sender, sender,
                                (Payload(digest, request.sender.domain_id),), tx, {"to": to, "amount": str(request.amount)})
            def finalize(self, prepared, signatures):  # BUG: never verifies
                raw = json.dumps([dict(prepared.tx), signatures[0].to_json()])
                return SignedTx(self.name, prepared.chain_network, raw, hashlib.sha256(raw.encode()).hexdigest())
            def broadcast(self, signed, rpc): raise NotImplementedError
            def balance(self, address, chain_network, rpc, token=None): raise NotImplementedError

        class Plugin:
            @hookimpl
            def register_chains(self, register):
                register(Careless())

        class TestCareless(ChainConformanceTests):
            chain_name = "careless"
            recipients = {"local": "c1" + "ab" * 20}

            @pytest.fixture
            def conformance_chain(self, chainsig_config, chainsig_register_plugin):
                chainsig_register_plugin(Plugin(), "careless")
                from chainsig_core.plugins import get_chain
                return get_chain("careless")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=13, failed=1)
    result.stdout.fnmatch_lines(["*test_tampered_signature_refused*", "*expected SignatureVerificationError*"])

"""Domains beyond 0 and 1 (``vote_add_domains``): configuration, key lookup and derivation.

A domain's curve is its root key's; 0 (secp256k1) and 1 (ed25519) are only the defaults.
"""

from __future__ import annotations

import pytest

from chainsig_core import kdf
from chainsig_core.config import load_config, register_network
from chainsig_core.derive import derive_address
from chainsig_core.errors import ConfigError, InvalidInputError, InvalidKeyError, UnknownNameError
from chainsig_core.keys import MAX_DOMAIN_ID, Curve, PublicKey, check_domain_id
from chainsig_core.signers.dev import dev_root_public_key

SECP_2 = dev_root_public_key(Curve.SECP256K1, seed="domain-2")
ED_3 = dev_root_public_key(Curve.ED25519, seed="domain-3")


def test_curves_keep_their_default_domains_and_reject_no_id():
    assert (Curve.SECP256K1.domain_id, Curve.ED25519.domain_id) == (0, 1)
    assert (SECP_2.domain_id, ED_3.domain_id) == (0, 1)  # a key's *default* domain, not its domain
    assert [Curve.default_for_domain(d) for d in (0, 1, 2, 3, True, "0")] == [
        Curve.SECP256K1, Curve.ED25519, None, None, None, None]
    assert Curve.for_domain(0) is Curve.SECP256K1
    with pytest.raises(InvalidKeyError, match="domain 2 has no fixed curve: its curve is that of its root key"):
        Curve.for_domain(2)
    assert [check_domain_id(d) for d in (0, 2, MAX_DOMAIN_ID)] == [0, 2, 2**64 - 1]
    for bad in (-1, 2**64, False, 2.0, "2", None):
        with pytest.raises(InvalidInputError, match="domain must be an unsigned 64-bit integer"):
            check_domain_id(bad)


def test_added_domains_round_trip_through_the_config(chainsig_config, tmp_path):
    roots = {0: dev_root_public_key(Curve.SECP256K1), 1: dev_root_public_key(Curve.ED25519), 2: SECP_2, 3: ED_3}
    register_network("devnet", rpc_url="http://127.0.0.1:3030", contract_id="v1.signer.devnet",
                     credentials_dir=tmp_path / "creds", root_public_keys=roots)
    devnet = load_config().network("devnet")
    assert dict(devnet.root_public_keys) == roots
    assert devnet.root_public_key(2) == SECP_2 and devnet.root_public_key(3) == ED_3
    with pytest.raises(UnknownNameError, match=r"root key of domain 4 on network 'devnet' is not known yet: set root_public_keys\.4"):
        devnet.root_public_key(4)


def test_a_hand_written_table_may_name_any_domain_with_either_curve(chainsig_config):
    chainsig_config.write_text(
        '[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\n'
        f'root_public_keys = {{ 2 = "{SECP_2}", "3" = "{ED_3}", 18446744073709551615 = "{SECP_2}" }}\n'
    )
    network = load_config().network("x")
    assert dict(network.root_public_keys) == {2: SECP_2, 3: ED_3, MAX_DOMAIN_ID: SECP_2}
    # a contract whose first voted domain was Frost has an ed25519 domain 0: the key says so
    chainsig_config.write_text(f'[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\nroot_public_keys = {{ 0 = "{ED_3}" }}\n')
    assert load_config().network("x").root_public_key(0) == ED_3


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("2", "secp256k1:x", "root_public_keys.2: secp256k1 public key must be 64 bytes"),
        ("2", "secp256k1:0OIl", "root_public_keys.2: NEAR public key .* is not valid base58"),
        ("3", "ed25519:", "root_public_keys.3"),
        ("2", "bls12381:abc", "root_public_keys.2: unknown key type 'bls12381'"),
        ("-1", str(SECP_2), "root_public_keys.-1: a domain id is an integer 0"),
        ("two", str(SECP_2), "root_public_keys.two: a domain id is an integer"),
        (" 2", str(SECP_2), "a domain id is an integer"),
        ("18446744073709551616", str(SECP_2), "a domain id is an integer"),
    ],
)
def test_malformed_root_keys_are_still_refused(chainsig_config, key, value, message):
    chainsig_config.write_text(f'[networks.x]\nrpc_url = "http://u"\ncontract_id = "c.near"\nroot_public_keys = {{ "{key}" = "{value}" }}\n')
    with pytest.raises(ConfigError, match=message):
        load_config()


def test_deriving_in_an_added_domain_uses_its_root_key(chainsig_config, fake_plugin, tmp_path):
    register_network("devnet", rpc_url="http://127.0.0.1:3030", contract_id="v1.signer.devnet",
                     credentials_dir=tmp_path / "creds",
                     root_public_keys={0: dev_root_public_key(Curve.SECP256K1), 1: dev_root_public_key(Curve.ED25519),
                                       2: SECP_2, 3: ED_3})
    default = derive_address(chain="fakechain", account="alice.near", path="p", network="devnet")
    second = derive_address(chain="fakechain", account="alice.near", path="p", network="devnet", domain_id=2)
    assert default.public_key == kdf.derive_public_key(dev_root_public_key(Curve.SECP256K1), "alice.near", "p")
    assert second.public_key == kdf.derive_public_key(SECP_2, "alice.near", "p")
    assert second.address != default.address
    ed = derive_address(chain="fakechain-ed", account="alice.near", path="p", network="devnet", domain_id=3)
    assert ed.public_key == kdf.derive_public_key(ED_3, "alice.near", "p")
    with pytest.raises(InvalidInputError, match="fakechain needs a secp256k1 key, but the root key of domain 3 on network 'devnet' is ed25519"):
        derive_address(chain="fakechain", account="alice.near", path="p", network="devnet", domain_id=3)
    with pytest.raises(UnknownNameError, match="root key of domain 5"):
        derive_address(chain="fakechain", account="alice.near", path="p", network="devnet", domain_id=5)
    with pytest.raises(UnknownNameError, match="network 'dev' has no domain 2"):
        derive_address(chain="fakechain", account="alice.near", path="p", network="dev", domain_id=2)
    with pytest.raises(InvalidInputError, match="domain must be"):
        derive_address(chain="fakechain", account="alice.near", path="p", network="devnet", domain_id=-2)
    assert PublicKey.from_near_string(second.to_json()["public_key"]) == second.public_key

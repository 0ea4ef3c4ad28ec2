"""chainsig-core's ChainConformanceTests for ethereum and base (offline: every online value given)."""

from __future__ import annotations

from chainsig_core.testing import ChainConformanceTests

_OFFLINE = {"nonce": 0, "gas": 21000, "max_fee": "20", "priority_fee": "1"}
_RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
_BAD = (
    "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # EIP-55 checksum broken
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",  # 39 hex digits
    "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # no 0x
    "0xGaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
)


class TestEthereumConformance(ChainConformanceTests):
    chain_name = "ethereum"
    recipients = {"mainnet": _RECIPIENT, "sepolia": _RECIPIENT, "local": _RECIPIENT}
    prepare_options = {"mainnet": _OFFLINE, "sepolia": _OFFLINE, "local": {**_OFFLINE, "chain_id": 31337}}
    bad_addresses = {"mainnet": _BAD, "sepolia": _BAD, "local": _BAD}


class TestBaseConformance(ChainConformanceTests):
    chain_name = "base"
    recipients = {"mainnet": _RECIPIENT, "sepolia": _RECIPIENT}
    prepare_options = {"mainnet": {"nonce": 0, "gas": 21000, "gas_price": "1", "legacy": True}, "sepolia": _OFFLINE}
    bad_addresses = {"mainnet": _BAD, "sepolia": _BAD}

"""Bitcoin chain networks: address prefixes, default Esplora endpoints, policy constants.

Pure data, cheap to import (``chainsig derive`` imports it for every address).
"""

from __future__ import annotations

from dataclasses import dataclass

from chainsig_core.errors import UnknownNameError


@dataclass(frozen=True)
class BitcoinNetwork:
    """Encoding parameters of one Bitcoin network.

    Parameters
    ----------
    name:
        chainsig's chain-network name (``mainnet``, ``testnet``, ``testnet4``, ``signet``,
        ``regtest``).
    hrp:
        Bech32 human-readable part of segwit addresses.
    p2pkh_prefix, p2sh_prefix:
        Base58Check version bytes.
    embit_name:
        Key of the network in ``embit.networks.NETWORKS``.
    """

    name: str
    hrp: str
    p2pkh_prefix: int
    p2sh_prefix: int
    embit_name: str


NETWORKS: dict[str, BitcoinNetwork] = {
    "mainnet": BitcoinNetwork("mainnet", "bc", 0x00, 0x05, "main"),
    "testnet": BitcoinNetwork("testnet", "tb", 0x6F, 0xC4, "test"),
    "testnet4": BitcoinNetwork("testnet4", "tb", 0x6F, 0xC4, "test"),
    "signet": BitcoinNetwork("signet", "tb", 0x6F, 0xC4, "signet"),
    "regtest": BitcoinNetwork("regtest", "bcrt", 0x6F, 0xC4, "regtest"),
}

#: Public Esplora endpoints (Blockstream / mempool.space) used when the config names none.
DEFAULT_ESPLORA_URLS: dict[str, str] = {
    "mainnet": "https://blockstream.info/api",
    "testnet": "https://blockstream.info/testnet/api",
    "testnet4": "https://mempool.space/testnet4/api",
    "signet": "https://mempool.space/signet/api",
}

# -- policy (Bitcoin Core defaults) ----------------------------------------------------------

#: Bitcoin Core's ``-dustrelayfee`` (3000 sat/kvB) in sat/vB.
DUST_RELAY_FEE_RATE = 3
#: The lowest fee rate chainsig builds with (Core's long-standing ``-minrelaytxfee``,
#: 1000 sat/kvB); a chain network's config may lower it with ``min_relay_fee_rate``.
MIN_RELAY_FEE_RATE = 1
#: The highest fee rate accepted without ``max_fee_rate`` in the config: a guard against a
#: typo (``--fee-rate 5000`` for 5) or a broken fee estimator burning the funds as fees.
MAX_FEE_RATE = 1000
#: BIP125 incremental relay fee (sat/vB) a replacement must add on top of the original fee.
INCREMENTAL_RELAY_FEE_RATE = 1
#: nSequence that signals BIP125 replaceability (and enables nothing else).
RBF_SEQUENCE = 0xFFFFFFFD
#: nSequence of a final, non-replaceable input that still allows nLockTime.
FINAL_SEQUENCE = 0xFFFFFFFE


def get_network(name: str) -> BitcoinNetwork:
    """The :class:`BitcoinNetwork` called ``name``.

    Raises
    ------
    UnknownNameError
    """
    try:
        return NETWORKS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown bitcoin chain network {name!r} (known: {', '.join(NETWORKS)})"
        ) from None

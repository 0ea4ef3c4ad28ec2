"""``chainsig devnet fund``: put funds on an address of a devnet chain (local nodes only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ..amounts import format_base_units, to_base_units
from ..errors import RpcError, UnknownNameError
from ..plugins import get_chain
from .processes import DevnetError

ANVIL_CHAINS = ("ethereum", "base")


def fund(description: dict[str, Any], chain: str, address: str, amount: str | int) -> dict[str, Any]:
    """Add ``amount`` (main unit, or base units with suffix) to ``address`` on the devnet's
    local node for ``chain``. Returns ``{chain, chain_network, address, amount, balance}``.

    Raises
    ------
    DevnetError
        For a chain the devnet runs no node for (Bitcoin: none is installable here).
    InvalidAddressError, InvalidAmountError, RpcError
    """
    endpoint = description.get("chains", {}).get(chain)
    if endpoint is None:
        if chain == "bitcoin":
            raise DevnetError(
                "the devnet runs no Bitcoin node (none is installable from the package registries): "
                "Bitcoin spends are built, signed and verified offline with --utxos"
            )
        running = ", ".join(description.get("chains", {})) or "none"
        raise UnknownNameError(f"the devnet runs no node for chain {chain!r} (chain nodes: {running})")
    chain_obj = get_chain(chain)
    chain_network = endpoint["chain_network"]
    address = chain_obj.validate_address(address, chain_network)
    base_units = to_base_units(amount, chain_obj.decimals, base_unit=chain_obj.base_unit, symbol=chain_obj.symbol)
    url = endpoint["rpc_url"]
    if chain in ANVIL_CHAINS:
        current = int(_rpc(url, "eth_getBalance", [address, "latest"]), 16)
        _rpc(url, "anvil_setBalance", [address, hex(current + base_units)])
        balance = int(_rpc(url, "eth_getBalance", [address, "latest"]), 16)
    elif chain == "solana":
        _rpc(url, "requestAirdrop", [address, base_units])
        balance = int(_rpc(url, "getBalance", [address, {"commitment": "confirmed"}])["value"])
    else:  # pragma: no cover - the devnet only starts the nodes above
        raise DevnetError(f"no faucet for chain {chain!r}")
    return {
        "chain": chain, "chain_network": chain_network, "address": address,
        "amount": format_base_units(base_units, chain_obj.decimals),
        "balance": format_base_units(balance, chain_obj.decimals),
    }


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            reply = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RpcError(f"devnet node {url} did not answer {method}: {exc}") from None
    if "error" in reply:
        raise RpcError(f"devnet node {url} refused {method}: {reply['error'].get('message', reply['error'])}")
    return reply.get("result")

"""MPC node ports are fixed in the genesis before the nodes bind them, so they are picked below
the kernel's ephemeral range: an outgoing connection can never take one in between (a CI run
failed with "address already in use" when they came from bind(0))."""

from __future__ import annotations

import socket

from chainsig_core.devnet import mpc_nodes


def test_ports_are_distinct_free_and_below_the_ephemeral_range():
    low = mpc_nodes._ephemeral_range_start()
    ports = mpc_nodes.free_ports(12)
    assert len(set(ports)) == 12
    assert all(mpc_nodes._FIXED_PORTS_FROM <= p < low for p in ports)
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_port_in_use_is_not_free():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert not mpc_nodes._can_listen(taken.getsockname()[1])

"""URL checks and redaction for messages: scheme and host only, never credentials or keys."""

from __future__ import annotations

import pytest

from chainsig_core.urls import redact_url


@pytest.mark.parametrize(("url", "shown"), [
    ("https://alice:s3cret@node.example:8545/v3/KEY123?apikey=K", "https://node.example:8545"),
    ("http://127.0.0.1:9", "http://127.0.0.1:9"),
    ("http://[::1]:8332/wallet/w", "http://[::1]:8332"),
    ("https://mempool.space/api", "https://mempool.space"),
    ("notaurl", "<URL without a host>"),
    ("http://[::1:8545/", "<unparseable URL>"),
])
def test_redact_url_keeps_scheme_host_and_port_only(url, shown):
    assert redact_url(url) == shown

"""Test helpers for chain-plugin authors: the conformance suite and a recording HTTP server.

Nothing here is imported by chainsig at run time; import it from tests only::

    from chainsig_core.testing import ChainConformanceTests, RecordingHTTPServer
"""

from __future__ import annotations

from .conformance import ChainConformanceTests
from .http_server import CannedResponse, RecordedRequest, RecordingHTTPServer

__all__ = ["CannedResponse", "ChainConformanceTests", "RecordedRequest", "RecordingHTTPServer"]

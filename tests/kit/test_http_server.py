"""RecordingHTTPServer under bad and concurrent requests: it answers, records, never dies."""

from __future__ import annotations

import json
import socket
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from chainsig_core.testing import RecordingHTTPServer


def raw_request(server: RecordingHTTPServer, data: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_malformed_requests_do_not_kill_it() -> None:
    with RecordingHTTPServer() as server:
        server.add("GET", "/ok", json={"ok": 1})
        assert b" 413 " in raw_request(server, b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: nope\r\n\r\n")
        assert b" 413 " in raw_request(server, b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999\r\n\r\n")
        assert b" 400 " in raw_request(server, b"\x00\x01garbage\r\n\r\n")
        raw_request(server, b"")  # connect and hang up
        assert get_json(server.url + "/ok") == {"ok": 1}
        assert [r.path for r in server.requests] == ["/x", "/x", "/ok"]


def test_concurrent_requests_all_recorded() -> None:
    with RecordingHTTPServer() as server:
        server.add("GET", "/n/", prefix=True, handler=lambda r: __import__(
            "chainsig_core.testing", fromlist=["CannedResponse"]).CannedResponse(json=r.path))
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: get_json(f"{server.url}/n/{i}"), range(40)))
        assert answers == [f"/n/{i}" for i in range(40)]
        assert sorted(r.path for r in server.requests) == sorted(f"/n/{i}" for i in range(40))
        server.clear()
        assert server.requests == []


def test_latest_route_wins_and_any_method() -> None:
    with RecordingHTTPServer() as server:
        server.add("*", "/r", json="first")
        server.add("*", "/r", json="second")
        request = urllib.request.Request(server.url + "/r", data=b"{}", method="PUT")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.loads(response.read()) == "second"
        assert server.requests_to("/r", "put")[0].body == b"{}"

"""Checking the RPC and REST URLs users give (``--rpc-url``, ``ChainEndpoint.url``).

A provider URL often carries a secret — ``user:password@`` or an API key in the path — so a
message about a bad URL quotes at most its scheme, never the URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import InvalidInputError


def check_http_url(url: object, what: str, where: str = "") -> str:
    """``url`` without surrounding blanks, if it is an ``http(s)://host…`` URL.

    Parameters
    ----------
    url:
        The URL as given.
    what:
        What the URL is, as the message's subject (``"--rpc-url"``, ``"the EVM RPC URL"``).
    where:
        Where the user set it, appended to the message (``" (--rpc-url, or rpc_url in the config)"``).

    Returns
    -------
    str
        The stripped URL.

    Raises
    ------
    InvalidInputError
        Not a string, not parseable, no host, or a scheme other than http/https.
    """
    if not isinstance(url, str):
        raise InvalidInputError(f"{what} must be a string URL, not {type(url).__name__}{where}")
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port  # ValueError for a port that is not a number in 0..65535
    except ValueError:
        raise InvalidInputError(f"{what} is not a valid URL{where}") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not host:
            raise InvalidInputError(f"{what} names no host after {scheme}://{where}")
        return text
    if scheme and "://" in text:
        raise InvalidInputError(f"{what} has scheme {scheme!r}: it must be http:// or https://{where}")
    raise InvalidInputError(f"{what} is not a URL: it does not start with http:// or https://{where}")


def redact_url(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, for messages — never its user, password, path or
    query, any of which may hold a provider's key (``https://node.example/v3/KEY``)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme or not host:
        return "<URL without a host>"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")

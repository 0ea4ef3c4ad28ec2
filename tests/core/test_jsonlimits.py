"""The bounded JSON decoder's string-skipping pattern: an unterminated string is consumed in one
match to the end of the body (it used to fail and rescan from every later quote: quadratic — a
32 KB body of lone quotes held a server's event loop for seconds)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from chainsig_core.jsonlimits import _STRING, nesting_exceeds


def test_an_unterminated_string_runs_to_the_end_in_one_match():
    body = b'["ok", "' + b"x" * 1000 + b'\\'
    match = _STRING.search(body, 7)
    assert match is not None and match.start() == 7 and match.end() == len(body)


@given(st.binary(max_size=300))
def test_the_pattern_matches_at_every_quote(body):
    """No quote is a failed match: the scan never backs up to try again from the next quote."""
    for position in range(len(body)):
        if body[position:position + 1] == b'"':
            assert _STRING.match(body, position) is not None


def test_lone_quotes_do_not_hide_depth():
    assert nesting_exceeds(b'"a' * 100 + b"[" * 200)  # paired quotes are strings; the brackets count
    assert nesting_exceeds(b"[" * 200 + b'"a' * 101)  # an odd quote runs to the end, after the brackets

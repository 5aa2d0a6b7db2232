"""The depth limit on request bodies: 32 levels pass, 33 do not, brackets inside strings do not count."""

from __future__ import annotations

import json

import pytest

from puraify.bodies import MAX_JSON_DEPTH, nests_too_deep, parse_json_body
from puraify.errors import BadRequestError


def nested(levels: int, filler: str = "") -> str:
    return "[" * levels + json.dumps(filler) + "]" * levels


def test_a_body_at_the_limit_parses_and_one_level_more_is_400():
    assert parse_json_body(nested(MAX_JSON_DEPTH))
    with pytest.raises(BadRequestError) as raised:
        parse_json_body(nested(MAX_JSON_DEPTH + 1))
    assert raised.value.code == "json_too_deep"


def test_brackets_and_escaped_quotes_inside_strings_do_not_count():
    # many brackets, so the scan runs, but all of them sit inside strings
    text = json.dumps({"a": "[[[{{{" * 20, "b": ['x"]]]]'], "c": 'a backslash \\ then "[" twice'})
    assert not nests_too_deep(text)
    assert nests_too_deep(nested(MAX_JSON_DEPTH + 1, filler="]]]]"))


def test_wide_bodies_with_many_brackets_are_not_deep():
    text = json.dumps({"events": [{"details": {"a": [1, {"b": 2}]}} for _ in range(500)]})
    assert not nests_too_deep(text)

"""A small evaluator of CloudWatch Logs JSON filter patterns, enough for the security
metric filters (infra/constructs/audit.py): `{ ($.a.b = "x") && ($.c != "y*") || ... }`,
`NOT EXISTS`, quoted or bare values and `*` wildcards. Tests run sample CloudTrail
events through it, so a filter is checked against the event it must catch (and one it
must not), not only as a string."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<paren>[()])|(?P<logic>&&|\|\|)|(?P<notexists>NOT\s+EXISTS)"
    r'|(?P<op>!=|=)|(?P<selector>\$(?:\.[A-Za-z0-9_]+)+)|"(?P<quoted>[^"]*)"|(?P<bare>[^\s()"=!&|]+))'
)
_MISSING = object()


def _tokens(pattern: str) -> list[tuple[str, str]]:
    body = pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError("a JSON filter pattern is wrapped in { }")
    body = body[1:-1]
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(body):
        if body[position:].strip() == "":
            break
        match = _TOKEN.match(body, position)
        if match is None:
            raise ValueError(f"cannot parse the pattern at: {body[position:]!r}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _lookup(event: dict[str, Any], selector: str) -> Any:
    value: Any = event
    for part in selector.split(".")[1:]:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], event: dict[str, Any]) -> None:
        self.tokens = tokens
        self.event = event
        self.position = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expression(self) -> bool:
        result = self.conjunction()
        while self._peek() == ("logic", "||"):
            self._take()
            right = self.conjunction()
            result = result or right
        return result

    def conjunction(self) -> bool:
        result = self.term()
        while self._peek() == ("logic", "&&"):
            self._take()
            right = self.term()
            result = result and right
        return result

    def term(self) -> bool:
        kind, text = self._take()
        if (kind, text) == ("paren", "("):
            result = self.expression()
            if self._take() != ("paren", ")"):
                raise ValueError("unbalanced parentheses")
            return result
        if kind != "selector":
            raise ValueError(f"expected a $.selector, got {text!r}")
        value = _lookup(self.event, text)
        kind, operator = self._take()
        if kind == "notexists":
            return value is _MISSING
        if kind != "op":
            raise ValueError(f"expected = or != after {text}")
        kind, expected = self._take()
        if kind not in ("quoted", "bare"):
            raise ValueError(f"expected a value after {text} {operator}")
        equal = value is not _MISSING and fnmatch.fnmatchcase(str(value), expected)
        return equal if operator == "=" else not equal


def matches(pattern: str, event: dict[str, Any]) -> bool:
    """Whether a CloudWatch Logs JSON filter pattern matches the (CloudTrail) event."""
    parser = _Parser(_tokens(pattern), event)
    result = parser.expression()
    if parser.position != len(parser.tokens):
        raise ValueError("trailing tokens in the pattern")
    return result

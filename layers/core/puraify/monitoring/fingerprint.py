"""Error fingerprints and severity rules.

A fingerprint groups errors that are "the same problem": error type, platform, engine, and the
message with everything that varies per occurrence (ids, numbers, tokens, timestamps, emails,
URLs' query strings) replaced by placeholders.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from puraify.monitoring.models import SEVERITIES

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b"), "<ts>"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#]*)\?[^\s#]*", re.I), r"\1?<query>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"), "<email>"),
    (re.compile(r"(?i)\b(bearer\s+|(?:token|key|secret|password)\s*[=:]\s*)\S+"), r"\1<secret>"),
    (re.compile(r"\b[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]{10,}\b"), "<token>"),
    (re.compile(r"\b[A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]*\d[A-Za-z0-9_-]{10,}\b"), "<token>"),
    # hex ids of 6+ characters holding a digit (request 8f1c2a); all-letter words such as "facade" stay
    (re.compile(r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)[0-9a-f]{6,}\b", re.I), "<id>"),
    (re.compile(r"\d+(\.\d+)?"), "<n>"),
]
_SPACE = re.compile(r"\s+")

DEFAULT_RULES: list[dict[str, str]] = [
    {
        "pattern": r"(?i)auth|token|credential|unauthori[sz]ed|forbidden|permission|expired|\b40[13]\b",
        "severity": "high",
    },
]


def normalize_message(message: str | None) -> str:
    """The message with per-occurrence values replaced: ``user 42 at 2025-..`` -> ``user <n> at <ts>``."""
    text = (message or "")[:1024]
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _SPACE.sub(" ", text).strip()


def fingerprint(error_type: str | None, platform: str | None, engine: str | None, message: str | None) -> str:
    """A short stable id of an error group."""
    parts = [error_type or "", (platform or "").lower(), (engine or "").lower(), normalize_message(message)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class SeverityRule:
    pattern: re.Pattern[str]
    severity: str


def parse_rules(text: str) -> list[SeverityRule]:
    """Severity rules from settings (a JSON list), or the built-in ones when empty."""
    raw = json.loads(text) if text.strip() else DEFAULT_RULES
    rules = []
    for rule in raw:
        if rule["severity"] not in SEVERITIES:
            raise ValueError(f"unknown severity {rule['severity']!r}")
        rules.append(SeverityRule(re.compile(rule["pattern"]), rule["severity"]))
    return rules


def severity_of(rules: list[SeverityRule], error_type: str | None, message: str | None, default: str = "medium") -> str:
    """The highest severity whose rule matches the error type or message; ``default`` otherwise."""
    text = f"{error_type or ''} {message or ''}"
    found = default
    for rule in rules:
        if rule.pattern.search(text) and SEVERITIES.index(rule.severity) > SEVERITIES.index(found):
            found = rule.severity
    return found


def at_least(severity: str, minimum: str) -> bool:
    """Whether ``severity`` is ``minimum`` or more severe."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(minimum)

"""Secrets never reach the logs: a filter masks API keys, bearer tokens and configured auth
tokens in every record, whatever logger wrote it, tracebacks included.

Two nets, because a secret is logged in more than one shape:

* a *known* secret (``add_secret``: auth tokens from config, keys from the environment, a
  database password) is replaced whole in each form a log line can hold it: as typed, as a
  JSON string body (``"`` and ``\\`` escaped, non-ASCII as ``\\uXXXX`` or not), as a Python
  ``repr`` body, and URL-quoted. Longer secrets go first, so one that contains another is not
  left half shown.
* an *unknown* one (a token a client presented that no config names) is found by the key it is
  logged under (``authToken``, ``Authorization``, ``x-api-key``, ``?token=``) and masked to the
  end of its value: a quoted value to its closing quote, escapes included, so a token with a
  space or a comma is masked whole; an unquoted one to the end of the line.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any
from urllib.parse import quote, quote_plus

_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
_UNQUOTED = r"[^\r\n\"'}\]]+"  # to the end of the line: a space may be part of it
_KEYED = [
    # a client's token (LSP initializationOptions, MCP/ACP _meta), logged before auth knows it
    r"auth_?token",
    r"authorization",
    r"x-api-key",
    r"(?:http_)?token",
]
_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9_\-]+"),
    re.compile(r"sk-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"([?&](?:access_)?token=)[^&\s#\"']+"),
    *(re.compile(rf"(?i)((?<![A-Za-z0-9_?&]){key}[\"']?\s*[:=]\s*)({_QUOTED}|{_UNQUOTED})")
      for key in _KEYED),
]
_extra_secrets: dict[str, tuple[str, ...]] = {}


def _forms(secret: str) -> tuple[str, ...]:
    """The shapes ``secret`` takes in a log line, longest first."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             repr(secret)[1:-1], quote(secret, safe=""), quote_plus(secret, safe="")}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def add_secret(value: str | None) -> None:
    """Mask this exact value too (auth tokens from config, keys from the environment)."""
    if value and len(value) >= 6 and value not in _extra_secrets:
        _extra_secrets[value] = _forms(value)


def _mask(match: re.Match[str]) -> str:
    if not match.groups():
        return "***"
    value = match.group(2) if (match.lastindex or 0) > 1 else ""
    quote_char = value[:1] if value[:1] in ("'", '"') else ""
    return match.group(1) + quote_char + "***" + quote_char


def redact_text(text: str) -> str:
    for secret in sorted(_extra_secrets, key=len, reverse=True):
        for form in _extra_secrets[secret]:
            if form in text:
                text = text.replace(form, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(_mask, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:  # the handler's formatter reuses exc_text
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def install_redaction() -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "VICTOR_AUTH_TOKEN", "VICTOR_HTTP_TOKEN"):
        add_secret(os.environ.get(name))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


# Config values shown to clients (victor/getConfig, A/B summaries, plugin errors): secrets masked
_SECRET_KEY = re.compile(r"(?i)(^|_)(api_?key|secret|password|authorization|auth_token|token)$")
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^@/\s]+@")
_SECRET_MAPS = {"headers", "env", "tokens"}  # every value (or, for tokens, every key) is secret


def redact(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        if key == "tokens":  # auth tokens are the mapping's keys
            return {f"***{i}": v for i, v in enumerate(value.values())}
        if key in _SECRET_MAPS:
            return {k: "***" for k in value}
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if value and _SECRET_KEY.search(key):
        return "***"
    if isinstance(value, str) and "://" in value:  # postgresql://user:secret@host/db
        return _URL_PASSWORD.sub(r"\1***@", value)
    return value

"""Secrets never reach the logs: a filter masks API keys, bearer tokens and configured auth
tokens in every record, whatever logger wrote it."""

from __future__ import annotations

import logging
import os
import re

_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9_\-]+"),
    re.compile(r"sk-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer\s+)?[^\s\"',}]+"),
    re.compile(r"(?i)(x-api-key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
    # a client's token (LSP initializationOptions, MCP/ACP _meta), logged before auth knows it
    re.compile(r"(?i)(auth_?token[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
]
_extra_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Mask this exact value too (auth tokens from config, keys from the environment)."""
    if value and len(value) >= 6:
        _extra_secrets.add(value)


def redact_text(text: str) -> str:
    for secret in _extra_secrets:
        text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction() -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "VICTOR_AUTH_TOKEN"):
        add_secret(os.environ.get(name))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())

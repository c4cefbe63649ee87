"""Advice in error messages that follows where a value actually came from.

"Set VICTOR_PROVIDER=scripted" is wrong advice when the project file says ``provider:
anthropic``: the file outranks the environment, so the variable would change nothing. The
advice names the source that set the key and a change that would win over it.
"""

from __future__ import annotations

from pathlib import Path

# Sources the environment outranks; for any other, the change must be made where the value is.
_BELOW_ENV = ("default", "env")


def provider_advice(provider: str, source: str, path: Path | None = None) -> str:
    """How to choose another provider, given the ``source`` that chose ``provider`` and the
    file behind that source, when it has one."""
    offline = "the offline `scripted` provider"
    if source in _BELOW_ENV:
        return (f"or choose {offline} with VICTOR_PROVIDER=scripted or `provider: scripted` "
                "in .victor/config.yml")
    if source == "file":
        return (f"or change `provider: {provider}` in {path or 'the project config file'} "
                f"(to {offline}: `provider: scripted`)")
    where = f"{source} ({path})" if path else source
    return f"or change the provider where it is set: config source {where}"

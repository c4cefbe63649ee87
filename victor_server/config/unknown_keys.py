"""Config keys nothing reads: named with the closest valid key, so a typo is never silent.

``Settings`` keeps keys it does not declare (a provider's own section such as ``openai:``, a
plugin's section, options a strategy reads by name), so validation alone cannot tell
``provder:`` from a deliberate key. This module can: a key is known when ``Settings`` or one of
its sections declares it, when it is one of the options read by name below, or when it names an
installed plugin. Anything else is reported as ``unknown config key `provder` in <source>: did
you mean `provider`?`` (difflib's closest match among the declared keys, nested ones included,
so ``max_tool`` suggests ``tool_selection.max_tools``).

Environment variables are not all ours (``VICTOR_SERVER_CMD`` belongs to a test harness), so a
top-level ``VICTOR_*`` key is reported only when it is close to a real key; a nested one
(``VICTOR_TOOL_SELECTION__STRATGY``) always is.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import Any

from pydantic import BaseModel

from victor_server.settings import Settings

# Options read by name where they are used rather than declared as fields.
READ_BY_NAME: dict[str, set[str]] = {
    "": {"ab_variant"},  # set by the A/B config provider
    "tool_selection": {"strategy_options", "max_cost_tier", "domain"},
    "analytics": {"prices"},
    "store": {"url_file", "pool_size"},
}
_ENV_CUTOFF = 0.75  # how close an environment variable must be to a key to be called a typo


def _sections() -> dict[str, type[BaseModel]]:
    sections: dict[str, type[BaseModel]] = {}
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) \
                and name != "plugins":  # the plugins section is keyed by plugin names
            sections[name] = annotation
    return sections


SECTIONS = _sections()
TOP_LEVEL = set(Settings.model_fields) | READ_BY_NAME[""]
# every declared key by its last part, for suggestions: max_tools -> tool_selection.max_tools
_SUGGESTIONS: dict[str, str] = {
    **{f"{s}.{leaf}": f"{s}.{leaf}" for s, m in SECTIONS.items() for leaf in m.model_fields},
    **{leaf: f"{s}.{leaf}" for s, m in SECTIONS.items() for leaf in m.model_fields},
    **{name: name for name in Settings.model_fields},
}


def closest_key(key: str, cutoff: float = 0.6) -> str | None:
    match = get_close_matches(key, list(_SUGGESTIONS), n=1, cutoff=cutoff)
    return _SUGGESTIONS[match[0]] if match else None


def _plugin_names() -> set[str]:
    from victor_server.plugins import GROUPS, available

    return {name for group in GROUPS for name in available(group)}


def _unknown(data: dict[str, Any], prefix: str,
             from_env: bool = False) -> list[tuple[str, str, str | None]]:
    """The keys of one settings mapping nothing reads: (dotted key, the key within ``data``,
    suggestion)."""
    found: list[tuple[str, str, str | None]] = []
    for key, value in data.items():
        if key in SECTIONS:
            if isinstance(value, dict):
                known = set(SECTIONS[key].model_fields) | READ_BY_NAME.get(key, set())
                found += [(f"{prefix}{key}.{sub}", f"{key}.{sub}", closest_key(f"{key}.{sub}"))
                          for sub in value if sub not in known]
        elif key not in TOP_LEVEL:
            suggestion = closest_key(key, _ENV_CUTOFF if from_env else 0.6)
            if not from_env or suggestion is not None:
                found.append((f"{prefix}{key}", key, suggestion))
    return found


def unknown_key_errors(layers: Iterable[tuple[str, dict[str, Any]]],
                       origins: dict[str, str]) -> list[str]:
    """One message per unknown key in each source's own data (defaults excluded)."""
    # (source, dotted key, the key within its settings mapping, suggestion)
    found: list[tuple[str, str, str, str | None]] = []
    for source, data in layers:
        if source == "default":
            continue
        found += [(source, *unknown) for unknown in _unknown(data, "", source == "env")]
        # settings nested in settings: what an A/B variant and a tenant's row set
        ab_test = data.get("ab_test")
        variants = ab_test.get("variants") if isinstance(ab_test, dict) else None
        for name, variant in variants.items() if isinstance(variants, dict) else ():
            if isinstance(variant, dict):
                found += [(source, *unknown)
                          for unknown in _unknown(variant, f"ab_test.variants.{name}.")]
        tenants = data.get("tenants")
        for name, tenant in tenants.items() if isinstance(tenants, dict) else ():
            config = tenant.get("config") if isinstance(tenant, dict) else None
            if isinstance(config, dict):
                found += [(source, *unknown)
                          for unknown in _unknown(config, f"tenants.{name}.config.")]
    if not found:
        return []
    plugins = _plugin_names()  # only now: listing entry points costs a scan of every package
    messages = []
    for source, key, local, suggestion in found:
        if local in plugins:
            continue
        where = origins.get(source, source)
        if source == "env":
            where = f"the environment (VICTOR_{key.upper().replace('.', '__')})"
        message = f"unknown config key `{key}` in {where}"
        if suggestion is not None:
            message += f": did you mean `{suggestion}`?"
        messages.append(message)
    return messages

"""Tools from plugins: the ``victor_server.tools`` entry-point group.

Entry points are found and imported through the plugin registry (``victor_server.plugins``),
the one route every extension kind takes. An entry point names a class or factory; it is called
with its options (``plugins.<name>``, or the tools config section under the entry point's own
name) and returns a ``Tool`` or a list of them. A plugin that fails to import, raises, or
returns something that is not a tool is recorded in the registry, logged once and skipped; the
server starts without it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from victor_server.tools.base import Tool, ToolSpec

logger = logging.getLogger(__name__)

GROUP = "victor_server.tools"


def _as_tools(produced: Any) -> list[Tool]:
    items = list(produced) if isinstance(produced, list | tuple) else [produced]
    for item in items:
        if not isinstance(item, Tool) or not isinstance(item.spec, ToolSpec):
            raise TypeError(f"{item!r} is not a Tool (needs a ToolSpec `spec` and async `run`)")
    return items


def _mark_plugin(tool: Tool, plugin: str) -> None:
    if tool.spec.source != "builtin":
        return
    try:  # say where it came from, for selection and analytics; a frozen tool keeps its spec
        tool.spec = dataclasses.replace(tool.spec, source=plugin)
    except (AttributeError, TypeError):
        logger.debug("tool %s from plugin %s keeps source=builtin", tool.spec.name, plugin)


def load_plugin_tools(options: dict[str, Any], disabled: Iterable[str] = (),
                      plugin_options: dict[str, Any] | None = None) -> list[Tool]:
    from victor_server.plugins import REGISTRY

    tools: list[Tool] = []
    for extension in REGISTRY.installed(GROUP, tuple(disabled)):
        name = extension.name
        own = (plugin_options or {}).get(name, options.get(name))
        built = REGISTRY.try_create(GROUP, name, dict(own) if isinstance(own, dict) else {})
        if built is None:
            continue
        try:
            produced = _as_tools(built)
        except TypeError as exc:
            REGISTRY.failed(extension, "construction", exc)
            continue
        for tool in produced:
            _mark_plugin(tool, name)
            tools.append(tool)
    return tools


def plugin_tool_failed(tool: Tool, exc: BaseException) -> bool:
    """Report a plugin tool that raised while running (logged once); False for other tools."""
    from victor_server.plugins import REGISTRY

    if tool.spec.source not in REGISTRY.names(GROUP):
        return False
    REGISTRY.call_failed(GROUP, tool.spec.source, exc)
    return True

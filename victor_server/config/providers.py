"""Config providers: each yields a nested dict for a session; higher priority wins.

The shape is victor-ai's ``IConfigProvider``: ``priority() -> int`` and
``async get_config(session_id) -> dict``. ``name`` is what ``victor/getConfig`` reports as a
key's source. Tenant and A/B providers live beside their features (``victor_server.tenancy``).
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import yaml

logger = logging.getLogger(__name__)

# The order of the built-in sources: override > tenant > ab_test > file > env > default.
PRIORITY = {"default": 0, "env": 10, "file": 20, "ab_test": 30, "tenant": 40, "override": 50}
# Where installed config providers rank: above the project file and the environment, below A/B
# variants, tenant rows and per-request overrides. Among themselves they rank by their own
# ``priority()``. A provider that sets ``absolute_priority = True`` is placed by its
# ``priority()`` on the built-in scale above instead (45 outranks tenant rows); a per-request
# override is applied last whatever any provider says.
PLUGIN_PRIORITY = 25

# VICTOR_* variables that steer the process itself rather than naming a config key.
_RESERVED_ENV = {"DB", "AUTH_TOKEN", "CONFIG", "WORKSPACE", "LOG_FILE", "BENCH"}
CONFIG_FILE_NAMES = ("config.yml", "config.yaml", "config.json")


@runtime_checkable
class ConfigProvider(Protocol):
    name: str

    def priority(self) -> int: ...

    async def get_config(self, session_id: str | None) -> dict[str, Any]: ...


class EnvironmentConfigProvider:
    """``VICTOR_<KEY>``, nested with ``__``: ``VICTOR_TOOL_SELECTION__STRATEGY=keyword``.

    Values are read as YAML scalars so ``0.7``, ``true`` and ``[a, b]`` arrive typed.
    """

    name = "env"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ if environ is not None else os.environ
        # raw string -> parsed value: this runs on every request, and YAML parsing was most of
        # a keyword selectTools' time (docs/profile-requests.txt)
        self._parsed: dict[str, Any] = {}

    def priority(self) -> int:
        return PRIORITY["env"]

    def _parse(self, raw: str) -> Any:
        if raw not in self._parsed:
            try:
                value = yaml.safe_load(raw) if raw.strip() else raw
            except yaml.YAMLError:
                value = raw
            if len(self._parsed) > 1024:
                self._parsed.clear()
            self._parsed[raw] = value
        value = self._parsed[raw]
        return copy.deepcopy(value) if isinstance(value, dict | list) else value

    async def get_config(self, session_id: str | None) -> dict[str, Any]:
        config: dict[str, Any] = {}
        # keys first: os.environ decodes each value it yields, and few variables are ours
        for var in list(self._environ):
            if not var.startswith("VICTOR_") or var[7:] in _RESERVED_ENV or not var[7:]:
                continue
            raw = self._environ.get(var)
            if raw is None:
                continue
            path = [part.lower() for part in var[7:].split("__") if part]
            value = self._parse(raw)
            node = config
            for part in path[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
            else:
                node[path[-1]] = value
        return config


class ConfigFileError(Exception):
    """A project config file that cannot be read; the message names the file."""


class FileConfigProvider:
    """The project file (``.victor/config.yml|yaml|json``), re-read when its mtime changes."""

    name = "file"

    def __init__(self, path: Path | None = None, workspace: Path | None = None,
                 priority: int = PRIORITY["file"]) -> None:
        self._explicit = path
        self._workspace = workspace or Path.cwd()
        self._priority = priority
        self._cache: tuple[Path, float, dict[str, Any]] | None = None
        self.last_error: str | None = None
        # joined once: ``path`` is looked up on every request
        self._candidates = [self._workspace / ".victor" / name for name in CONFIG_FILE_NAMES]

    def priority(self) -> int:
        return self._priority

    @property
    def path(self) -> Path | None:
        if self._explicit is not None:
            return self._explicit
        for candidate in self._candidates:
            if candidate.is_file():
                return candidate
        return None

    async def get_config(self, session_id: str | None) -> dict[str, Any]:
        path = self.path
        if path is None or not path.is_file():
            if self._explicit is not None:
                self.last_error = f"{self._explicit}: config file not found"
            return {}
        mtime = path.stat().st_mtime_ns
        if self._cache and self._cache[0] == path and self._cache[1] == mtime:
            return self._cache[2]
        try:
            data = load_config_file(path)
            self.last_error = None
        except ConfigFileError as exc:
            # Keep serving on what we had (or defaults): a typo must not take the server down.
            # The coordinator reports last_error (getConfig ``errors``, logged once).
            self.last_error = str(exc)
            data = self._cache[2] if self._cache else {}
        self._cache = (path, mtime, data)
        return data


def load_config_file(path: Path) -> dict[str, Any]:
    """The file's mapping; a syntax error is one line naming file, line and column."""
    still = "other config sources still apply"
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(f"{path}:{exc.lineno}:{exc.colno}: JSON syntax error: {exc.msg}; "
                              f"{still}") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "cannot parse"
        if exc.context and exc.context_mark and exc.problem:
            problem += (f" ({exc.context} at line {exc.context_mark.line + 1}, "
                        f"column {exc.context_mark.column + 1})")
        raise ConfigFileError(f"{where}: YAML syntax error: {problem}; {still}") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigFileError(f"{path}: cannot read config: {reason}; {still}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: the top level must be a mapping of keys")
    return data


class PluginConfigProvider:
    """A user's config provider (victor-ai's ``priority()`` / ``get_config(session_id)``) as a
    source named by its entry point.

    It never raises into the coordinator: an exception, or a result that is not a mapping,
    makes the source empty for that request and goes to ``on_error(name, exc)`` (the registry
    records it, logs it once and reports it; ``on_error(name, None)`` when it works again), or
    without a hook to ``last_error``. ``session_id`` is ``""`` when there is none, so a
    ``session_id.split(':')`` works for server-wide lookups too; a plugin that sets
    ``session_scoped = True`` (an A/B test's coordinator) is not asked then.
    """

    def __init__(self, name: str, plugin: Any,
                 on_error: Callable[[str, BaseException | None], None] | None = None) -> None:
        self.name = name
        self.plugin = plugin
        self.on_error = on_error
        self.last_error: str | None = None
        self._failing = False
        self.absolute = getattr(plugin, "absolute_priority", False) is True
        self.plugin_priority = self._own_priority()

    def _own_priority(self) -> int:
        try:
            own = self.plugin.priority() if hasattr(self.plugin, "priority") else 0
            return int(own)
        except Exception as exc:
            self._failed(exc)
            return 0

    def priority(self) -> int:
        return self.plugin_priority if self.absolute else PLUGIN_PRIORITY

    def _failed(self, exc: BaseException) -> None:
        self._failing = True
        if self.on_error is not None:
            self.on_error(self.name, exc)
            return
        self.last_error = f"config provider {self.name}: {type(exc).__name__}: {exc}"
        logger.error("%s", self.last_error)

    async def get_config(self, session_id: str | None) -> dict[str, Any]:
        if not session_id and getattr(self.plugin, "session_scoped", False) is True:
            return {}  # it configures sessions only: not asked, so neither failed nor working
        try:
            data = self.plugin.get_config(session_id or "")
            if inspect.isawaitable(data):
                data = await data
            if data is None:
                data = {}
            if not isinstance(data, Mapping):
                raise TypeError(f"get_config returned {type(data).__name__}, not a mapping")
        except Exception as exc:
            self._failed(exc)
            return {}
        if self._failing:
            self._failing, self.last_error = False, None
            if self.on_error is not None:
                self.on_error(self.name, None)
        return dict(data)


class StaticConfigProvider:
    """A fixed dict under a given source name (defaults, per-request overrides, tests)."""

    def __init__(self, name: str, config: dict[str, Any], priority: int | None = None) -> None:
        self.name = name
        self._config = config
        self._priority = PRIORITY.get(name, 25) if priority is None else priority

    def priority(self) -> int:
        return self._priority

    async def get_config(self, session_id: str | None) -> dict[str, Any]:
        return self._config

"""The plugin registry: every kind of extension, built-in or installed, through one route.

Each kind is an entry-point group (``victor_server.<kind>``). This module is the only place that
reads entry points: ``Registry.scan`` registers each one through ``Registry.register``, and the
built-ins (the ``BUILTINS`` table below, every kind, config sources and tools included) go
through ``register_builtin`` into the same function at import of this module, so a built-in and
a user's package differ only in the ``package`` they name (``victor-server`` for built-ins). A
built-in's name cannot be taken over by a plugin (the plugin is reported as shadowed and
skipped).

Built-ins are built by the code that uses them, as plugins of their kind are, except the config
sources and tools the server wires itself (``WIRED``: the environment, the project file, tenant
rows, A/B variants and per-request values need the store and the workspace; the file tools
need the workspace's protection rules). Those are listed, and marked ``active`` by the code that
builds them (``Registry.in_use``), but never built a second time from here.

Every extension has a status the ``victor-server plugins`` command, ``victor/getConfig``
``errors`` and the editors' health checks show: ``registered`` (known, not used yet), ``active``
(loaded and built), ``disabled`` (named in ``plugins.disabled``) or ``failed`` with the stage
(import, construction, call) and the error. A failure is logged once per distinct error, and
the caller skips the plugin: one broken package never takes the server down.

Options reach a plugin one way for every kind: ``plugins: {<name>: {option: value}}`` in
config (places that already name a strategy or exporter inline keep working), passed as keyword
arguments matched to the constructor's signature (or as one dict when it takes a single
positional parameter). A relative path in an option whose parameter is a ``Path`` or whose name
ends in ``path``, ``dir`` or ``file`` resolves against the workspace, not the process's
directory; parameters named ``workspace``, ``project_path`` or ``settings`` are filled in when
config does not set them. Plugin code runs with ``sys.stdout`` pointing at stderr while it is
imported and built (the protocol faces also write to a private copy of the original stdout, so a
``print()`` at call time cannot corrupt the stream either).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import inspect
import logging
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from victor_server.errors import VictorError

logger = logging.getLogger(__name__)

PACKAGE = "victor-server"
KINDS = ("config_providers", "prompt_contributors", "compaction_strategies",
         "tool_selection_strategies", "analytics_exporters", "middleware", "providers", "tools")
GROUPS = tuple(f"victor_server.{kind}" for kind in KINDS)

_PATH_OPTION = re.compile(r"(^|_)(path|dir|directory|file)$")


class PluginNotFound(LookupError):
    pass


class PluginFailed(RuntimeError):
    """A plugin that could not be imported or built; the message says which and why."""


class PluginDisabled(PluginFailed):
    """A plugin config names that ``plugins.disabled`` turns off."""


@dataclass
class Extension:
    kind: str
    name: str
    target: str  # "module:attribute"
    package: str
    builtin: bool = False
    wired: bool = False  # a built-in the server builds itself (listed, never built from here)
    # registered (not imported yet) | loaded (imports, not in use) | active (built, in use) |
    # disabled (plugins.disabled) | failed (see stage, error) | shadowed (a built-in's name)
    status: str = "registered"
    stage: str | None = None  # import | construction | call, when failed
    error: str | None = None
    entry_point: Any = field(default=None, repr=False)  # loads an installed plugin

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "package": self.package,
                "target": self.target, "builtin": self.builtin, "wired": self.wired,
                "status": self.status,
                "stage": self.stage, "error": self.error}


def kind_of(group_or_kind: str) -> str:
    kind = group_or_kind.rsplit(".", 1)[-1]
    if kind not in KINDS:
        raise ValueError(f"unknown plugin kind {group_or_kind!r}")
    return kind


@contextlib.contextmanager
def plugin_output() -> Iterator[None]:
    """While plugin code runs: its ``print()`` goes to stderr, never to the protocol stream."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


class Registry:
    def __init__(self) -> None:
        self._extensions: dict[str, dict[str, Extension]] = {kind: {} for kind in KINDS}
        self._loaded: dict[tuple[str, str], Any] = {}
        self._scanned = False
        self._scanned_path: tuple[str, ...] = ()
        self._logged: set[tuple[str, str, str]] = set()

    # -- registration ----------------------------------------------------------------------
    def register(self, kind: str, name: str, target: str, package: str = PACKAGE,
                 builtin: bool = False, entry_point: Any = None,
                 wired: bool = False) -> Extension:
        kind = kind_of(kind)
        existing = self._extensions[kind].get(name)
        extension = Extension(kind, name, target, package, builtin, wired and builtin,
                              entry_point=entry_point)
        if existing is not None and existing.builtin and not builtin:
            extension.status = "shadowed"
            extension.error = f"the name {name!r} is a built-in {kind} and keeps that meaning"
            self._extensions[kind][f"{name}@{package}"] = extension
            self._log_once(extension, logging.WARNING)
            return extension
        self._extensions[kind][name] = extension
        return extension

    def scan(self, again: bool = False) -> None:
        """Register every installed entry point: once, and again when ``sys.path`` changed or
        when asked (a name looked up and not found asks, so a package installed while the
        server runs is found)."""
        if self._scanned and not again and self._scanned_path == tuple(sys.path):
            return
        self._scanned, self._scanned_path = True, tuple(sys.path)
        # one pass over the installed distributions (a call per group reads them all each time)
        found = importlib.metadata.entry_points()
        select = getattr(found, "select", None)
        for kind in KINDS:
            known = self._extensions[kind]
            group = f"victor_server.{kind}"
            for ep in select(group=group) if select is not None else \
                    importlib.metadata.entry_points(group=group):
                dist = getattr(ep, "dist", None)
                package = dist.name if dist is not None else "?"
                current = known.get(ep.name)
                if current is not None and current.target == ep.value and \
                        current.package == package:
                    continue
                if f"{ep.name}@{package}" in known:
                    continue
                if current is not None and not current.builtin:
                    self._loaded.pop((kind, ep.name), None)  # reinstalled: load it afresh
                self.register(kind, ep.name, ep.value, package, entry_point=ep)

    def extensions(self, kind: str | None = None) -> list[Extension]:
        self.scan()
        kinds = [kind_of(kind)] if kind else list(KINDS)
        return [e for k in kinds for e in self._extensions[k].values()]

    def get(self, kind: str, name: str) -> Extension:
        self.scan()
        extension = self._extensions[kind_of(kind)].get(name)
        if extension is None:
            self.scan(again=True)
            extension = self._extensions[kind_of(kind)].get(name)
        if extension is None:
            raise PluginNotFound(f"no {kind_of(kind).rstrip('s')} named {name!r}; "
                                 f"available: {', '.join(self.names(kind)) or 'none'}")
        return extension

    def names(self, kind: str) -> list[str]:
        """The names config can choose (the built-ins the server wires itself are not)."""
        return sorted(e.name for e in self.extensions(kind)
                      if e.status != "shadowed" and not e.wired)

    def installed(self, kind: str, disabled: list[str] | tuple[str, ...] = ()) \
            -> list[Extension]:
        """The extensions of ``kind`` to build, minus those named (marked ``disabled``); the
        built-ins the server wires itself are not among them."""
        on = []
        for extension in self.extensions(kind):
            if extension.status == "shadowed" or extension.wired:
                continue
            if extension.name in disabled:
                extension.status, extension.error = "disabled", None
                continue
            on.append(extension)
        return on

    def in_use(self, kind: str, name: str, status: str = "active") -> None:
        """A built-in the server built (or left out: ``disabled``) itself; other names are
        left alone."""
        extension = self._extensions[kind_of(kind)].get(name)
        if extension is not None and extension.builtin:
            extension.status = status

    # -- loading and building ----------------------------------------------------------------
    def load(self, kind: str, name: str) -> Any:
        """The class, factory or object registered as ``name``; PluginFailed when it does not
        import (recorded and logged once), PluginNotFound when nobody registered it."""
        extension = self.get(kind, name)
        key = (extension.kind, name)
        if key not in self._loaded:
            try:
                with plugin_output():
                    self._loaded[key] = extension.entry_point.load() \
                        if extension.entry_point is not None else resolve(extension.target)
            except Exception as exc:
                raise self.failed(extension, "import", exc) from exc
            if extension.status == "registered":
                extension.status = "loaded"  # imports; not built by anything yet
        return self._loaded[key]

    def create(self, kind: str, name: str, options: dict[str, Any] | None = None, *,
               ready: Callable[[Any], bool] | None = None,
               inject: dict[str, Any] | None = None,
               disabled: list[str] | tuple[str, ...] = ()) -> Any:
        """Load and build ``name`` with its options; PluginFailed (recorded) when it cannot.

        ``ready(target)`` says when what the entry point names is already the plugin (an
        object or coroutine function of the kind's shape) rather than its factory. ``inject``
        offers values by parameter name (``workspace``, ``settings``, ...) for parameters
        config does not set. A name in ``disabled`` raises PluginDisabled."""
        if name in disabled:
            extension = self.get(kind, name)
            extension.status = "disabled"
            raise PluginDisabled(f"{extension.kind} {name!r} is listed in plugins.disabled")
        factory = self.load(kind, name)
        extension = self.get(kind, name)
        if ready is not None and ready(factory):
            extension.status = "active"
            return factory
        try:
            with plugin_output():
                built = instantiate(factory, options, inject=inject)
        except VictorError:
            raise  # a deliberate, coded refusal (a provider without its API key): not a bug
        except Exception as exc:
            raise self.failed(extension, "construction", exc) from exc
        extension.status = "active"
        return built

    def try_create(self, kind: str, name: str, options: dict[str, Any] | None = None,
                   **kwargs: Any) -> Any | None:
        """``create``, or None when the plugin failed (already logged and recorded)."""
        try:
            return self.create(kind, name, options, **kwargs)
        except PluginFailed:
            return None

    # -- failures ----------------------------------------------------------------------------
    def reporter(self, kind: str) -> Callable[[str, BaseException | None], None]:
        """The hook adapters call when a plugin raises (``exc``) or works again (``None``)."""
        def report(name: str, exc: BaseException | None) -> None:
            if exc is not None:
                self.call_failed(kind, name, exc)
                return
            extension = self._extensions[kind_of(kind)].get(name)
            if extension is not None and extension.status == "failed":
                extension.status = "active"  # stage and error stay, as the last error
        return report

    def failed(self, extension: Extension | tuple[str, str], stage: str,
               exc: BaseException) -> PluginFailed:
        """Record that a plugin failed at ``stage``; logs once per distinct error."""
        if isinstance(extension, tuple):
            extension = self.get(*extension)
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        extension.status, extension.stage, extension.error = "failed", stage, message
        self._log_once(extension, logging.ERROR)
        return PluginFailed(f"{extension.kind} plugin {extension.name!r} "
                            f"({extension.package}) failed at {stage}: {message}")

    def call_failed(self, kind: str, name: str, exc: BaseException) -> str:
        """A plugin raised while running: recorded (if registered), logged once; the reason."""
        try:
            return str(self.failed(self.get(kind, name), "call", exc))
        except PluginNotFound:  # an object handed in directly (the Python API)
            reason = f"{kind} {name!r} failed at call: {type(exc).__name__}: {exc}"
            key = (kind, name, reason)
            if key not in self._logged:
                self._logged.add(key)
                logger.error("%s", reason)
            return reason

    def _log_once(self, extension: Extension, level: int) -> None:
        key = (extension.kind, extension.name, f"{extension.stage}:{extension.error}")
        if key in self._logged:
            return
        self._logged.add(key)
        logger.log(level, "%s plugin %s (%s) %s at %s and is skipped: %s", extension.kind,
                   extension.name, extension.package, extension.status, extension.stage,
                   extension.error)

    def errors(self) -> list[str]:
        """One line per failed plugin, for ``victor/getConfig`` ``errors``."""
        return [f"plugin {e.kind}/{e.name} ({e.package}) failed at {e.stage}: {e.error}"
                for e in self.extensions() if e.status == "failed"]


def resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    obj: Any = import_module(module)
    for part in filter(None, attribute.split(".")):
        obj = getattr(obj, part)
    return obj


def plugin_options(settings: Any, name: str) -> dict[str, Any]:
    """``plugins.<name>`` from config: the options a plugin is built with (``{}`` when none)."""
    section = getattr(settings, "plugins", None)
    extra = getattr(section, "model_extra", None) or {}
    options = extra.get(name)
    return dict(options) if isinstance(options, dict) else {}


def _signature(factory: Callable[..., Any]) -> list[inspect.Parameter] | None:
    try:
        return list(inspect.signature(factory, eval_str=True).parameters.values())
    except Exception:  # no signature to read, or annotations that do not evaluate
        try:
            return list(inspect.signature(factory).parameters.values())
        except (TypeError, ValueError):
            return None


def _resolve_paths(params: list[inspect.Parameter], options: dict[str, Any],
                   workspace: Path) -> dict[str, Any]:
    by_name = {p.name: p for p in params}
    resolved = dict(options)
    for key, value in options.items():
        param = by_name.get(key)
        annotation = "" if param is None or param.annotation is param.empty \
            else str(param.annotation)
        if not isinstance(value, str) or "://" in value:
            continue
        wants_path = "Path" in annotation
        if not (wants_path or _PATH_OPTION.search(key)):
            continue
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = workspace / path
        resolved[key] = path if wants_path else str(path)
    return resolved


def _adapted_objects(options: dict[str, Any]) -> dict[str, Any]:
    """Options victor-ai's classes take as objects, given in config as data: a ``db_connection``
    URL becomes the connection they query (``victor_server.db_connection``), a
    ``domain_classifier`` mapping of domain -> words the classifier they await."""
    value = options.get("db_connection")
    if isinstance(value, str):
        from victor_server.db_connection import DatabaseConnection

        options = {**options, "db_connection": DatabaseConnection.shared(value)}
    value = options.get("domain_classifier")
    if isinstance(value, dict):
        from victor_server.domain_classifier import KeywordDomainClassifier

        options = {**options, "domain_classifier": KeywordDomainClassifier(value)}
    return options


def instantiate(factory: Callable[..., Any], options: dict[str, Any] | None, *,
                inject: dict[str, Any] | None = None) -> Any:
    """Call a plugin's class or factory with its options (empty when none).

    Options go in as keyword arguments when the signature takes them (``Strategy(keep=2)``,
    classes written for victor-ai's coordinator API), and as one dict when it takes a single
    positional parameter (``factory(options)``). ``inject`` fills parameters of those names
    that options leave out (with ``workspace`` among them, relative paths resolve against it).
    Errors raised by the plugin itself propagate unchanged.
    """
    options = _adapted_objects(dict(options or {}))
    params = _signature(factory)
    if params is None:
        return factory(**options)
    inject = {k: v for k, v in (inject or {}).items() if v is not None}
    if isinstance(inject.get("workspace"), Path):
        options = _resolve_paths(params, options, inject["workspace"])
        inject.setdefault("project_path", str(inject["workspace"]))
    provided = set(options)
    for param in params:
        if param.name in inject and param.name not in options:
            options[param.name] = inject[param.name]
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = {p.name for p in params if p.kind in by_keyword}
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    required = {p.name for p in params if p.kind in by_keyword and p.default is p.empty}
    if (takes_kwargs or set(options) <= names) and required <= set(options):
        return factory(**options)
    positional = [p for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                   inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    # one dict for a factory taking its options as one parameter; a missing named argument is
    # left to raise the plugin's own TypeError, not filled with a dict
    if len(positional) == 1 and (positional[0].name in ("options", "config", "opts") or
                                 provided - names):
        return factory({k: v for k, v in options.items() if k in provided})
    return factory(**options)


REGISTRY = Registry()

# Built-ins as "module:attribute" strings, so registering them imports nothing heavy.
BUILTINS: dict[str, dict[str, str]] = {
    "prompt_contributors": {
        name: f"victor_server.prompts.defaults:{name}" for name in (
            "base", "project_standards", "instruction_files", "compliance", "tech_stack",
            "code_style", "language")},
    "compaction_strategies": {
        "recent": "victor_server.context.strategies.recent:RecentStrategy",
        "recent_important":
            "victor_server.context.strategies.recent_important:RecentImportantStrategy",
        "semantic": "victor_server.context.strategies.semantic:SemanticStrategy",
        "task_aware": "victor_server.context.strategies.task_aware:TaskAwareStrategy",
        "summarize": "victor_server.context.strategies.summarize:SummarizeStrategy",
    },
    "tool_selection_strategies": {
        name: f"victor_server.selection.strategies:{cls}" for name, cls in (
            ("keyword", "KeywordStrategy"), ("semantic", "SemanticStrategy"),
            ("hybrid", "HybridStrategy"), ("cost_aware", "CostAwareStrategy"),
            ("domain", "DomainStrategy"), ("all", "AllStrategy"))},
    "analytics_exporters": {
        "sqlite": "victor_server.analytics.exporters:SQLiteExporter",
        "jsonl": "victor_server.analytics.exporters:JSONLExporter",
        "webhook": "victor_server.analytics.exporters:WebhookExporter",
        "websocket": "victor_server.analytics.exporters:WebSocketExporter",
        "prometheus": "victor_server.analytics.prometheus:PrometheusExporter",
        "postgresql": "victor_server.analytics.postgresql_exporter:PostgreSQLExporter",
    },
    "providers": {
        "anthropic": "victor_server.providers.anthropic:AnthropicProvider",
        "openai": "victor_server.providers.openai:OpenAIProvider",
        "scripted": "victor_server.providers.scripted:ScriptedProvider",
    },
    "middleware": {
        "logging": "victor_server.middleware.request_log:RequestLoggingMiddleware",
        "auth": "victor_server.middleware.auth:AuthMiddleware",
        "rate_limit": "victor_server.middleware.rate_limit:RateLimitMiddleware",
    },
}
# Built by the server's own wiring (see the module's docstring), by kind and name.
WIRED: dict[str, dict[str, str]] = {
    "config_providers": {  # lowest to highest priority
        "default": "victor_server.settings:Settings",
        "env": "victor_server.config.providers:EnvironmentConfigProvider",
        "file": "victor_server.config.providers:FileConfigProvider",
        "ab_test": "victor_server.tenancy.ab_test:ABTestConfigProvider",
        "tenant": "victor_server.tenancy.tenants:TenantConfigProvider",
        "override": "victor_server.config.providers:StaticConfigProvider",
    },
    "prompt_contributors": {
        "tenant_prompt": "victor_server.tenancy.tenants:TenantPromptContributor",
    },
    "tools": {
        "read": "victor_server.tools.file_tools:ReadTool",
        "write": "victor_server.tools.file_tools:WriteTool",
        "edit": "victor_server.tools.file_tools:EditTool",
        "ls": "victor_server.tools.file_tools:LsTool",
        "search": "victor_server.tools.search_tool:SearchTool",
        "plan": "victor_server.tools.plan_tool:PlanTool",
        "bash": "victor_server.tools.bash_tool:BashTool",
    },
}


# -- the module-level API the rest of the server uses ------------------------------------------

def register_builtin(group: str, name: str, target: str, wired: bool = False) -> None:
    """Register one of the server's own extensions: the route an entry point takes, under the
    package ``victor-server``."""
    REGISTRY.register(group, name, target, PACKAGE, builtin=True, wired=wired)


for _kind, _targets in BUILTINS.items():
    for _name, _target in _targets.items():
        register_builtin(_kind, _name, _target)
for _kind, _targets in WIRED.items():
    for _name, _target in _targets.items():
        register_builtin(_kind, _name, _target, wired=True)


def available(group: str) -> list[str]:
    return REGISTRY.names(group)

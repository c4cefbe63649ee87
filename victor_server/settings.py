"""The one settings tree. Every field has a default, so an empty config is a working config.

Config *sources* (defaults, environment, project file, A/B variant, tenant rows, per-request
override) each produce a plain nested dict; the ConfigCoordinator merges them by priority and
validates the result into ``Settings`` here. Unknown top-level keys are kept (plugins read their
own sections) but never break validation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SelectionStrategyName = str  # keyword|semantic|hybrid|cost_aware|domain|all or a plugin's name
CompactionStrategyName = str  # recent|recent_important|semantic|task_aware|summarize or a plugin


class ToolHints(BaseModel):
    """Selection metadata added to a tool by name (MCP tools carry none of their own)."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)


class ToolSelectionSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    strategy: SelectionStrategyName = "hybrid"
    hybrid_alpha: float = Field(0.6, ge=0.0, le=1.0)
    max_tools: int = Field(8, ge=1, le=128)
    # keep a session's tool list stable across turns so the provider's prompt cache holds
    # (victor_server/selection/sticky.py); false selects afresh every turn
    sticky: bool = True
    tool_hints: dict[str, ToolHints] = Field(default_factory=dict)


class AnalyticsSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    exporters: list[Any] = Field(default_factory=lambda: ["sqlite"])
    retention_days: int | None = Field(None, ge=1)
    # first retry of a batch an exporter could not deliver; doubles per attempt, up to an hour
    retry_base_seconds: float = Field(30.0, gt=0)


class PluginSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    disabled: list[str] = Field(default_factory=list)


class PromptSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    instruction_files: list[str] = Field(
        default_factory=lambda: ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md"])
    standards_file: str = ".victor/standards.md"
    max_contribution_chars: int = Field(20000, ge=100)
    base: str | None = None  # replaces the built-in base system prompt when set


class McpServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    url: str | None = None  # a SQLite path; other backends by URL scheme
    busy_timeout_ms: int = Field(5000, ge=0)


class WireSettings(BaseModel):
    """Per-connection limits on what a client may send (``adapters/wire_guard.py``); unset
    keys keep the built-in defaults (32 MiB, 128 levels, 64 requests)."""

    model_config = ConfigDict(extra="forbid")

    max_frame_bytes: int | None = Field(None, ge=1024)
    max_depth: int | None = Field(None, ge=8, le=190)  # the MCP SDK's parser stops at 200
    max_in_flight: int | None = Field(None, ge=1, le=100000)


class Settings(BaseModel):
    model_config = ConfigDict(extra="allow", validate_default=True)

    provider: str = "anthropic"
    model: str = "claude-sonnet-4-5"
    base_url: str | None = None  # OpenAI-compatible servers (Ollama, vLLM, llama.cpp)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    max_tokens: int = Field(4096, ge=1)
    thinking: dict[str, Any] | bool | None = None
    context_window: int = Field(200000, ge=256)
    max_tool_iterations: int = Field(16, ge=1, le=200)
    tool_selection: ToolSelectionSettings = Field(default_factory=ToolSelectionSettings)
    context_compaction_strategy: CompactionStrategyName = "recent_important"
    context_compaction_threshold: float = Field(0.8, gt=0.0, le=1.0)
    context_compaction_target_ratio: float = Field(0.5, gt=0.0, lt=1.0)
    enable_analytics: bool = True
    analytics_export_interval: float = Field(5.0, gt=0.0)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    prompts: PromptSettings = Field(default_factory=PromptSettings)
    # The tools section (docs/tools.md): ``disabled``, ``mcp_timeout``, plugin options,
    # ``bash: {enabled: false, allow: [], shell: false, env: [], timeout: 30, max_output: 30000}``
    # and ``protected_paths``: gitignore lines added after the defaults ``.git`` and ``.victor``
    # (never written by a tool, at any depth) and ``prompts.standards_file``; a ``!line`` opts a
    # path back in. The store's database files are never read or written by tools, whatever the
    # list says.
    tools: dict[str, Any] = Field(default_factory=dict)
    mcp_servers: dict[str, McpServerSettings] = Field(default_factory=dict)
    middleware: list[Any] = Field(default_factory=list)
    tenants: dict[str, Any] = Field(default_factory=dict)
    ab_test: dict[str, Any] | None = None
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    wire: WireSettings = Field(default_factory=WireSettings)
    log_level: Literal["debug", "info", "warning", "error"] = "warning"


# Keys whose nested leaves are reported one by one in ``sources`` (``tool_selection.strategy``);
# other values are reported as a whole.
NESTED_SECTIONS = ("tool_selection", "analytics", "prompts", "plugins", "store")

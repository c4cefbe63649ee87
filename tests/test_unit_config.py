"""Config in-process, no server: layering by priority, unknown keys with suggestions, file
syntax errors with line and column, the environment, and where the API key is read from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from victor_server.config import (
    ConfigCoordinator,
    EnvironmentConfigProvider,
    FileConfigProvider,
    StaticConfigProvider,
    redact,
)
from victor_server.config.advice import provider_advice
from victor_server.config.providers import ConfigFileError, load_config_file
from victor_server.config.unknown_keys import closest_key
from victor_server.errors import InvalidParams, ProviderUnavailable
from victor_server.providers.anthropic import AnthropicProvider


def project_file(workspace: Path, text: str, name: str = "config.yml") -> Path:
    path = workspace / ".victor" / name
    path.write_text(text)
    return path


def coordinator(workspace: Path, environ: dict[str, str] | None = None) -> ConfigCoordinator:
    return ConfigCoordinator([EnvironmentConfigProvider(environ or {}),
                              FileConfigProvider(workspace=workspace)])


# ---- layering -------------------------------------------------------------------------------

async def test_file_outranks_environment_which_outranks_defaults(workspace: Path) -> None:
    project_file(workspace, "model: from-file\ntool_selection:\n  max_tools: 3\n")
    resolved = await coordinator(workspace, {
        "VICTOR_MODEL": "from-env", "VICTOR_MAX_TOKENS": "123",
        "VICTOR_TOOL_SELECTION__STRATEGY": "keyword"}).resolve()
    s = resolved.settings
    assert (s.model, s.max_tokens, s.temperature) == ("from-file", 123, None)
    # a nested section merges key by key: the file's max_tools and the environment's strategy
    assert (s.tool_selection.max_tools, s.tool_selection.strategy) == (3, "keyword")
    assert resolved.sources["model"] == "file"
    assert resolved.sources["max_tokens"] == "env"
    assert resolved.sources["tool_selection.max_tools"] == "file"
    assert resolved.sources["tool_selection.strategy"] == "env"
    assert "temperature" not in resolved.sources or resolved.sources["temperature"] == "default"
    assert resolved.errors == []


async def test_override_outranks_everything_and_a_bad_one_is_invalid_params(
        workspace: Path) -> None:
    project_file(workspace, "max_tokens: 50\n")
    config = coordinator(workspace)
    resolved = await config.resolve(override={"max_tokens": 77})
    assert resolved.settings.max_tokens == 77 and resolved.sources["max_tokens"] == "override"
    with pytest.raises(InvalidParams) as bad:
        await config.resolve(override={"max_tokens": "lots"})
    assert bad.value.to_error_payload()["code"] == -32602
    assert bad.value.field == "config.max_tokens"
    assert "\n" not in bad.value.message


async def test_higher_priority_static_provider_wins_and_invalid_value_falls_through(
        workspace: Path) -> None:
    project_file(workspace, "temperature: 0.3\nmax_tool_iterations: 9999\n")
    config = coordinator(workspace)
    config.add_provider(StaticConfigProvider("tenant", {"temperature": 0.9}))
    resolved = await config.resolve()
    assert resolved.settings.temperature == 0.9 and resolved.sources["temperature"] == "tenant"
    # 9999 is over the limit: dropped from the file, the default takes over, the error says so
    assert resolved.settings.max_tool_iterations == 16
    [error] = [e for e in resolved.errors if "max_tool_iterations" in e]
    assert error.startswith("invalid config key max_tool_iterations from file (")
    assert str(workspace / ".victor" / "config.yml") in error
    assert error.endswith("using the next source's value")


async def test_an_edited_file_is_read_again(workspace: Path) -> None:
    path = project_file(workspace, "max_tokens: 10\n")
    config = coordinator(workspace)
    assert (await config.resolve()).settings.max_tokens == 10
    path.write_text("max_tokens: 20\n# edited\n")
    assert (await config.resolve()).settings.max_tokens == 20


# ---- unknown keys ---------------------------------------------------------------------------

async def test_unknown_keys_are_named_with_the_closest_real_key(workspace: Path) -> None:
    project_file(workspace, "provder: scripted\ntool_selection:\n  max_tool: 3\n")
    errors = (await coordinator(workspace).resolve()).errors
    where = str(workspace / ".victor" / "config.yml")
    assert f"unknown config key `provder` in file ({where}): did you mean `provider`?" in errors
    assert (f"unknown config key `tool_selection.max_tool` in file ({where}): "
            "did you mean `tool_selection.max_tools`?") in errors


async def test_unknown_keys_in_variants_and_tenant_rows_are_named_too(workspace: Path) -> None:
    """An A/B variant and a tenant's ``config`` are settings too: a typo there is as silent as
    one at the top level would be, so it is reported the same way, with its whole path."""
    project_file(workspace, "ab_test:\n"
                            "  variants:\n"
                            "    lean: {max_tokns: 512, tool_selection: {strategy: all}}\n"
                            "    plain: {}\n"
                            "tenants:\n"
                            "  acme: {config: {temprature: 0.2, model: x}, prompt_template: hi}\n")
    errors = (await coordinator(workspace).resolve()).errors
    where = str(workspace / ".victor" / "config.yml")
    assert (f"unknown config key `ab_test.variants.lean.max_tokns` in file ({where}): "
            "did you mean `max_tokens`?") in errors
    assert (f"unknown config key `tenants.acme.config.temprature` in file ({where}): "
            "did you mean `temperature`?") in errors
    assert len(errors) == 2, errors  # the keys spelled right are not reported


async def test_environment_variables_are_reported_only_when_close_to_a_key(
        workspace: Path) -> None:
    errors = (await coordinator(workspace, {
        "VICTOR_MODLE": "x",  # a typo of a real key
        "VICTOR_SERVER_CMD": "victor-server lsp",  # someone else's variable
        "VICTOR_TOOL_SELECTION__STRATGY": "keyword",  # nested: always ours
    }).resolve()).errors
    assert ("unknown config key `modle` in the environment (VICTOR_MODLE): "
            "did you mean `model`?") in errors
    assert any("VICTOR_TOOL_SELECTION__STRATGY" in e and "tool_selection.strategy" in e
               for e in errors)
    assert not any("server_cmd" in e for e in errors)


def test_closest_key_finds_nested_keys_by_their_last_part() -> None:
    assert closest_key("max_tools") == "tool_selection.max_tools"
    assert closest_key("completely_unrelated_zzz") is None


# ---- file syntax errors ---------------------------------------------------------------------

def test_yaml_error_names_file_line_and_column(workspace: Path) -> None:
    path = project_file(workspace, "model: ok\ntools:\n  bash: [unclosed\nprovider: x\n")
    with pytest.raises(ConfigFileError) as info:
        load_config_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:4:")
    assert "YAML syntax error" in message and "\n" not in message
    assert message.endswith("other config sources still apply")


def test_json_error_names_file_line_and_column(workspace: Path) -> None:
    path = project_file(workspace, '{\n  "model": "x",\n  "max_tokens": ,\n}\n', "config.json")
    with pytest.raises(ConfigFileError) as info:
        load_config_file(path)
    assert str(info.value).startswith(f"{path}:3:17: JSON syntax error: ")


def test_top_level_must_be_a_mapping(workspace: Path) -> None:
    path = project_file(workspace, "- a\n- b\n")
    with pytest.raises(ConfigFileError, match="the top level must be a mapping of keys"):
        load_config_file(path)
    assert load_config_file(project_file(workspace, "")) == {}


async def test_a_broken_file_keeps_the_last_good_config_and_reports_it(workspace: Path) -> None:
    path = project_file(workspace, "max_tokens: 42\n")
    config = coordinator(workspace)
    assert (await config.resolve()).settings.max_tokens == 42
    path.write_text("max_tokens: [42\n")
    resolved = await config.resolve()
    assert resolved.settings.max_tokens == 42
    [error] = resolved.errors
    assert error.startswith(f"{path}:") and "YAML syntax error" in error
    path.write_text("max_tokens: 43\n")
    resolved = await config.resolve()
    assert resolved.settings.max_tokens == 43 and resolved.errors == []


async def test_a_named_file_that_is_missing_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yml"
    config = ConfigCoordinator([FileConfigProvider(missing, tmp_path)])
    resolved = await config.resolve()
    assert resolved.errors == [f"{missing}: config file not found"]
    assert resolved.settings.model == "claude-sonnet-4-5"


# ---- the environment and credentials --------------------------------------------------------

async def test_environment_values_arrive_typed_and_reserved_names_are_skipped() -> None:
    data = await EnvironmentConfigProvider({
        "VICTOR_TEMPERATURE": "0.7", "VICTOR_ENABLE_ANALYTICS": "false",
        "VICTOR_PLUGINS__DISABLED": "[compliance, language]",
        "VICTOR_DB": "/tmp/x.db", "VICTOR_AUTH_TOKEN": "secret", "VICTOR_": "nothing",
        "OTHER": "ignored"}).get_config(None)
    assert data == {"temperature": 0.7, "enable_analytics": False,
                    "plugins": {"disabled": ["compliance", "language"]}}


def test_anthropic_key_comes_from_the_argument_or_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ProviderUnavailable) as missing:
        AnthropicProvider().check_ready()
    assert missing.value.code == -32002 and "ANTHROPIC_API_KEY" in missing.value.message
    AnthropicProvider(api_key="given").check_ready()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    AnthropicProvider().check_ready()


def test_advice_names_the_source_that_chose_the_provider(workspace: Path) -> None:
    path = workspace / ".victor" / "config.yml"
    assert "VICTOR_PROVIDER=scripted" in provider_advice("anthropic", "default")
    from_file = provider_advice("anthropic", "file", path)
    assert f"change `provider: anthropic` in {path}" in from_file
    assert "VICTOR_PROVIDER" not in from_file
    assert "config source tenant" in provider_advice("anthropic", "tenant")


def test_secrets_are_masked_in_the_public_config() -> None:
    public: Any = redact({
        "anthropic": {"api_key": "sk-1"}, "store": {"url": "postgresql://u:pw@h/db"},
        "mcp_servers": {"x": {"env": {"TOKEN": "t"}}},
        "middleware": [{"auth": {"tokens": {"tok-1": "acme"}}}], "model": "m"})
    text = json.dumps(public)
    for secret in ("sk-1", "pw@", '"t"', "tok-1"):
        assert secret not in text
    assert public["store"]["url"] == "postgresql://u:***@h/db" and public["model"] == "m"

"""Configuration: providers merged by priority into one validated ``Settings``."""

from victor_server.config.coordinator import ConfigCoordinator, ResolvedConfig
from victor_server.config.providers import (
    PRIORITY,
    ConfigProvider,
    EnvironmentConfigProvider,
    FileConfigProvider,
    PluginConfigProvider,
    StaticConfigProvider,
)
from victor_server.logging_redaction import redact

__all__ = [
    "PRIORITY", "ConfigCoordinator", "ConfigProvider", "EnvironmentConfigProvider",
    "FileConfigProvider", "PluginConfigProvider", "ResolvedConfig", "StaticConfigProvider",
    "redact",
]

"""Configuration: providers merged by priority into one validated ``Settings``."""

from victor_server.config.coordinator import ConfigCoordinator, ResolvedConfig, redact
from victor_server.config.providers import (
    PRIORITY,
    ConfigProvider,
    EnvironmentConfigProvider,
    FileConfigProvider,
    PluginConfigProvider,
    StaticConfigProvider,
)

__all__ = [
    "PRIORITY", "ConfigCoordinator", "ConfigProvider", "EnvironmentConfigProvider",
    "FileConfigProvider", "PluginConfigProvider", "ResolvedConfig", "StaticConfigProvider",
    "redact",
]

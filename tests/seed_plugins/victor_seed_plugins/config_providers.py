# file_config_provider.py (recipe 1)
from pathlib import Path
from typing import Dict
import yaml
import json
from victor_server.protocols import IConfigProvider

class FileConfigProvider(IConfigProvider):
    """Load configuration from YAML or JSON files."""

    def __init__(self, config_path: Path, priority: int = 75):
        """
        Args:
            config_path: Path to config file (YAML or JSON)
            priority: Provider priority (higher = checked first)
        """
        self.config_path = config_path
        self._priority = priority

    def priority(self) -> int:
        return self._priority

    async def get_config(self, session_id: str) -> Dict:
        """Load config from file."""
        if not self.config_path.exists():
            return {}  # Let next provider try

        try:
            if self.config_path.suffix in ['.yml', '.yaml']:
                with open(self.config_path, 'r') as f:
                    return yaml.safe_load(f) or {}
            elif self.config_path.suffix == '.json':
                with open(self.config_path, 'r') as f:
                    return json.load(f) or {}
            else:
                return {}
        except Exception as e:
            print(f"Error loading config: {e}")
            return {}

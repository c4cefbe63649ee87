"""The project config the tenant tests serve: two tenants with their own config and prompt, a
third with a tiny rate limit, and the auth tokens that name them."""

from __future__ import annotations

from pathlib import Path

ACME, GLOBEX, TINY = "token-for-acme", "token-for-globex", "token-for-tiny"

CONFIG = f"""
provider: anthropic
tenants:
  acme: {{config: {{max_tokens: 2048}}, prompt_template: "You serve ACME's engineers."}}
  globex: {{config: {{model: claude-globex-1}}, prompt_template: "You serve Globex."}}
middleware:
  - logging
  - {{auth: {{tokens: {{"{ACME}": acme, "{GLOBEX}": globex, "{TINY}": tiny}}}}}}
  - {{rate_limit: {{requests_per_minute: 6000, burst: 1000,
                   tenants: {{tiny: {{requests_per_minute: 6, burst: 2}}}}}}}}
"""


def write_config(workspace: Path) -> Path:
    (workspace / ".victor").mkdir(parents=True, exist_ok=True)
    path = workspace / ".victor" / "config.yml"
    path.write_text(CONFIG)
    return path

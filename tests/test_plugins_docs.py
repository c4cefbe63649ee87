"""docs/plugins.md's example package, built from the page's own code blocks and driven through a
real server: one plugin of every kind, each with options from config, as the page prints them.

The ``pyproject.toml`` block gives the entry points; each Python block whose first line names a
file (``# acme_victor/config.py``) becomes that module. The package is installed as pip would
install it (``plugin_install``) and judged by what the protocol answers, what the webhook
receives and what ``victor-server plugins`` lists.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

from analytics_sink import HttpSink
from lsp_harness import lsp_server
from plugin_install import install
from server_env import server_env

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def build_package(root: Path) -> Path:
    text = DOC.read_text()
    [pyproject] = [b for b in re.findall(r"^```toml\n(.*?)^```", text, re.M | re.S)
                   if 'name = "acme-victor"' in b]
    root.mkdir()
    (root / "pyproject.toml").write_text(pyproject)
    (root / "acme_victor").mkdir()
    (root / "acme_victor" / "__init__.py").write_text("")
    modules: dict[str, list[str]] = {}
    for block in re.findall(r"^```python\n(.*?)^```", text, re.M | re.S):
        first, _, body = block.partition("\n")
        if first.startswith("# acme_victor/"):
            modules.setdefault(first[2:], []).append(body)
    for path, bodies in modules.items():
        (root / path).write_text("\n\n".join(bodies))
    return root


CONFIG = """
provider: echo
echo: {{prefix: "acme says: "}}
tools: {{bash: {{enabled: true}}}}    # a medium-cost tool the selection strategy leaves out
context_compaction_strategy: recent_messages
tool_selection: {{strategy: cost_aware_acme}}
analytics_export_interval: 0.2
analytics: {{exporters: [sqlite, acme_webhook]}}
middleware: [logging, acme_headers]
plugins:
  file_config: {{config_path: config/team.yml}}
  acme_compliance: {{industry: healthcare}}
  recent_messages: {{keep_last_n: 2}}
  cost_aware_acme: {{max_cost_per_call: 0.01}}
  acme_webhook: {{webhook_url: "{url}/victor"}}
  acme_headers: {{team: platform}}
  shout: {{suffix: "!!"}}
"""


async def test_the_pages_package_runs_as_printed(workspace: Path, tmp_path: Path) -> None:
    package = build_package(tmp_path / "acme")
    assert {p.name for p in (package / "acme_victor").iterdir()} >= {
        "config.py", "prompts.py", "compaction.py", "selection.py", "exporters.py",
        "middleware.py", "provider.py", "tools.py"}
    env = {"PYTHONPATH": install(str(package), tmp_path / "site")}
    (workspace / "config").mkdir()
    (workspace / "config" / "team.yml").write_text("max_tokens: 321\n")
    with HttpSink() as webhook:
        (workspace / ".victor" / "config.yml").write_text(CONFIG.format(url=webhook.url))
        async with lsp_server(workspace, env) as victor:
            config = await victor.request("victor/getConfig", {})
            assert not config.get("errors"), config["errors"]
            assert config["config"]["max_tokens"] == 321  # the relative path: the workspace's
            assert config["sources"]["max_tokens"] == "file_config"
            assert config["team"] == "platform"  # the class middleware, built with its option

            prompt = await victor.request("victor/buildPrompt", {})
            assert "## Healthcare Compliance" in prompt["systemPrompt"]
            assert "acme_compliance" in [c["name"] for c in prompt["contributions"]]

            first = await victor.request("victor/chat", {"message": "hello"})
            assert first["content"] == "acme says: hello"
            sid = first["sessionId"]
            for message in ("two", "three"):
                await victor.request("victor/chat", {"message": message, "sessionId": sid})
            compacted = await victor.request("victor/compactContext", {"sessionId": sid})
            assert compacted["strategy"] == compacted["ran"] == "recent_messages"
            assert not compacted.get("fallback")

            selected = await victor.request("victor/selectTools",
                                            {"query": "shout this text in capitals"})
            # (it ranks with the server's semantic ranking, by keyword while the model loads)
            assert selected["strategy"] == "cost_aware_acme"
            names = [t["name"] for t in selected["tools"]]
            assert "shout" in names and "bash" not in names

            for _ in range(300):  # the webhook exporter delivers within a few intervals
                if any(r.method == "POST" for r in webhook.received):
                    break
                await asyncio.sleep(0.1)
            posted = [e for r in webhook.received if r.method == "POST" for e in r.json()]
            assert any(e["type"] == "token_usage" for e in posted)

    listed = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "victor_server", "plugins", "--json",
                         "--workspace", str(workspace)],
        env=server_env(env), capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    ours = {p["name"]: p for p in json.loads(listed.stdout)["plugins"]
            if p["package"] == "acme-victor"}
    assert set(ours) == {"file_config", "acme_compliance", "recent_messages", "cost_aware_acme",
                         "acme_webhook", "acme_auth", "acme_headers", "echo", "shout"}
    assert all(p["error"] is None for p in ours.values())
    assert ours["acme_auth"]["status"] == "loaded"  # imports; this config does not use it
    for name in ("file_config", "acme_compliance", "acme_webhook", "acme_headers", "shout"):
        assert ours[name]["status"] == "active", ours[name]

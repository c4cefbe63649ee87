"""Screenshot of the VS Code chat view, fed by a real ``victor-server lsp`` turn.

VS Code itself cannot run here, so the webview's own page (``media/chat.js`` and ``chat.css``,
the same files the extension loads) is opened in headless Chromium with VS Code's dark-theme
colours and a stand-in for ``acquireVsCodeApi``. What the page draws comes from a real turn: the
server (``scripted`` provider, offline) runs a tool call and streams its answer, and the
notifications it sent are replayed into the page in order, as ``chatView.ts`` posts them.

    python scripts/screenshot_vscode_chat.py [docs/screenshots/vscode-chat.png]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from lsp_wire import WireClient  # noqa: E402

THEME = """:root { --vscode-font-family: system-ui, sans-serif; --vscode-font-size: 13px;
 --vscode-foreground: #cccccc; --vscode-editor-font-family: monospace;
 --vscode-dropdown-background: #3c3c3c; --vscode-dropdown-foreground: #f0f0f0;
 --vscode-dropdown-border: #3c3c3c; --vscode-button-background: #0e639c;
 --vscode-button-foreground: #ffffff; --vscode-editor-inactiveSelectionBackground: #3a3d41;
 --vscode-input-background: #3c3c3c; --vscode-input-foreground: #cccccc;
 --vscode-errorForeground: #f48771; }
body { background: #252526; }"""


def real_turn(workspace: Path) -> list[dict[str, object]]:
    """Messages for the page, from one real turn and the server's notifications."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VICTOR_", "ANTHROPIC_"))}
    env.update(VICTOR_PROVIDER="scripted", VICTOR_TOOL_SELECTION__STRATEGY="keyword")
    client = WireClient([sys.executable, "-m", "victor_server", "lsp", "--workspace",
                         str(workspace)], env=env)
    client.initialize(workspace.as_uri())
    session = client.request("victor/session/create", {"title": "What is in README.md?"})
    question = '/tool read {"path": "README.md"}'
    posted: list[dict[str, object]] = [{"type": "user", "text": question},
                                       {"type": "assistantStart"}, {"type": "busy", "busy": True}]
    request_id = client.send("victor/chat", {"message": question,
                                             "sessionId": session["sessionId"]})
    while True:
        message = client.read()
        if message.get("method") == "victor/chatDelta":
            posted.append({"type": "delta", "text": message["params"]["text"]})
        elif message.get("method") == "victor/toolCall":
            posted.append({"type": "toolCall", "call": message["params"]})
        elif message.get("id") == request_id:
            result = message["result"]
            posted += [{"type": "assistantEnd", "content": result["content"],
                        "usage": result["usage"], "stopReason": result["stopReason"]},
                       {"type": "busy", "busy": False},
                       {"type": "sessions", "current": session["sessionId"], "sessions": [
                           {"id": session["sessionId"], "label": "What is in README.md?"}]}]
            break
    client.close()
    return posted


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs/screenshots/vscode-chat.png")
    media = ROOT / "editor-extensions/vscode/media"
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "project"
        (workspace / ".victor").mkdir(parents=True)
        (workspace / "README.md").write_text("# shop-api\nA small REST service for orders.\n")
        posted = real_turn(workspace)
        page = Path(tmp) / "chat.html"
        page.write_text(f"""<!DOCTYPE html><html><head><meta charset="UTF-8">
<style>{THEME}</style><link rel="stylesheet" href="{(media / 'chat.css').as_uri()}"></head><body>
<div id="toolbar"><select id="sessions"><option value="">Sessions…</option></select>
<button id="refresh">↻</button><button id="new">New</button></div>
<div id="log"></div><form id="composer"><textarea id="input" rows="3"
placeholder="Ask Victor… (Enter to send, Shift+Enter for a new line)"></textarea>
<div id="actions"><button id="send" type="submit">Send</button>
<button id="stop" type="button" disabled>Stop</button></div></form>
<script>window.acquireVsCodeApi = () => ({{postMessage() {{}}, getState() {{}},
 setState() {{}}}});</script>
<script src="{(media / 'chat.js').as_uri()}"></script>
<script>for (const m of {json.dumps(posted)}) window.dispatchEvent(
 new MessageEvent("message", {{data: m}}));</script></body></html>""")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp}/profile", "--hide-scrollbars",
                        "--window-size=420,560", f"--screenshot={out}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

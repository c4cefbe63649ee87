/**
 * The chat view: a webview in the Victor activity-bar container.
 *
 * The webview (media/chat.js) only renders and collects input; every protocol step happens
 * here through `ChatSession`. Messages between the two are small tagged objects (`ToView` and
 * `FromView`). One turn runs at a time; "Stop" cancels it through a CancellationTokenSource,
 * which the JSON-RPC layer turns into `$/cancelRequest`.
 */
import * as vscode from "vscode";
import {
  type ChatSession,
  listSessions,
  sessionLabel,
  transcript,
  type TranscriptEntry,
} from "./chatSession";
import type { ChatContext, ChatResult, ToolCallParams, Usage } from "./protocol";
import type { VictorConnection } from "./chatSession";

type ToView =
  | { type: "user"; text: string }
  | { type: "assistantStart" }
  | { type: "delta"; text: string }
  | { type: "toolCall"; call: ToolCallParams }
  | { type: "assistantEnd"; content: string; stopReason: string; usage: Usage }
  | { type: "error"; message: string }
  | { type: "sessions"; sessions: { id: string; label: string }[]; current?: string }
  | { type: "transcript"; sessionId: string; entries: TranscriptEntry[] }
  | { type: "reset" }
  | { type: "busy"; busy: boolean };

type FromView =
  | { type: "ready" }
  | { type: "send"; text: string }
  | { type: "cancel" }
  | { type: "newSession" }
  | { type: "listSessions" }
  | { type: "resume"; sessionId: string };

export class ChatViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = "victor.chatView";
  private view: vscode.WebviewView | undefined;
  private turn: vscode.CancellationTokenSource | undefined;
  private readonly usageEmitter = new vscode.EventEmitter<Usage>();
  readonly onDidChangeUsage = this.usageEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly connection: VictorConnection,
    private readonly session: ChatSession,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, "media");
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = this.html(view.webview, media);
    view.webview.onDidReceiveMessage((m: FromView) => void this.receive(m));
  }

  get sessionId(): string | undefined {
    return this.session.sessionId;
  }

  /** Show the view and send `message` as the next turn. */
  async ask(message: string, context?: ChatContext): Promise<ChatResult | undefined> {
    await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
    return this.send(message, context);
  }

  async resume(sessionId: string): Promise<void> {
    const stored = await this.session.resume(sessionId);
    this.post({ type: "transcript", sessionId, entries: transcript(stored) });
    this.usageEmitter.fire(this.session.usage);
  }

  newSession(): void {
    this.turn?.cancel();
    this.session.reset();
    this.post({ type: "reset" });
    this.usageEmitter.fire(this.session.usage);
  }

  private async receive(m: FromView): Promise<void> {
    try {
      switch (m.type) {
        case "ready":
        case "listSessions":
          return await this.postSessions();
        case "send":
          await this.send(m.text);
          return;
        case "cancel":
          this.turn?.cancel();
          return;
        case "newSession":
          return this.newSession();
        case "resume":
          return await this.resume(m.sessionId);
      }
    } catch (err) {
      this.post({ type: "error", message: errorText(err) });
    }
  }

  private async send(text: string, context?: ChatContext): Promise<ChatResult | undefined> {
    if (this.turn) {
      void vscode.window.showInformationMessage("Victor is still answering; stop it first.");
      return undefined;
    }
    const turn = new vscode.CancellationTokenSource();
    this.turn = turn;
    this.post({ type: "busy", busy: true });
    this.post({ type: "user", text });
    this.post({ type: "assistantStart" });
    try {
      const result = await this.session.send(text, {
        context,
        token: turn.token,
        onDelta: (delta) => this.post({ type: "delta", text: delta }),
        onToolCall: (call) => this.post({ type: "toolCall", call }),
      });
      this.post({
        type: "assistantEnd",
        content: result.content,
        stopReason: result.stopReason,
        usage: result.usage,
      });
      this.usageEmitter.fire(this.session.usage);
      return result;
    } catch (err) {
      this.post({ type: "error", message: errorText(err) });
      return undefined;
    } finally {
      this.turn = undefined;
      turn.dispose();
      this.post({ type: "busy", busy: false });
    }
  }

  private async postSessions(): Promise<void> {
    const sessions = await listSessions(this.connection, { limit: 50 });
    this.post({
      type: "sessions",
      sessions: sessions.map((s) => ({ id: s.sessionId, label: sessionLabel(s) })),
      current: this.session.sessionId,
    });
  }

  private post(message: ToView): void {
    void this.view?.webview.postMessage(message);
  }

  private html(webview: vscode.Webview, media: vscode.Uri): string {
    const nonce = Array.from({ length: 32 }, () => Math.floor(Math.random() * 36).toString(36))
      .join("");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(media, "chat.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(media, "chat.css"));
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${style}" rel="stylesheet"><title>Victor</title></head>
<body>
<div id="toolbar">
  <select id="sessions" title="Resume a session"><option value="">Sessions…</option></select>
  <button id="refresh" title="Refresh sessions">↻</button>
  <button id="new" title="New chat">New</button>
</div>
<div id="log" aria-live="polite"></div>
<form id="composer">
  <textarea id="input" rows="3" placeholder="Ask Victor… (Enter to send, Shift+Enter for a new line)"></textarea>
  <div id="actions"><button id="send" type="submit">Send</button><button id="stop" type="button" disabled>Stop</button></div>
</form>
<script nonce="${nonce}" src="${script}"></script>
</body></html>`;
  }
}

export function errorText(err: unknown): string {
  if (err && typeof err === "object" && "message" in err) {
    const code = "code" in err ? ` (${String((err as { code: unknown }).code)})` : "";
    return `${String((err as { message: unknown }).message)}${code}`;
  }
  return String(err);
}

/**
 * Entry point: wires the server controller, the chat view, the status bar and the commands.
 *
 * Everything here is glue over modules that know no VS Code API (protocol, chatSession,
 * serverCommand, settings, reports), which the node tests cover against the real server.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import {
  ChatSession, formatTokens, listSessions, NotificationRouter, sessionLabel, ZERO_USAGE,
} from "./chatSession";
import { ChatViewProvider, errorText } from "./chatView";
import {
  type AnalyticsSummary,
  type CompactContextResult,
  Methods,
  type SelectToolsResult,
  type Usage,
} from "./protocol";
import { installPermissionHandler, type PermissionPrompt } from "./permissions";
import { analyticsReport, compactionReport, selectionMessage, toolChoiceLines } from "./reports";
import { ServerController, type ServerState } from "./serverController";
import { readSettings, SECTION } from "./settings";

let controller: ServerController | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const server = new ServerController();
  controller = server;
  const router = new NotificationRouter(server);
  const stream = readSettings(vscode.workspace.getConfiguration(SECTION)).chat.stream;
  const session = new ChatSession(server, router, stream);
  const chat = new ChatViewProvider(context.extensionUri, server, session);
  const status = new UsageStatus();

  context.subscriptions.push(
    server,
    router,
    status,
    server.onDidChangeState((s) => status.setState(s)),
    chat.onDidChangeUsage((u) => status.setUsage(u)),
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, chat, {
      webviewOptions: { retainContextWhenHidden: true },
    }),
    installPermissionHandler(server, askInModal),
    vscode.commands.registerCommand("victor.chat", async (message?: string) => {
      const text = typeof message === "string" ? message
        : await vscode.window.showInputBox({ prompt: "Ask Victor", placeHolder: "Message" });
      if (text) {
        await chat.ask(text);
      }
    }),
    vscode.commands.registerCommand("victor.askAboutSelection", () => askAboutSelection(chat)),
    vscode.commands.registerCommand("victor.selectTools", () => selectTools(server)),
    vscode.commands.registerCommand("victor.compactContext", () => compact(server, chat)),
    vscode.commands.registerCommand("victor.showAnalytics", () => showAnalytics(server)),
    vscode.commands.registerCommand("victor.resumeSession", () => resumeSession(server, chat)),
    vscode.commands.registerCommand("victor.newSession", () => chat.newSession()),
    vscode.commands.registerCommand("victor.restartServer", () => server.restart()),
    vscode.commands.registerCommand("victor.showOutput", () => server.output.show()),
  );
  // Start in the background so the first chat does not wait for the server's startup.
  server.ready().catch(() => undefined);
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
}

/** Approvals: a modal with the call, its diff or command, and one button per option. Closing
 * it (Escape, Cancel) rejects the call. */
async function askInModal(prompt: PermissionPrompt): Promise<string | undefined> {
  return vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail },
    ...prompt.labels);
}

/** Runs `fn`, reporting a failure as an error message instead of an unhandled rejection. */
async function reporting<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    void vscode.window.showErrorMessage(`Victor: ${what} failed: ${errorText(err)}`);
    return undefined;
  }
}

async function askAboutSelection(chat: ChatViewProvider): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    void vscode.window.showInformationMessage("Victor: select some code first.");
    return;
  }
  const question = await vscode.window.showInputBox({
    prompt: "Ask Victor about the selection", value: "Explain this code.",
  });
  if (question === undefined) {
    return;
  }
  const doc = editor.document;
  const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
  const { message, context } = selectionMessage(question, {
    text: doc.getText(editor.selection),
    languageId: doc.languageId,
    path: folder ? path.relative(folder.uri.fsPath, doc.uri.fsPath) : doc.fileName,
    startLine: editor.selection.start.line + 1,
    endLine: editor.selection.end.line + 1,
  });
  await chat.ask(message, context);
}

async function selectTools(server: ServerController): Promise<void> {
  const query = await vscode.window.showInputBox({
    prompt: "Which tools would Victor pick for this task?", placeHolder: "e.g. fix the failing test",
  });
  if (!query) {
    return;
  }
  const result = await reporting("selectTools", () =>
    server.sendRequest<SelectToolsResult>(Methods.selectTools, { query }));
  if (result) {
    const lines = toolChoiceLines(result);
    await vscode.window.showQuickPick(
      result.tools.map((t, i) => ({ label: t.name, description: `${t.score.toFixed(2)} · ${t.costTier}`, detail: lines[i] })),
      { title: `Tools for "${query}" (${result.strategy})`, canPickMany: false },
    );
  }
}

async function compact(server: ServerController, chat: ChatViewProvider): Promise<void> {
  const sessionId = chat.sessionId;
  if (!sessionId) {
    void vscode.window.showInformationMessage("Victor: no chat session to compact yet.");
    return;
  }
  const result = await reporting("compactContext", () =>
    server.sendRequest<CompactContextResult>(Methods.compactContext, { sessionId }));
  if (result) {
    void vscode.window.showInformationMessage(`Victor: ${compactionReport(result)}`);
  }
}

async function showAnalytics(server: ServerController): Promise<void> {
  const summary = await reporting("analytics", () =>
    server.sendRequest<AnalyticsSummary>(Methods.analyticsSummary, {}));
  if (summary) {
    const doc = await vscode.workspace.openTextDocument({
      language: "markdown", content: analyticsReport(summary),
    });
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}

async function resumeSession(server: ServerController, chat: ChatViewProvider): Promise<void> {
  const sessions = await reporting("listing sessions", () => listSessions(server, { limit: 50 }));
  if (!sessions?.length) {
    void vscode.window.showInformationMessage("Victor: no stored sessions.");
    return;
  }
  const pick = await vscode.window.showQuickPick(
    sessions.map((s) => ({ label: s.title || s.sessionId, detail: sessionLabel(s), id: s.sessionId })),
    { title: "Resume a Victor session" },
  );
  if (pick) {
    await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
    await reporting("resuming", () => chat.resume(pick.id));
  }
}

/** Token usage of the current session, and the server's state, in the status bar. */
class UsageStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  private usage: Usage = { ...ZERO_USAGE };
  private state: ServerState = "starting";

  constructor() {
    this.item.command = `${ChatViewProvider.viewId}.focus`;
    this.render();
    this.item.show();
  }

  setUsage(usage: Usage): void {
    this.usage = usage;
    this.render();
  }

  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    const icon = this.state === "running" ? "$(comment-discussion)"
      : this.state === "starting" ? "$(sync~spin)" : "$(error)";
    this.item.text = `${icon} Victor ${formatTokens(this.usage.totalTokens)} tok`;
    this.item.tooltip = `victor-server ${this.state}\nThis session: ${this.usage.inputTokens} input + ` +
      `${this.usage.outputTokens} output tokens, ${this.usage.cacheReadTokens} read from the ` +
      `prompt cache\nClick to open the chat`;
  }

  dispose(): void {
    this.item.dispose();
  }
}

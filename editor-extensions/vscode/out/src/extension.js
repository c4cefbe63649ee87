"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.activate = activate;
exports.deactivate = deactivate;
/**
 * Entry point: wires the server controller, the chat view, the status bar and the commands.
 *
 * Everything here is glue over modules that know no VS Code API (protocol, chatSession,
 * serverCommand, settings, reports), which the node tests cover against the real server.
 */
const path = __importStar(require("node:path"));
const vscode = __importStar(require("vscode"));
const chatSession_1 = require("./chatSession");
const chatView_1 = require("./chatView");
const protocol_1 = require("./protocol");
const reports_1 = require("./reports");
const serverController_1 = require("./serverController");
const settings_1 = require("./settings");
let controller;
function activate(context) {
    const server = new serverController_1.ServerController();
    controller = server;
    const router = new chatSession_1.NotificationRouter(server);
    const stream = (0, settings_1.readSettings)(vscode.workspace.getConfiguration(settings_1.SECTION)).chat.stream;
    const session = new chatSession_1.ChatSession(server, router, stream);
    const chat = new chatView_1.ChatViewProvider(context.extensionUri, server, session);
    const status = new UsageStatus();
    context.subscriptions.push(server, router, status, server.onDidChangeState((s) => status.setState(s)), chat.onDidChangeUsage((u) => status.setUsage(u)), vscode.window.registerWebviewViewProvider(chatView_1.ChatViewProvider.viewId, chat, {
        webviewOptions: { retainContextWhenHidden: true },
    }), vscode.commands.registerCommand("victor.chat", async (message) => {
        const text = typeof message === "string" ? message
            : await vscode.window.showInputBox({ prompt: "Ask Victor", placeHolder: "Message" });
        if (text) {
            await chat.ask(text);
        }
    }), vscode.commands.registerCommand("victor.askAboutSelection", () => askAboutSelection(chat)), vscode.commands.registerCommand("victor.selectTools", () => selectTools(server)), vscode.commands.registerCommand("victor.compactContext", () => compact(server, chat)), vscode.commands.registerCommand("victor.showAnalytics", () => showAnalytics(server)), vscode.commands.registerCommand("victor.resumeSession", () => resumeSession(server, chat)), vscode.commands.registerCommand("victor.newSession", () => chat.newSession()), vscode.commands.registerCommand("victor.restartServer", () => server.restart()), vscode.commands.registerCommand("victor.showOutput", () => server.output.show()));
    // Start in the background so the first chat does not wait for the server's startup.
    server.ready().catch(() => undefined);
}
async function deactivate() {
    await controller?.stop();
}
/** Runs `fn`, reporting a failure as an error message instead of an unhandled rejection. */
async function reporting(what, fn) {
    try {
        return await fn();
    }
    catch (err) {
        void vscode.window.showErrorMessage(`Victor: ${what} failed: ${(0, chatView_1.errorText)(err)}`);
        return undefined;
    }
}
async function askAboutSelection(chat) {
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
    const { message, context } = (0, reports_1.selectionMessage)(question, {
        text: doc.getText(editor.selection),
        languageId: doc.languageId,
        path: folder ? path.relative(folder.uri.fsPath, doc.uri.fsPath) : doc.fileName,
        startLine: editor.selection.start.line + 1,
        endLine: editor.selection.end.line + 1,
    });
    await chat.ask(message, context);
}
async function selectTools(server) {
    const query = await vscode.window.showInputBox({
        prompt: "Which tools would Victor pick for this task?", placeHolder: "e.g. fix the failing test",
    });
    if (!query) {
        return;
    }
    const result = await reporting("selectTools", () => server.sendRequest(protocol_1.Methods.selectTools, { query }));
    if (result) {
        const lines = (0, reports_1.toolChoiceLines)(result);
        await vscode.window.showQuickPick(result.tools.map((t, i) => ({ label: t.name, description: `${t.score.toFixed(2)} · ${t.costTier}`, detail: lines[i] })), { title: `Tools for "${query}" (${result.strategy})`, canPickMany: false });
    }
}
async function compact(server, chat) {
    const sessionId = chat.sessionId;
    if (!sessionId) {
        void vscode.window.showInformationMessage("Victor: no chat session to compact yet.");
        return;
    }
    const result = await reporting("compactContext", () => server.sendRequest(protocol_1.Methods.compactContext, { sessionId }));
    if (result) {
        void vscode.window.showInformationMessage(`Victor: ${(0, reports_1.compactionReport)(result)}`);
    }
}
async function showAnalytics(server) {
    const summary = await reporting("analytics", () => server.sendRequest(protocol_1.Methods.analyticsSummary, {}));
    if (summary) {
        const doc = await vscode.workspace.openTextDocument({
            language: "markdown", content: (0, reports_1.analyticsReport)(summary),
        });
        await vscode.window.showTextDocument(doc, { preview: true });
    }
}
async function resumeSession(server, chat) {
    const sessions = await reporting("listing sessions", () => (0, chatSession_1.listSessions)(server, { limit: 50 }));
    if (!sessions?.length) {
        void vscode.window.showInformationMessage("Victor: no stored sessions.");
        return;
    }
    const pick = await vscode.window.showQuickPick(sessions.map((s) => ({ label: s.title || s.sessionId, detail: (0, chatSession_1.sessionLabel)(s), id: s.sessionId })), { title: "Resume a Victor session" });
    if (pick) {
        await vscode.commands.executeCommand(`${chatView_1.ChatViewProvider.viewId}.focus`);
        await reporting("resuming", () => chat.resume(pick.id));
    }
}
/** Token usage of the current session, and the server's state, in the status bar. */
class UsageStatus {
    item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
    usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
    state = "starting";
    constructor() {
        this.item.command = `${chatView_1.ChatViewProvider.viewId}.focus`;
        this.render();
        this.item.show();
    }
    setUsage(usage) {
        this.usage = usage;
        this.render();
    }
    setState(state) {
        this.state = state;
        this.render();
    }
    render() {
        const icon = this.state === "running" ? "$(comment-discussion)"
            : this.state === "starting" ? "$(sync~spin)" : "$(error)";
        this.item.text = `${icon} Victor ${(0, chatSession_1.formatTokens)(this.usage.totalTokens)} tok`;
        this.item.tooltip = `victor-server ${this.state}\nThis session: ${this.usage.inputTokens} input + ` +
            `${this.usage.outputTokens} output tokens\nClick to open the chat`;
    }
    dispose() {
        this.item.dispose();
    }
}
//# sourceMappingURL=extension.js.map
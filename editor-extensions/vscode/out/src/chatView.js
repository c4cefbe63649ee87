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
exports.ChatViewProvider = void 0;
exports.errorText = errorText;
/**
 * The chat view: a webview in the Victor activity-bar container.
 *
 * The webview (media/chat.js) only renders and collects input; every protocol step happens
 * here through `ChatSession`. Messages between the two are small tagged objects (`ToView` and
 * `FromView`). One turn runs at a time; "Stop" cancels it through a CancellationTokenSource,
 * which the JSON-RPC layer turns into `$/cancelRequest`.
 */
const vscode = __importStar(require("vscode"));
const chatSession_1 = require("./chatSession");
class ChatViewProvider {
    extensionUri;
    connection;
    session;
    static viewId = "victor.chatView";
    view;
    turn;
    usageEmitter = new vscode.EventEmitter();
    onDidChangeUsage = this.usageEmitter.event;
    constructor(extensionUri, connection, session) {
        this.extensionUri = extensionUri;
        this.connection = connection;
        this.session = session;
    }
    resolveWebviewView(view) {
        this.view = view;
        const media = vscode.Uri.joinPath(this.extensionUri, "media");
        view.webview.options = { enableScripts: true, localResourceRoots: [media] };
        view.webview.html = this.html(view.webview, media);
        view.webview.onDidReceiveMessage((m) => void this.receive(m));
    }
    get sessionId() {
        return this.session.sessionId;
    }
    /** Show the view and send `message` as the next turn. */
    async ask(message, context) {
        await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
        return this.send(message, context);
    }
    async resume(sessionId) {
        const stored = await this.session.resume(sessionId);
        this.post({ type: "transcript", sessionId, entries: (0, chatSession_1.transcript)(stored) });
        this.usageEmitter.fire(this.session.usage);
    }
    newSession() {
        this.turn?.cancel();
        this.session.reset();
        this.post({ type: "reset" });
        this.usageEmitter.fire(this.session.usage);
    }
    async receive(m) {
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
        }
        catch (err) {
            this.post({ type: "error", message: errorText(err) });
        }
    }
    async send(text, context) {
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
        }
        catch (err) {
            this.post({ type: "error", message: errorText(err) });
            return undefined;
        }
        finally {
            this.turn = undefined;
            turn.dispose();
            this.post({ type: "busy", busy: false });
        }
    }
    async postSessions() {
        const sessions = await (0, chatSession_1.listSessions)(this.connection, { limit: 50 });
        this.post({
            type: "sessions",
            sessions: sessions.map((s) => ({ id: s.sessionId, label: (0, chatSession_1.sessionLabel)(s) })),
            current: this.session.sessionId,
        });
    }
    post(message) {
        void this.view?.webview.postMessage(message);
    }
    html(webview, media) {
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
exports.ChatViewProvider = ChatViewProvider;
function errorText(err) {
    if (err && typeof err === "object" && "message" in err) {
        const code = "code" in err ? ` (${String(err.code)})` : "";
        return `${String(err.message)}${code}`;
    }
    return String(err);
}
//# sourceMappingURL=chatView.js.map
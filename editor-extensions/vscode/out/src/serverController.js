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
exports.ServerController = void 0;
/**
 * Owns the language client: starts `victor-server lsp` over stdio, restarts it on demand or when
 * a server setting changes, and presents itself to the rest of the extension as one stable
 * `VictorConnection`, so the chat view keeps its router and session across restarts.
 *
 * Notification handlers are remembered and re-registered on every new client, because a
 * restart builds a new `LanguageClient` (its launch may have changed).
 */
const vscode = __importStar(require("vscode"));
const node_1 = require("vscode-languageclient/node");
const serverCommand_1 = require("./serverCommand");
const settings_1 = require("./settings");
class ServerController {
    client;
    starting;
    handlers = [];
    clientSubscriptions = [];
    stateEmitter = new vscode.EventEmitter();
    onDidChangeState = this.stateEmitter.event;
    output;
    traceOutput;
    configWatch;
    constructor() {
        this.output = vscode.window.createOutputChannel("Victor");
        this.traceOutput = vscode.window.createOutputChannel("Victor Trace");
        this.configWatch = vscode.workspace.onDidChangeConfiguration((e) => {
            if (settings_1.RESTART_KEYS.some((k) => e.affectsConfiguration(k))) {
                this.output.appendLine("Server settings changed; restarting.");
                void this.restart();
            }
        });
    }
    /** The running client, starting it on first use. */
    ready() {
        if (this.client?.state === node_1.State.Running) {
            return Promise.resolve(this.client);
        }
        this.starting ??= this.start().finally(() => {
            this.starting = undefined;
        });
        return this.starting;
    }
    async sendRequest(method, params, token) {
        const client = await this.ready();
        return client.sendRequest(method, params, token);
    }
    onNotification(method, handler) {
        const entry = { method, handler };
        this.handlers.push(entry);
        if (this.client) {
            this.clientSubscriptions.push(this.client.onNotification(method, handler));
        }
        return {
            dispose: () => {
                const i = this.handlers.indexOf(entry);
                if (i >= 0) {
                    this.handlers.splice(i, 1);
                }
            },
        };
    }
    async restart() {
        await this.stop();
        await this.ready();
    }
    async stop() {
        const client = this.client;
        this.client = undefined;
        this.clientSubscriptions.splice(0).forEach((s) => s.dispose());
        if (client) {
            try {
                await client.dispose(5000);
            }
            catch (err) {
                this.output.appendLine(`Stopping the server failed: ${String(err)}`);
            }
        }
        this.stateEmitter.fire("stopped");
    }
    async start() {
        this.stateEmitter.fire("starting");
        const settings = (0, settings_1.readSettings)(vscode.workspace.getConfiguration(settings_1.SECTION));
        const folder = vscode.workspace.workspaceFolders?.[0];
        const launch = (0, serverCommand_1.buildServerLaunch)(settings, folder?.uri.fsPath);
        this.output.appendLine(`Starting ${(0, serverCommand_1.describeLaunch)(launch)}`);
        const serverOptions = {
            command: launch.command,
            args: launch.args,
            transport: node_1.TransportKind.stdio,
            options: { cwd: launch.cwd, env: launch.env },
        };
        const clientOptions = {
            // The server is an agent, not a per-language server: it needs no document sync.
            documentSelector: [],
            workspaceFolder: folder,
            outputChannel: this.output,
            traceOutputChannel: this.traceOutput,
            initializationOptions: (0, serverCommand_1.initializationOptions)(settings),
        };
        // The id "victor" makes the client honour the `victor.trace.server` setting.
        const client = new node_1.LanguageClient("victor", "Victor", serverOptions, clientOptions);
        for (const { method, handler } of this.handlers) {
            this.clientSubscriptions.push(client.onNotification(method, handler));
        }
        this.clientSubscriptions.push(client.onDidChangeState((e) => {
            this.stateEmitter.fire(e.newState === node_1.State.Running ? "running"
                : e.newState === node_1.State.Starting ? "starting" : "stopped");
        }));
        try {
            await client.start();
        }
        catch (err) {
            this.output.appendLine(`The server did not start: ${String(err)}`);
            this.stateEmitter.fire("stopped");
            void vscode.window.showErrorMessage(`Victor: could not start "${(0, serverCommand_1.describeLaunch)(launch)}". Is victor-server on PATH? ` +
                "See the Victor output channel.", "Show Output").then((choice) => choice && this.output.show());
            throw err;
        }
        this.client = client;
        return client;
    }
    dispose() {
        void this.stop();
        this.configWatch.dispose();
        this.stateEmitter.dispose();
        this.output.dispose();
        this.traceOutput.dispose();
    }
}
exports.ServerController = ServerController;
//# sourceMappingURL=serverController.js.map
/**
 * Owns the language client: starts `victor-server lsp` over stdio, restarts it on demand or when
 * a server setting changes, and presents itself to the rest of the extension as one stable
 * `VictorConnection`, so the chat view keeps its router and session across restarts.
 *
 * Notification and request handlers (`victor/requestPermission`) are remembered and
 * re-registered on every new client, because a restart builds a new `LanguageClient` (its
 * launch may have changed).
 */
import * as vscode from "vscode";
import type { CancellationToken } from "vscode-jsonrpc";
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import type { Disposable, VictorConnection } from "./chatSession";
import { buildServerLaunch, describeLaunch, initializationOptions } from "./serverCommand";
import { RESTART_KEYS, readSettings, SECTION } from "./settings";

export type ServerState = "stopped" | "starting" | "running";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (params: any) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RequestHandler = (params: any, token: CancellationToken) => Promise<any>;

export class ServerController implements VictorConnection, vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly handlers: { method: string; handler: Handler }[] = [];
  private readonly requestHandlers: { method: string; handler: RequestHandler }[] = [];
  private readonly clientSubscriptions: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  readonly output: vscode.OutputChannel;
  private readonly traceOutput: vscode.OutputChannel;
  private readonly configWatch: vscode.Disposable;

  constructor() {
    this.output = vscode.window.createOutputChannel("Victor");
    this.traceOutput = vscode.window.createOutputChannel("Victor Trace");
    this.configWatch = vscode.workspace.onDidChangeConfiguration((e) => {
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(k))) {
        this.output.appendLine("Server settings changed; restarting.");
        void this.restart();
      }
    });
  }

  /** The running client, starting it on first use. */
  ready(): Promise<LanguageClient> {
    if (this.client?.state === State.Running) {
      return Promise.resolve(this.client);
    }
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async sendRequest<R>(method: string, params: unknown, token?: CancellationToken): Promise<R> {
    const client = await this.ready();
    // A trailing `undefined` would be sent as a second positional param.
    return token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params);
  }

  onNotification(method: string, handler: Handler): Disposable {
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

  /** Answer a server-to-client request (on this client and every restarted one). */
  onRequest(method: string, handler: RequestHandler): Disposable {
    const entry = { method, handler };
    this.requestHandlers.push(entry);
    if (this.client) {
      this.clientSubscriptions.push(this.client.onRequest(method, handler));
    }
    return {
      dispose: () => {
        const i = this.requestHandlers.indexOf(entry);
        if (i >= 0) {
          this.requestHandlers.splice(i, 1);
        }
      },
    };
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.ready();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientSubscriptions.splice(0).forEach((s) => s.dispose());
    if (client) {
      try {
        await client.dispose(5000);
      } catch (err) {
        this.output.appendLine(`Stopping the server failed: ${String(err)}`);
      }
    }
    this.stateEmitter.fire("stopped");
  }

  private async start(): Promise<LanguageClient> {
    this.stateEmitter.fire("starting");
    const settings = readSettings(vscode.workspace.getConfiguration(SECTION));
    const folder = vscode.workspace.workspaceFolders?.[0];
    const launch = buildServerLaunch(settings, folder?.uri.fsPath);
    this.output.appendLine(`Starting ${describeLaunch(launch)}`);
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      transport: TransportKind.stdio,
      options: { cwd: launch.cwd, env: launch.env },
    };
    const clientOptions: LanguageClientOptions = {
      // The server is an agent, not a per-language server: it needs no document sync.
      documentSelector: [],
      workspaceFolder: folder,
      outputChannel: this.output,
      traceOutputChannel: this.traceOutput,
      initializationOptions: initializationOptions(settings),
    };
    // The id "victor" makes the client honour the `victor.trace.server` setting.
    const client = new LanguageClient("victor", "Victor", serverOptions, clientOptions);
    for (const { method, handler } of this.handlers) {
      this.clientSubscriptions.push(client.onNotification(method, handler));
    }
    for (const { method, handler } of this.requestHandlers) {
      this.clientSubscriptions.push(client.onRequest(method, handler));
    }
    this.clientSubscriptions.push(
      client.onDidChangeState((e) => {
        this.stateEmitter.fire(e.newState === State.Running ? "running"
          : e.newState === State.Starting ? "starting" : "stopped");
      }),
    );
    try {
      await client.start();
    } catch (err) {
      this.output.appendLine(`The server did not start: ${String(err)}`);
      this.stateEmitter.fire("stopped");
      void vscode.window.showErrorMessage(
        `Victor: could not start "${describeLaunch(launch)}". Is victor-server on PATH? ` +
          "See the Victor output channel.", "Show Output",
      ).then((choice) => choice && this.output.show());
      throw err;
    }
    this.client = client;
    return client;
  }

  dispose(): void {
    void this.stop();
    this.configWatch.dispose();
    this.stateEmitter.dispose();
    this.output.dispose();
    this.traceOutput.dispose();
  }
}

/**
 * Test harness: the real `victor-server lsp` over stdio, driven with vscode-jsonrpc, launched
 * through the extension's own `buildServerLaunch` so the tests start it the way VS Code does.
 *
 * The server command comes from `VICTOR_SERVER_CMD` (space-separated) when set, else
 * `victor-server` from PATH, else `python -m victor_server`. Each server gets a fresh temporary
 * workspace and database. `startFakeAnthropic` runs the repository's loopback fake of the
 * Anthropic API (tests/support/fake_anthropic.py) with a script of replies.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  createMessageConnection,
  type MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-jsonrpc/node";
import { buildServerLaunch } from "../src/serverCommand";
import { DEFAULT_SETTINGS, type VictorSettings } from "../src/settings";

export const REPO_ROOT = path.resolve(__dirname, "../../../..");
const PYTHON = process.env.PYTHON ?? "python3";

function serverCommand(): string[] {
  const configured = process.env.VICTOR_SERVER_CMD?.trim();
  if (configured) {
    return configured.split(/\s+/);
  }
  const probe = spawnSync("victor-server", ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? ["victor-server"] : [PYTHON, "-m", "victor_server"];
}

export interface RunningServer {
  connection: MessageConnection;
  initializeResult: { capabilities: Record<string, unknown> };
  workspace: string;
  stderr: () => string;
  close(): Promise<void>;
}

export async function startServer(
  env: Record<string, string> = {},
  files: Record<string, string> = {},
  initializationOptions: Record<string, unknown> = {},
): Promise<RunningServer> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "victor-vscode-"));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.writeFileSync(path.join(workspace, name), content);
  }
  const [command, ...args] = serverCommand();
  const settings: VictorSettings = {
    ...DEFAULT_SETTINGS,
    server: { ...DEFAULT_SETTINGS.server, command, args: [...args, "lsp"], env },
  };
  const launch = buildServerLaunch(settings, workspace, {
    ...process.env,
    VICTOR_DB: path.join(workspace, ".victor", "victor.db"),
    PYTHONPATH: REPO_ROOT,
  });
  const proc = spawn(launch.command, launch.args, {
    cwd: launch.cwd, env: launch.env, stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const connection = createMessageConnection(
    new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin),
  );
  connection.listen();
  const exited = new Promise<never>((_, reject) => {
    proc.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${stderr}`)));
  });
  exited.catch(() => undefined);
  const initializeResult = await Promise.race([
    connection.sendRequest<RunningServer["initializeResult"]>("initialize", {
      processId: process.pid,
      rootUri: `file://${workspace}`,
      workspaceFolders: [{ uri: `file://${workspace}`, name: "ws" }],
      capabilities: {},
      initializationOptions,
    }),
    exited,
  ]);
  await connection.sendNotification("initialized", {});
  return {
    connection,
    initializeResult,
    workspace,
    stderr: () => stderr,
    close: () => stopServer(connection, proc, workspace),
  };
}

async function stopServer(
  connection: MessageConnection, proc: ChildProcess, workspace: string,
): Promise<void> {
  if (proc.exitCode === null) {
    try {
      await Promise.race([
        connection.sendRequest("shutdown").then(() => connection.sendNotification("exit")),
        new Promise((resolve) => setTimeout(resolve, 3000)),
      ]);
    } catch {
      // Already gone; killing below is enough.
    }
  }
  await new Promise<void>((resolve) => {
    if (proc.exitCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
    proc.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  connection.dispose();
  fs.rmSync(workspace, { recursive: true, force: true });
}

export interface FakeAnthropic {
  env: Record<string, string>;
  close(): void;
}

/** Start tests/support/fake_anthropic.py with `replies` queued (see its module docstring). */
export async function startFakeAnthropic(replies: unknown[]): Promise<FakeAnthropic> {
  const scriptFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "victor-fake-")), "s.json");
  fs.writeFileSync(scriptFile, JSON.stringify(replies));
  const proc = spawn(PYTHON, [path.join(REPO_ROOT, "tests", "support", "fake_anthropic.py"), "--script", scriptFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (chunk: string) => {
      out += chunk;
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        resolve(Number(m[1]));
      }
    });
    proc.on("exit", (code) => reject(new Error(`fake_anthropic exited with ${code}`)));
  });
  return {
    env: {
      VICTOR_PROVIDER: "anthropic",
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
      ANTHROPIC_API_KEY: "test",
    },
    close: () => {
      proc.kill();
      fs.rmSync(path.dirname(scriptFile), { recursive: true, force: true });
    },
  };
}

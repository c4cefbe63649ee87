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
exports.REPO_ROOT = void 0;
exports.startServer = startServer;
exports.startFakeAnthropic = startFakeAnthropic;
/**
 * Test harness: the real `victor-server lsp` over stdio, driven with vscode-jsonrpc, launched
 * through the extension's own `buildServerLaunch` so the tests start it the way VS Code does.
 *
 * The server command comes from `VICTOR_SERVER_CMD` (space-separated) when set, else
 * `victor-server` from PATH, else `python -m victor_server`. Each server gets a fresh temporary
 * workspace and database. `startFakeAnthropic` runs the repository's loopback fake of the
 * Anthropic API (tests/fake_anthropic.py) with a script of replies.
 */
const node_child_process_1 = require("node:child_process");
const fs = __importStar(require("node:fs"));
const os = __importStar(require("node:os"));
const path = __importStar(require("node:path"));
const node_1 = require("vscode-jsonrpc/node");
const serverCommand_1 = require("../src/serverCommand");
const settings_1 = require("../src/settings");
exports.REPO_ROOT = path.resolve(__dirname, "../../../..");
const PYTHON = process.env.PYTHON ?? "python3";
function serverCommand() {
    const configured = process.env.VICTOR_SERVER_CMD?.trim();
    if (configured) {
        return configured.split(/\s+/);
    }
    const probe = (0, node_child_process_1.spawnSync)("victor-server", ["--version"], { encoding: "utf8" });
    return probe.status === 0 ? ["victor-server"] : [PYTHON, "-m", "victor_server"];
}
async function startServer(env = {}, files = {}) {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "victor-vscode-"));
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
        fs.writeFileSync(path.join(workspace, name), content);
    }
    const [command, ...args] = serverCommand();
    const settings = {
        ...settings_1.DEFAULT_SETTINGS,
        server: { ...settings_1.DEFAULT_SETTINGS.server, command, args: [...args, "lsp"], env },
    };
    const launch = (0, serverCommand_1.buildServerLaunch)(settings, workspace, {
        ...process.env,
        VICTOR_DB: path.join(workspace, ".victor", "victor.db"),
        PYTHONPATH: exports.REPO_ROOT,
    });
    const proc = (0, node_child_process_1.spawn)(launch.command, launch.args, {
        cwd: launch.cwd, env: launch.env, stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (chunk) => {
        stderr += chunk;
    });
    const connection = (0, node_1.createMessageConnection)(new node_1.StreamMessageReader(proc.stdout), new node_1.StreamMessageWriter(proc.stdin));
    connection.listen();
    const exited = new Promise((_, reject) => {
        proc.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${stderr}`)));
    });
    exited.catch(() => undefined);
    const initializeResult = await Promise.race([
        connection.sendRequest("initialize", {
            processId: process.pid,
            rootUri: `file://${workspace}`,
            workspaceFolders: [{ uri: `file://${workspace}`, name: "ws" }],
            capabilities: {},
            initializationOptions: {},
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
async function stopServer(connection, proc, workspace) {
    if (proc.exitCode === null) {
        try {
            await Promise.race([
                connection.sendRequest("shutdown").then(() => connection.sendNotification("exit")),
                new Promise((resolve) => setTimeout(resolve, 3000)),
            ]);
        }
        catch {
            // Already gone; killing below is enough.
        }
    }
    await new Promise((resolve) => {
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
/** Start tests/fake_anthropic.py with `replies` queued (see its module docstring). */
async function startFakeAnthropic(replies) {
    const scriptFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "victor-fake-")), "s.json");
    fs.writeFileSync(scriptFile, JSON.stringify(replies));
    const proc = (0, node_child_process_1.spawn)(PYTHON, [path.join(exports.REPO_ROOT, "tests", "fake_anthropic.py"), "--script", scriptFile], {
        stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise((resolve, reject) => {
        let out = "";
        proc.stdout.setEncoding("utf8");
        proc.stdout.on("data", (chunk) => {
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
//# sourceMappingURL=harness.js.map
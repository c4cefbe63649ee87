/**
 * The extension's settings, typed in one place.
 *
 * `package.json` `contributes.configuration` declares them for the Settings UI; this module is
 * what the code reads. It takes a minimal `SettingsSource` (VS Code's `WorkspaceConfiguration`
 * satisfies it) so it can be tested without VS Code. Invalid values never throw: each falls back
 * to its default, the way a language server treats bad client options.
 */

export type TraceLevel = "off" | "messages" | "verbose";

export interface VictorSettings {
  server: {
    /** Executable, looked up on PATH. */
    command: string;
    /** Arguments; `--workspace <folder>` is appended unless present. */
    args: string[];
    /** Extra environment for the server process. */
    env: Record<string, string>;
    /** Sent as `initializationOptions.authToken` when non-empty. */
    authToken: string;
  };
  chat: { stream: boolean };
  trace: { server: TraceLevel };
}

export const DEFAULT_SETTINGS: VictorSettings = {
  server: { command: "victor-server", args: ["lsp"], env: {}, authToken: "" },
  chat: { stream: true },
  trace: { server: "off" },
};

/** The settings section; every key above lives under `victor.`. */
export const SECTION = "victor";

/** What `vscode.workspace.getConfiguration("victor")` offers that we use. */
export interface SettingsSource {
  get<T>(key: string): T | undefined;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value.trim() !== "" ? value : fallback;
}

function stringListOr(value: unknown, fallback: string[]): string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string")
    ? [...value]
    : [...fallback];
}

function stringMapOr(value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return {};
  }
  const env: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === "string") {
      env[key] = v;
    }
  }
  return env;
}

function traceOr(value: unknown): TraceLevel {
  return value === "messages" || value === "verbose" ? value : "off";
}

export function readSettings(source: SettingsSource): VictorSettings {
  const d = DEFAULT_SETTINGS;
  return {
    server: {
      command: stringOr(source.get("server.command"), d.server.command),
      args: stringListOr(source.get("server.args"), d.server.args),
      env: stringMapOr(source.get("server.env")),
      authToken: typeof source.get("server.authToken") === "string"
        ? (source.get<string>("server.authToken") ?? "")
        : "",
    },
    chat: {
      stream: typeof source.get("chat.stream") === "boolean"
        ? (source.get<boolean>("chat.stream") ?? true)
        : d.chat.stream,
    },
    trace: { server: traceOr(source.get("trace.server")) },
  };
}

/** Keys whose change means the server must be restarted (a new process or new init options).
 * `trace.server` is left out: the language client applies it live. */
export const RESTART_KEYS = ["victor.server"] as const;

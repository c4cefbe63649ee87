"use strict";
/**
 * The extension's settings, typed in one place.
 *
 * `package.json` `contributes.configuration` declares them for the Settings UI; this module is
 * what the code reads. It takes a minimal `SettingsSource` (VS Code's `WorkspaceConfiguration`
 * satisfies it) so it can be tested without VS Code. Invalid values never throw: each falls back
 * to its default, the way a language server treats bad client options.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.RESTART_KEYS = exports.SECTION = exports.DEFAULT_SETTINGS = void 0;
exports.readSettings = readSettings;
exports.DEFAULT_SETTINGS = {
    server: { command: "victor-server", args: ["lsp"], env: {}, authToken: "" },
    chat: { stream: true },
    trace: { server: "off" },
};
/** The settings section; every key above lives under `victor.`. */
exports.SECTION = "victor";
function stringOr(value, fallback) {
    return typeof value === "string" && value.trim() !== "" ? value : fallback;
}
function stringListOr(value, fallback) {
    return Array.isArray(value) && value.every((v) => typeof v === "string")
        ? [...value]
        : [...fallback];
}
function stringMapOr(value) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return {};
    }
    const env = {};
    for (const [key, v] of Object.entries(value)) {
        if (typeof v === "string") {
            env[key] = v;
        }
    }
    return env;
}
function traceOr(value) {
    return value === "messages" || value === "verbose" ? value : "off";
}
function readSettings(source) {
    const d = exports.DEFAULT_SETTINGS;
    return {
        server: {
            command: stringOr(source.get("server.command"), d.server.command),
            args: stringListOr(source.get("server.args"), d.server.args),
            env: stringMapOr(source.get("server.env")),
            authToken: typeof source.get("server.authToken") === "string"
                ? (source.get("server.authToken") ?? "")
                : "",
        },
        chat: {
            stream: typeof source.get("chat.stream") === "boolean"
                ? (source.get("chat.stream") ?? true)
                : d.chat.stream,
        },
        trace: { server: traceOr(source.get("trace.server")) },
    };
}
/** Keys whose change means the server must be restarted (a new process or new init options).
 * `trace.server` is left out: the language client applies it live. */
exports.RESTART_KEYS = ["victor.server"];
//# sourceMappingURL=settings.js.map
"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
/** Client logic that needs no server: settings, launch, formatting, selection messages. */
const strict_1 = __importDefault(require("node:assert/strict"));
const node_test_1 = require("node:test");
const chatSession_1 = require("../src/chatSession");
const protocol_1 = require("../src/protocol");
const reports_1 = require("../src/reports");
const serverCommand_1 = require("../src/serverCommand");
const settings_1 = require("../src/settings");
function source(values) {
    return { get: (key) => values[key] };
}
(0, node_test_1.test)("settings fall back to defaults on missing or invalid values", () => {
    strict_1.default.deepEqual((0, settings_1.readSettings)(source({})), settings_1.DEFAULT_SETTINGS);
    const bad = (0, settings_1.readSettings)(source({
        "server.command": "  ", "server.args": ["lsp", 3], "server.env": { A: "1", B: 2 },
        "trace.server": "loud", "chat.stream": "yes",
    }));
    strict_1.default.equal(bad.server.command, "victor-server");
    strict_1.default.deepEqual(bad.server.args, ["lsp"]);
    strict_1.default.deepEqual(bad.server.env, { A: "1" });
    strict_1.default.equal(bad.trace.server, "off");
    strict_1.default.equal(bad.chat.stream, true);
});
(0, node_test_1.test)("launch appends the workspace folder unless the args name one", () => {
    const settings = (0, settings_1.readSettings)(source({ "server.env": { VICTOR_PROVIDER: "scripted" } }));
    const launch = (0, serverCommand_1.buildServerLaunch)(settings, "/work/my project", { PATH: "/bin" });
    strict_1.default.deepEqual(launch.args, ["lsp", "--workspace", "/work/my project"]);
    strict_1.default.equal(launch.cwd, "/work/my project");
    strict_1.default.deepEqual(launch.env, { PATH: "/bin", VICTOR_PROVIDER: "scripted" });
    strict_1.default.equal((0, serverCommand_1.describeLaunch)(launch), 'victor-server lsp --workspace "/work/my project"');
    const pinned = (0, settings_1.readSettings)(source({ "server.args": ["lsp", "--workspace", "/w"] }));
    strict_1.default.deepEqual((0, serverCommand_1.buildServerLaunch)(pinned, "/x", {}).args, ["lsp", "--workspace", "/w"]);
    strict_1.default.deepEqual((0, serverCommand_1.buildServerLaunch)(settings, undefined, {}).args, ["lsp"]);
});
(0, node_test_1.test)("auth token goes into initializationOptions only when set", () => {
    strict_1.default.deepEqual((0, serverCommand_1.initializationOptions)(settings_1.DEFAULT_SETTINGS), {});
    const s = (0, settings_1.readSettings)(source({ "server.authToken": "tok" }));
    strict_1.default.deepEqual((0, serverCommand_1.initializationOptions)(s), { authToken: "tok" });
});
(0, node_test_1.test)("token counts are compact and usage adds up", () => {
    strict_1.default.deepEqual([950, 1234, 12_345, 2_500_000].map(chatSession_1.formatTokens), ["950", "1.2k", "12k", "2.5M"]);
    const u = (0, chatSession_1.addUsage)({ inputTokens: 1, outputTokens: 2, totalTokens: 3 }, { inputTokens: 10, outputTokens: 5 });
    strict_1.default.deepEqual(u, { inputTokens: 11, outputTokens: 7, totalTokens: 18 });
});
(0, node_test_1.test)("stored content blocks become readable transcript text", () => {
    const blocks = [
        { type: "text", text: "Reading it." },
        { type: "tool_use", id: "t1", name: "read", input: { path: "a" } },
    ];
    strict_1.default.equal((0, protocol_1.contentText)(blocks), "Reading it.\n[tool read]");
    const entries = (0, chatSession_1.transcript)({
        sessionId: "s", tenantId: null, title: null, createdAt: "", updatedAt: "", messageCount: 3,
        usage: null,
        messages: [
            { role: "user", content: "hi" },
            { role: "assistant", content: blocks },
            { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "x" }] },
        ],
    });
    strict_1.default.deepEqual(entries.map((e) => e.role), ["user", "assistant"]);
});
(0, node_test_1.test)("selection message fences code and names the file and lines", () => {
    const { message, context } = (0, reports_1.selectionMessage)("Why?", {
        text: "x = 1", languageId: "python", path: "src/a.py", startLine: 3, endLine: 4,
    });
    strict_1.default.equal(message, "Why?\n\nFrom `src/a.py` lines 3-4:\n```python\nx = 1\n```");
    strict_1.default.deepEqual(context, { language: "python", file: "src/a.py" });
    strict_1.default.match((0, reports_1.selectionMessage)("", { text: "```", languageId: "md", path: "r.md", startLine: 1, endLine: 1 }).message, /^Explain this code\.\n\nFrom `r.md` line 1:\n````md/);
});
(0, node_test_1.test)("compaction report shows before and after", () => {
    strict_1.default.equal((0, reports_1.compactionReport)({ strategy: "recent", before: { messages: 9, tokens: 900 }, after: { messages: 3, tokens: 200 } }), "Compacted with recent: 9 messages / 900 tokens → 3 messages / 200 tokens");
});
//# sourceMappingURL=pure.test.js.map
"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
/**
 * The chat client against the real `victor-server lsp`: the scripted provider for offline
 * turns, and the fake Anthropic API for tool calls and cancellation mid-stream.
 */
const strict_1 = __importDefault(require("node:assert/strict"));
const node_test_1 = require("node:test");
const node_1 = require("vscode-jsonrpc/node");
const chatSession_1 = require("../src/chatSession");
const protocol_1 = require("../src/protocol");
const reports_1 = require("../src/reports");
const harness_1 = require("./harness");
(0, node_test_1.describe)("scripted provider", () => {
    let server;
    let router;
    (0, node_test_1.before)(async () => {
        server = await (0, harness_1.startServer)({ VICTOR_PROVIDER: "scripted" }, { "README.md": "# demo\n" });
        router = new chatSession_1.NotificationRouter(server.connection);
    });
    (0, node_test_1.after)(async () => {
        router.dispose();
        await server.close();
    });
    (0, node_test_1.test)("initialize lists the custom methods", () => {
        const experimental = server.initializeResult.capabilities.experimental;
        const listed = JSON.stringify(experimental.victor);
        for (const method of [protocol_1.Methods.chat, protocol_1.Methods.selectTools, protocol_1.Methods.sessionList]) {
            strict_1.default.ok(listed.includes(method), `${method} missing from ${listed}`);
        }
    });
    (0, node_test_1.test)("a turn streams deltas that add up to the reply, then resumes", async () => {
        const chat = new chatSession_1.ChatSession(server.connection, router);
        let streamed = "";
        const first = await chat.send("hello victor", { onDelta: (t) => (streamed += t) });
        strict_1.default.ok(first.content.length > 0);
        strict_1.default.equal(streamed, first.content);
        strict_1.default.equal(first.sessionId, chat.sessionId);
        strict_1.default.ok(first.usage.totalTokens > 0);
        strict_1.default.equal(first.usage.totalTokens, first.usage.inputTokens + first.usage.outputTokens);
        strict_1.default.deepEqual(chat.usage, first.usage);
        const second = await chat.send("and again");
        strict_1.default.equal(second.sessionId, first.sessionId);
        strict_1.default.equal(chat.usage.totalTokens, first.usage.totalTokens + second.usage.totalTokens);
        const listed = await (0, chatSession_1.listSessions)(server.connection);
        const mine = listed.find((s) => s.sessionId === first.sessionId);
        strict_1.default.ok(mine, "the session is listed");
        strict_1.default.equal(mine.title, "hello victor");
        const resumed = new chatSession_1.ChatSession(server.connection, router);
        const stored = await resumed.resume(first.sessionId);
        const texts = (0, chatSession_1.transcript)(stored).map((e) => `${e.role}: ${e.text}`);
        strict_1.default.deepEqual(texts.slice(0, 4), [
            "user: hello victor", `assistant: ${first.content}`,
            "user: and again", `assistant: ${second.content}`,
        ]);
        const third = await resumed.send("third turn");
        strict_1.default.equal(third.sessionId, first.sessionId);
    });
    (0, node_test_1.test)("tool selection, compaction and analytics answer in the documented shapes", async () => {
        const tools = await server.connection.sendRequest(protocol_1.Methods.selectTools, { query: "read the README file", maxTools: 3 });
        strict_1.default.ok(tools.tools.length > 0 && tools.tools.length <= 3);
        strict_1.default.equal((0, reports_1.toolChoiceLines)(tools).length, tools.tools.length);
        const chat = new chatSession_1.ChatSession(server.connection, router);
        for (const m of ["one", "two", "three"]) {
            await chat.send(m);
        }
        const compacted = await server.connection.sendRequest(protocol_1.Methods.compactContext, { sessionId: chat.sessionId });
        strict_1.default.ok(compacted.after.tokens <= compacted.before.tokens);
        strict_1.default.match((0, reports_1.compactionReport)(compacted), /^Compacted with \w+: \d+ messages/);
        const summary = await server.connection.sendRequest(protocol_1.Methods.analyticsSummary, {});
        strict_1.default.ok(summary.sessions >= 1);
        strict_1.default.ok(summary.tokens.total > 0);
        strict_1.default.match((0, reports_1.analyticsReport)(summary), /^# Victor analytics\n\nSessions: \d+/);
    });
});
(0, node_test_1.describe)("fake Anthropic API", () => {
    let fake;
    let server;
    let router;
    (0, node_test_1.before)(async () => {
        fake = await (0, harness_1.startFakeAnthropic)([
            { kind: "tool_use", name: "read", input: { path: "notes.txt" }, text_before: "Let me look." },
            { kind: "text", text: "The notes say: ship it." },
            { kind: "slow_text", chunks: ["one ", "two ", "three ", "four ", "five "], delay: 0.4 },
        ]);
        server = await (0, harness_1.startServer)(fake.env, { "notes.txt": "ship it\n" });
        router = new chatSession_1.NotificationRouter(server.connection);
    });
    (0, node_test_1.after)(async () => {
        router.dispose();
        await server.close();
        fake.close();
    });
    (0, node_test_1.test)("tool calls are notified while the turn runs and reported in the result", async () => {
        const chat = new chatSession_1.ChatSession(server.connection, router);
        const calls = [];
        let streamed = "";
        const result = await chat.send("what do my notes say?", {
            onDelta: (t) => (streamed += t),
            onToolCall: (c) => calls.push(c),
        });
        strict_1.default.equal(result.toolCalls.length, 1);
        strict_1.default.equal(result.toolCalls[0].name, "read");
        strict_1.default.equal(result.toolCalls[0].isError, false);
        strict_1.default.ok(calls.length >= 1, "a victor/toolCall notification arrived");
        strict_1.default.ok(calls.every((c) => c.name === "read" && c.id === result.toolCalls[0].id));
        strict_1.default.ok(result.content.endsWith("The notes say: ship it."), result.content);
        strict_1.default.ok(streamed.includes("The notes say: ship it."));
    });
    (0, node_test_1.test)("cancelling a streaming turn ends it with stopReason cancelled", async () => {
        const chat = new chatSession_1.ChatSession(server.connection, router);
        const source = new node_1.CancellationTokenSource();
        let streamed = "";
        const result = await chat.send("count slowly", {
            token: source.token,
            onDelta: (t) => {
                streamed += t;
                source.cancel();
            },
        });
        strict_1.default.equal(result.stopReason, "cancelled");
        strict_1.default.ok(streamed.startsWith("one"));
        strict_1.default.ok(!result.content.includes("five"), result.content);
    });
});
//# sourceMappingURL=server.test.js.map
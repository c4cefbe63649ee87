/**
 * The chat client against the real `victor-server lsp`: the scripted provider for offline
 * turns, and the fake Anthropic API for tool calls and cancellation mid-stream.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CancellationTokenSource } from "vscode-jsonrpc/node";
import { ChatSession, listSessions, NotificationRouter, transcript } from "../src/chatSession";
import {
  type AnalyticsSummary,
  type CompactContextResult,
  Methods,
  type SelectToolsResult,
  type ToolCallParams,
} from "../src/protocol";
import { analyticsReport, compactionReport, toolChoiceLines } from "../src/reports";
import { type FakeAnthropic, type RunningServer, startFakeAnthropic, startServer } from "./harness";

describe("scripted provider", () => {
  let server: RunningServer;
  let router: NotificationRouter;

  before(async () => {
    server = await startServer({ VICTOR_PROVIDER: "scripted" }, { "README.md": "# demo\n" });
    router = new NotificationRouter(server.connection);
  });
  after(async () => {
    router.dispose();
    await server.close();
  });

  test("initialize lists the custom methods", () => {
    const experimental = server.initializeResult.capabilities.experimental as { victor: unknown };
    const listed = JSON.stringify(experimental.victor);
    for (const method of [Methods.chat, Methods.selectTools, Methods.sessionList]) {
      assert.ok(listed.includes(method), `${method} missing from ${listed}`);
    }
  });

  test("a turn streams deltas that add up to the reply, then resumes", async () => {
    const chat = new ChatSession(server.connection, router);
    let streamed = "";
    const first = await chat.send("hello victor", { onDelta: (t) => (streamed += t) });
    assert.ok(first.content.length > 0);
    assert.equal(streamed, first.content);
    assert.equal(first.sessionId, chat.sessionId);
    assert.ok(first.usage.totalTokens > 0);
    assert.equal(first.usage.totalTokens, first.usage.inputTokens + first.usage.outputTokens);
    assert.deepEqual(chat.usage, first.usage);

    const second = await chat.send("and again");
    assert.equal(second.sessionId, first.sessionId);
    assert.equal(chat.usage.totalTokens, first.usage.totalTokens + second.usage.totalTokens);

    const listed = await listSessions(server.connection);
    const mine = listed.find((s) => s.sessionId === first.sessionId);
    assert.ok(mine, "the session is listed");
    assert.equal(mine.title, "hello victor");

    const resumed = new ChatSession(server.connection, router);
    const stored = await resumed.resume(first.sessionId);
    const texts = transcript(stored).map((e) => `${e.role}: ${e.text}`);
    assert.deepEqual(texts.slice(0, 4), [
      "user: hello victor", `assistant: ${first.content}`,
      "user: and again", `assistant: ${second.content}`,
    ]);
    const third = await resumed.send("third turn");
    assert.equal(third.sessionId, first.sessionId);
  });

  test("tool selection, compaction and analytics answer in the documented shapes", async () => {
    const tools = await server.connection.sendRequest<SelectToolsResult>(
      Methods.selectTools, { query: "read the README file", maxTools: 3 });
    assert.ok(tools.tools.length > 0 && tools.tools.length <= 3);
    assert.equal(toolChoiceLines(tools).length, tools.tools.length);

    const chat = new ChatSession(server.connection, router);
    for (const m of ["one", "two", "three"]) {
      await chat.send(m);
    }
    const compacted = await server.connection.sendRequest<CompactContextResult>(
      Methods.compactContext, { sessionId: chat.sessionId });
    assert.ok(compacted.after.tokens <= compacted.before.tokens);
    assert.match(compactionReport(compacted), /^Compacted with \w+: \d+ messages/);

    const summary = await server.connection.sendRequest<AnalyticsSummary>(
      Methods.analyticsSummary, {});
    assert.ok(summary.sessions >= 1);
    assert.ok(summary.tokens.total > 0);
    assert.match(analyticsReport(summary), /^# Victor analytics\n\nSessions: \d+/);
  });
});

describe("fake Anthropic API", () => {
  let fake: FakeAnthropic;
  let server: RunningServer;
  let router: NotificationRouter;

  before(async () => {
    fake = await startFakeAnthropic([
      { kind: "tool_use", name: "read", input: { path: "notes.txt" }, text_before: "Let me look." },
      { kind: "text", text: "The notes say: ship it." },
      { kind: "slow_text", chunks: ["one ", "two ", "three ", "four ", "five "], delay: 0.4 },
    ]);
    server = await startServer(fake.env, { "notes.txt": "ship it\n" });
    router = new NotificationRouter(server.connection);
  });
  after(async () => {
    router.dispose();
    await server.close();
    fake.close();
  });

  test("tool calls are notified while the turn runs and reported in the result", async () => {
    const chat = new ChatSession(server.connection, router);
    const calls: ToolCallParams[] = [];
    let streamed = "";
    const result = await chat.send("what do my notes say?", {
      onDelta: (t) => (streamed += t),
      onToolCall: (c) => calls.push(c),
    });
    assert.equal(result.toolCalls.length, 1);
    assert.equal(result.toolCalls[0].name, "read");
    assert.equal(result.toolCalls[0].isError, false);
    assert.ok(calls.length >= 1, "a victor/toolCall notification arrived");
    assert.ok(calls.every((c) => c.name === "read" && c.id === result.toolCalls[0].id));
    assert.ok(result.content.endsWith("The notes say: ship it."), result.content);
    assert.ok(streamed.includes("The notes say: ship it."));
  });

  test("cancelling a streaming turn ends it with stopReason cancelled", async () => {
    const chat = new ChatSession(server.connection, router);
    const source = new CancellationTokenSource();
    let streamed = "";
    const result = await chat.send("count slowly", {
      token: source.token,
      onDelta: (t) => {
        streamed += t;
        source.cancel();
      },
    });
    assert.equal(result.stopReason, "cancelled");
    assert.ok(streamed.startsWith("one"));
    assert.ok(!result.content.includes("five"), result.content);
  });
});

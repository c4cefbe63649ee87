// Drives `victor-server acp` with the TypeScript ACP SDK (@agentclientprotocol/sdk 2.x).
//
// Run by tests/test_acp_node.py, which starts the fake Anthropic API, queues the model's replies
// and passes: VICTOR_PYTHON (interpreter), VICTOR_WORKSPACE (absolute dir), ANTHROPIC_BASE_URL,
// ANTHROPIC_API_KEY. Prints one JSON line with what it saw; any failed assertion exits non-zero.
//
// Scenario: initialize -> session/new -> a streamed answer -> a write allowed once (file
// written) -> an edit rejected (file untouched) -> a slow answer cancelled mid-stream; then a
// fresh process loads the session and must replay the history.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";

import { client, methods, ndJsonStream, PROTOCOL_VERSION } from "@agentclientprotocol/sdk";

const python = process.env.VICTOR_PYTHON ?? "python3";
const workspace = process.env.VICTOR_WORKSPACE;
assert.ok(workspace, "VICTOR_WORKSPACE is required");

function startAgent() {
  const child = spawn(python, ["-m", "victor_server", "acp", "--workspace", workspace,
    "--db", join(workspace, "node-acp.db")], { stdio: ["pipe", "pipe", "inherit"] });
  const stream = ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout));
  return { child, stream };
}

function recordingClient(answers, updates) {
  return client({ name: "victor-node-test" })
    .onRequest(methods.client.session.requestPermission, ({ params }) => {
      const optionId = answers.shift();
      assert.ok(optionId, `unexpected permission request: ${params.toolCall.title}`);
      return { outcome: { outcome: "selected", optionId } };
    })
    .onNotification(methods.client.session.update, ({ params }) => {
      updates.push(params.update);
    });
}

const said = (updates) => updates
  .filter((u) => u.sessionUpdate === "agent_message_chunk")
  .map((u) => u.content.text).join("");

async function firstProcess() {
  const updates = [];
  const answers = ["allow_once", "reject_once"];
  const { child, stream } = startAgent();
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const result = await recordingClient(answers, updates).connectWith(stream, async (ctx) => {
    const init = await ctx.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION, clientCapabilities: {},
    });
    assert.equal(init.protocolVersion, 1);
    assert.equal(init.agentCapabilities.loadSession, true);

    const { sessionId, configOptions } = await ctx.request(methods.agent.session.new,
      { cwd: workspace, mcpServers: [] });
    assert.equal(configOptions[0].id, "model");

    const prompt = (text) => ctx.request(methods.agent.session.prompt,
      { sessionId, prompt: [{ type: "text", text }] });

    const hello = await prompt("say hello");
    assert.equal(hello.stopReason, "end_turn");
    assert.equal(said(updates), "Hello from node");
    assert.ok(updates.some((u) => u.sessionUpdate === "usage_update" && u.size > 0));

    const allowed = await prompt("write notes");
    assert.equal(allowed.stopReason, "end_turn");
    assert.equal(readFileSync(join(workspace, "notes.txt"), "utf8"), "from node\n");

    const rejected = await prompt("edit notes");
    assert.equal(rejected.stopReason, "end_turn");
    assert.equal(readFileSync(join(workspace, "notes.txt"), "utf8"), "from node\n");

    // a call is pending while the user is asked, in progress only once allowed
    const started = updates.filter((u) => u.sessionUpdate === "tool_call");
    assert.deepEqual(started.map((u) => u.status), ["pending", "pending"]);
    const tools = updates.filter((u) => u.sessionUpdate === "tool_call_update");
    assert.deepEqual(tools.map((u) => u.status), ["in_progress", "completed", "failed"]);
    assert.equal(tools[1].content[0].type, "diff");

    const before = said(updates).length;
    const slow = prompt("talk slowly");
    while (said(updates).length === before) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await ctx.notify(methods.agent.session.cancel, { sessionId });
    const cancelled = await slow;
    assert.equal(cancelled.stopReason, "cancelled");
    assert.ok(!said(updates).includes("word39"));
    return { sessionId, updates: updates.length };
  });
  child.stdin.end();
  await exited;
  assert.equal(answers.length, 0);
  return result;
}

async function secondProcess(sessionId) {
  const updates = [];
  const { child, stream } = startAgent();
  const exited = new Promise((resolve) => child.on("exit", resolve));
  await recordingClient([], updates).connectWith(stream, async (ctx) => {
    await ctx.request(methods.agent.initialize, { protocolVersion: PROTOCOL_VERSION });
    const listed = await ctx.request(methods.agent.session.list, { cwd: workspace });
    assert.ok(listed.sessions.some((s) => s.sessionId === sessionId));
    await ctx.request(methods.agent.session.load, { sessionId, cwd: workspace, mcpServers: [] });
  });
  child.stdin.end();
  await exited;
  const users = updates.filter((u) => u.sessionUpdate === "user_message_chunk")
    .map((u) => u.content.text);
  assert.deepEqual(users.slice(0, 4), ["say hello", "write notes", "edit notes", "talk slowly"]);
  assert.ok(said(updates).startsWith("Hello from node"));
  assert.equal(updates.filter((u) => u.sessionUpdate === "tool_call").length, 2);
  return updates.length;
}

const first = await firstProcess();
const replayed = await secondProcess(first.sessionId);
console.log(JSON.stringify({ ok: true, sessionId: first.sessionId, replayed }));

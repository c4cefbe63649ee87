/** Client logic that needs no server: settings, launch, formatting, selection messages. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { addUsage, formatTokens, timestampText, transcript } from "../src/chatSession";
import { contentText } from "../src/protocol";
import { compactionReport, selectionMessage } from "../src/reports";
import { answerPermission, optionFor, type PermissionRequest, permissionPrompt } from "../src/permissions";
import { buildServerLaunch, describeLaunch, initializationOptions } from "../src/serverCommand";
import { DEFAULT_SETTINGS, readSettings } from "../src/settings";

function source(values: Record<string, unknown>) {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

test("settings fall back to defaults on missing or invalid values", () => {
  assert.deepEqual(readSettings(source({})), DEFAULT_SETTINGS);
  const bad = readSettings(source({
    "server.command": "  ", "server.args": ["lsp", 3], "server.env": { A: "1", B: 2 },
    "trace.server": "loud", "chat.stream": "yes",
  }));
  assert.equal(bad.server.command, "victor-server");
  assert.deepEqual(bad.server.args, ["lsp"]);
  assert.deepEqual(bad.server.env, { A: "1" });
  assert.equal(bad.trace.server, "off");
  assert.equal(bad.chat.stream, true);
});

test("launch appends the workspace folder unless the args name one", () => {
  const settings = readSettings(source({ "server.env": { VICTOR_PROVIDER: "scripted" } }));
  const launch = buildServerLaunch(settings, "/work/my project", { PATH: "/bin" });
  assert.deepEqual(launch.args, ["lsp", "--workspace", "/work/my project"]);
  assert.equal(launch.cwd, "/work/my project");
  assert.deepEqual(launch.env, { PATH: "/bin", VICTOR_PROVIDER: "scripted" });
  assert.equal(describeLaunch(launch), 'victor-server lsp --workspace "/work/my project"');
  const pinned = readSettings(source({ "server.args": ["lsp", "--workspace", "/w"] }));
  assert.deepEqual(buildServerLaunch(pinned, "/x", {}).args, ["lsp", "--workspace", "/w"]);
  assert.deepEqual(buildServerLaunch(settings, undefined, {}).args, ["lsp"]);
});

test("initializationOptions: approvals always, the auth token only when set", () => {
  assert.deepEqual(initializationOptions(DEFAULT_SETTINGS), { requestPermission: true });
  const s = readSettings(source({ "server.authToken": "tok" }));
  assert.deepEqual(initializationOptions(s), { requestPermission: true, authToken: "tok" });
});

const ASKED: PermissionRequest = {
  sessionId: "s", toolCallId: "t", tool: "bash", title: "bash `git push`", input: {},
  rule: "tools.approvals.bash: no rule matches; the default is ask", timeoutMs: 120000,
  command: "git push", remember: "bash commands starting with `git push` in this workspace",
  options: [
    { optionId: "allow_once", name: "Allow once", kind: "allow_once" },
    { optionId: "allow_always", name: "Always allow bash commands starting with `git push` in this workspace", kind: "allow_always" },
    { optionId: "reject", name: "Reject", kind: "reject" },
  ],
};

test("a permission prompt shows the command and rule; dismissing it rejects", async () => {
  const prompt = permissionPrompt(ASKED);
  assert.equal(prompt.message, "Victor wants to run: bash `git push`");
  assert.ok(prompt.detail.startsWith("$ git push"));
  assert.ok(prompt.detail.includes("tools.approvals.bash"));
  assert.equal(prompt.labels.length, 3);
  assert.equal(optionFor(ASKED, prompt.labels[1]), "allow_always");
  assert.equal(optionFor(ASKED, undefined), "reject");
  assert.deepEqual(await answerPermission(ASKED, async () => { throw new Error("no UI"); }),
    { optionId: "reject" });
});

test("token counts are compact and usage adds up", () => {
  assert.deepEqual([950, 1234, 12_345, 2_500_000].map(formatTokens), ["950", "1.2k", "12k", "2.5M"]);
  const u = addUsage({ inputTokens: 1, outputTokens: 2, totalTokens: 3, cacheReadTokens: 4, cacheWriteTokens: 0 },
    { inputTokens: 10, outputTokens: 5, cacheReadTokens: 100 });
  assert.deepEqual(u, { inputTokens: 11, outputTokens: 7, totalTokens: 18, cacheReadTokens: 104, cacheWriteTokens: 0 });
});

test("stored content blocks become readable transcript text", () => {
  const blocks = [
    { type: "text", text: "Reading it." },
    { type: "tool_use", id: "t1", name: "read", input: { path: "a" } },
  ];
  assert.equal(contentText(blocks), "Reading it.\n[tool read]");
  const entries = transcript({
    sessionId: "s", tenantId: null, title: null, createdAt: "", updatedAt: "", messageCount: 3,
    usage: null,
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: blocks },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "x" }] },
    ],
  });
  assert.deepEqual(entries.map((e) => e.role), ["user", "assistant"]);
});

test("selection message fences code and names the file and lines", () => {
  const { message, context } = selectionMessage("Why?", {
    text: "x = 1", languageId: "python", path: "src/a.py", startLine: 3, endLine: 4,
  });
  assert.equal(message, "Why?\n\nFrom `src/a.py` lines 3-4:\n```python\nx = 1\n```");
  assert.deepEqual(context, { language: "python", file: "src/a.py" });
  assert.match(selectionMessage("", { text: "```", languageId: "md", path: "r.md", startLine: 1, endLine: 1 }).message,
    /^Explain this code\.\n\nFrom `r.md` line 1:\n````md/);
});

test("compaction report shows before and after", () => {
  assert.equal(
    compactionReport({ strategy: "recent", before: { messages: 9, tokens: 900 }, after: { messages: 3, tokens: 200 } }),
    "Compacted with recent: 9 messages / 900 tokens → 3 messages / 200 tokens",
  );
});

test("session timestamps read the same from epoch seconds or ISO text", () => {
  assert.equal(timestampText(0), "1970-01-01 00:00");
  assert.equal(timestampText("2025-03-04T05:06:07Z"), "2025-03-04 05:06");
  assert.equal(timestampText("yesterday"), "yesterday");
});

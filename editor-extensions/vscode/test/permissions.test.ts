/**
 * Approvals against the real `victor-server lsp`: the fake Anthropic API asks for a write, an
 * edit and a bash command; the extension's own handler (`installPermissionHandler`, with the
 * options the extension sends at initialize) answers through a scripted asker standing in for
 * the modal. Allow once writes, reject leaves the file alone, and a prompt nobody answers is
 * withdrawn by the server's timeout and refused; each turn goes on.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { ChatSession, NotificationRouter } from "../src/chatSession";
import { installPermissionHandler, type PermissionPrompt, type PermissionRequest } from "../src/permissions";
import { initializationOptions } from "../src/serverCommand";
import { DEFAULT_SETTINGS } from "../src/settings";
import { type FakeAnthropic, type RunningServer, startFakeAnthropic, startServer } from "./harness";

describe("victor/requestPermission", () => {
  let fake: FakeAnthropic;
  let server: RunningServer;
  let router: NotificationRouter;
  const asked: PermissionRequest[] = [];
  const choices: (number | "never")[] = [];

  before(async () => {
    fake = await startFakeAnthropic([
      { kind: "tool_use", name: "write", input: { path: "notes.txt", content: "approved\n" } },
      { kind: "text", text: "wrote it" },
      { kind: "tool_use", name: "edit", input: { path: "notes.txt", old: "approved", new: "pwned" } },
      { kind: "text", text: "the edit was refused" },
      { kind: "tool_use", name: "bash", input: { command: "touch late.txt" } },
      { kind: "text", text: "nobody answered" },
    ]);
    server = await startServer(fake.env, {
      ".victor/config.yml": "tools: {bash: {enabled: true, allow: [touch]}, approval_timeout: 1}\n",
    }, initializationOptions(DEFAULT_SETTINGS));
    router = new NotificationRouter(server.connection);
    installPermissionHandler(server.connection, (prompt: PermissionPrompt, request) => {
      asked.push(request);
      const choice = choices.shift();
      if (choice === "never" || choice === undefined) {
        return new Promise<string | undefined>(() => undefined);
      }
      return Promise.resolve(prompt.labels[choice]);
    });
  });
  after(async () => {
    router.dispose();
    await server.close();
    fake.close();
  });

  test("allow once, reject, and a timeout; the turn goes on each time", async () => {
    const chat = new ChatSession(server.connection, router);
    const notes = path.join(server.workspace, "notes.txt");

    choices.push(0); // "Allow once"
    const wrote = await chat.send("write my notes");
    assert.equal(wrote.content, "wrote it");
    assert.equal(fs.readFileSync(notes, "utf8"), "approved\n");
    assert.equal(asked[0].tool, "write");
    assert.ok(asked[0].diff?.includes("+approved"), asked[0].diff);

    choices.push(2); // "Reject"
    const edited = await chat.send("change them");
    assert.equal(edited.content, "the edit was refused");
    assert.equal(edited.toolCalls[0].isError, true);
    assert.equal(fs.readFileSync(notes, "utf8"), "approved\n");

    choices.push("never");
    const late = await chat.send("touch a file");
    assert.equal(late.content, "nobody answered");
    assert.equal(late.toolCalls[0].isError, true);
    assert.equal(asked[2].command, "touch late.txt");
    assert.ok(!fs.existsSync(path.join(server.workspace, "late.txt")));
  });
});

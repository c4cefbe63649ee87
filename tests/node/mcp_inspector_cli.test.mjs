// `@modelcontextprotocol/inspector --cli`, headless, against `victor-server mcp` over stdio.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const inspector = join(here, "node_modules", ".bin", "mcp-inspector");
const python = process.env.VICTOR_TEST_PYTHON ?? "python3";
const workspace = process.env.VICTOR_TEST_WORKSPACE ?? process.cwd();
const db = process.env.VICTOR_TEST_DB ?? `${workspace}/.victor/node-test.db`;

async function inspect(...methodArgs) {
  const args = ["--cli", "-e", "VICTOR_PROVIDER=scripted",
                "-e", "VICTOR_TOOL_SELECTION__STRATEGY=keyword",
                python, "-m", "victor_server", "mcp", "--workspace", workspace, "--db", db,
                ...methodArgs];
  const { stdout } = await run(inspector, args, { timeout: 120_000 });
  return JSON.parse(stdout);
}

test("inspector --cli lists the tools", async () => {
  const { tools } = await inspect("--method", "tools/list");
  assert.ok(tools.some((t) => t.name === "select_tools" && t.outputSchema));
  assert.equal(tools.length, 9);  // list_tools included
});

test("inspector --cli calls select_tools", async () => {
  const result = await inspect("--method", "tools/call", "--tool-name", "select_tools",
                               "--tool-arg", "query=read a file", "--tool-arg", "max_tools=2");
  assert.notEqual(result.isError, true);
  assert.equal(result.structuredContent.tools.length, 2);
  assert.equal(result.structuredContent.tools[0].name, "read");
});

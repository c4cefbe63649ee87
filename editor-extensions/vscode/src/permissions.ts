/**
 * Approvals: the server's `victor/requestPermission` request, asked before a tool call the
 * server's approvals policy (`tools.approvals`) says to ask about — a write or edit (with its
 * diff), a bash command, an MCP tool with side effects.
 *
 * This module has no VS Code dependency: it builds the prompt (`permissionPrompt`), maps the
 * user's choice back to an option id, and installs the request handler on any JSON-RPC
 * connection with a `PermissionAsker` the caller supplies. The extension's asker is a modal
 * (`showWarningMessage`); the node tests script one. Dismissing the prompt, an asker that fails,
 * and the server withdrawing the request (its timeout, `$/cancelRequest`) all answer `reject`.
 *
 * The extension declares that it can be asked with `initializationOptions.requestPermission`;
 * a client that does not is never sent the request (the server refuses the call instead).
 */
import type { CancellationToken } from "vscode-jsonrpc";

export const PERMISSION_METHOD = "victor/requestPermission";
/** The `initializationOptions` flag that tells the server this client can be asked. */
export const PERMISSION_CAPABILITY = "requestPermission";

export type PermissionOptionId = "allow_once" | "allow_always" | "reject";

export interface PermissionOption {
  optionId: PermissionOptionId;
  name: string;
  kind: string;
}

export interface PermissionRequest {
  sessionId: string;
  toolCallId: string;
  tool: string;
  title: string;
  input: Record<string, unknown>;
  /** The config key (and rule) that made this call an "ask". */
  rule: string;
  timeoutMs: number;
  /** write/edit: a unified diff of the file. */
  diff?: string;
  /** bash: the command. */
  command?: string;
  /** What "always allow" keeps; absent when the call cannot be remembered. */
  remember?: string;
  options: PermissionOption[];
}

export interface PermissionResult {
  optionId: PermissionOptionId;
}

/** What the user sees: a one-line question, the detail, and one label per option. */
export interface PermissionPrompt {
  message: string;
  detail: string;
  labels: string[];
}

const DIFF_LINES = 40;

export function permissionPrompt(request: PermissionRequest): PermissionPrompt {
  const detail: string[] = [];
  if (request.command !== undefined) {
    detail.push(`$ ${request.command}`);
  }
  if (request.diff) {
    const lines = request.diff.split("\n");
    detail.push(lines.slice(0, DIFF_LINES).join("\n"));
    if (lines.length > DIFF_LINES) {
      detail.push(`… ${lines.length - DIFF_LINES} more diff lines`);
    }
  }
  detail.push(`Asked because of ${request.rule}.`);
  return {
    message: `Victor wants to run: ${request.title}`,
    detail: detail.join("\n\n"),
    labels: request.options.map((o) => o.name),
  };
}

/** The option id for the label the user picked; anything else (dismissed) is `reject`. */
export function optionFor(request: PermissionRequest, label: string | undefined): PermissionOptionId {
  const picked = request.options.find((o) => o.name === label);
  return picked?.optionId ?? "reject";
}

/** Presents a prompt and resolves to the chosen label (undefined when dismissed). */
export type PermissionAsker = (prompt: PermissionPrompt, request: PermissionRequest) =>
  Promise<string | undefined>;

/** Anything that can take a request handler: a vscode-jsonrpc connection or a LanguageClient. */
export interface RequestTarget {
  onRequest(
    method: string,
    handler: (params: PermissionRequest, token: CancellationToken) => Promise<PermissionResult>,
  ): { dispose(): void };
}

export async function answerPermission(
  request: PermissionRequest, ask: PermissionAsker, token?: CancellationToken,
): Promise<PermissionResult> {
  const withdrawn = new Promise<undefined>((resolve) => {
    token?.onCancellationRequested(() => resolve(undefined));
  });
  try {
    const label = await Promise.race([ask(permissionPrompt(request), request), withdrawn]);
    return { optionId: token?.isCancellationRequested ? "reject" : optionFor(request, label) };
  } catch {
    return { optionId: "reject" };
  }
}

export function installPermissionHandler(target: RequestTarget, ask: PermissionAsker): { dispose(): void } {
  return target.onRequest(PERMISSION_METHOD, (params, token) => answerPermission(params, ask, token));
}

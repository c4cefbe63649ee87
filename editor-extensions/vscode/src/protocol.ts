/**
 * The victor-server LSP-style protocol as TypeScript types.
 *
 * This module is the one place the extension spells method names and payload shapes. It has no
 * runtime dependency on VS Code or on a JSON-RPC library, so the same types serve the extension
 * (through vscode-languageclient) and the node tests (through vscode-jsonrpc directly).
 * Params and results are camelCase JSON objects, exactly as the server sends them.
 */

/** Custom request and notification names; the server lists them under
 * `capabilities.experimental.victor` in its `initialize` answer. */
export const Methods = {
  chat: "victor/chat",
  selectTools: "victor/selectTools",
  compactContext: "victor/compactContext",
  getContext: "victor/getContext",
  buildPrompt: "victor/buildPrompt",
  getConfig: "victor/getConfig",
  sessionCreate: "victor/session/create",
  sessionList: "victor/session/list",
  sessionGet: "victor/session/get",
  sessionDelete: "victor/session/delete",
  analyticsSummary: "victor/analytics/summary",
} as const;

export const Notifications = {
  chatDelta: "victor/chatDelta",
  toolCall: "victor/toolCall",
} as const;

/** The server's error codes a client reacts to. */
export const ErrorCodes = {
  sessionNotFound: -32001,
  providerUnavailable: -32002,
  rateLimited: -32003,
  unauthorized: -32004,
  storeUnavailable: -32005,
  requestCancelled: -32800,
} as const;

/** Free-form turn context; the server knows at least these keys. */
export interface ChatContext {
  task?: string;
  language?: string;
  requiresCompliance?: boolean;
  [key: string]: unknown;
}

export interface ChatParams {
  message: string;
  sessionId?: string;
  context?: ChatContext;
  stream?: boolean;
  pin?: boolean;
}

export interface Usage {
  /** Input tokens billed at the full price (cache reads and writes are counted apart). */
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Prompt-cache reads and writes (Anthropic prompt caching). */
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface ToolCallRecord {
  id: string;
  name: string;
  input: unknown;
  isError: boolean;
}

export interface ChatResult {
  sessionId: string;
  content: string;
  usage: Usage;
  toolCalls: ToolCallRecord[];
  stopReason: string;
  variant?: string;
  compacted: boolean;
}

export interface ChatDeltaParams {
  sessionId: string;
  text: string;
}

export interface ToolCallParams {
  sessionId: string;
  id: string;
  name: string;
  status: string;
}

export interface SelectToolsParams {
  query: string;
  maxTools?: number;
  strategy?: string;
}

export interface SelectedTool {
  name: string;
  description: string;
  score: number;
  costTier: string;
}

export interface SelectToolsResult {
  strategy: string;
  tools: SelectedTool[];
}

export interface CompactContextParams {
  sessionId: string;
  strategy?: string;
  targetRatio?: number;
}

export interface ContextSize {
  messages: number;
  tokens: number;
}

export interface CompactContextResult {
  strategy: string;
  before: ContextSize;
  after: ContextSize;
}

export interface GetContextResult {
  messages: { role: string; content: unknown }[];
  tokens: number;
  contextWindow: number;
  utilization: number;
}

export interface BuildPromptResult {
  systemPrompt: string;
  contributions: { name: string; priority: number; chars: number }[];
}

export interface GetConfigResult {
  config: Record<string, unknown>;
  sources: Record<string, string>;
}

export interface SessionUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  [key: string]: unknown;
}

export interface Session {
  sessionId: string;
  tenantId: string | null;
  title: string | null;
  /** Timestamps: the protocol leaves the form open; the server sends epoch seconds. */
  createdAt: string | number;
  updatedAt: string | number;
  messageCount: number;
  usage: SessionUsage | null;
}

export interface StoredMessage {
  role: string;
  /** As stored: a string, or Anthropic-style content blocks. */
  content: unknown;
  createdAt?: string | number;
}

export interface SessionWithMessages extends Session {
  messages: StoredMessage[];
}

export interface SessionCreateParams {
  sessionId?: string;
  tenantId?: string;
  title?: string;
}

export interface SessionListParams {
  tenantId?: string;
  limit?: number;
  cursor?: string;
}

export interface SessionListResult {
  sessions: Session[];
  nextCursor?: string | null;
}

export interface AnalyticsSummaryParams {
  sessionId?: string;
  since?: string;
}

export interface AnalyticsSummary {
  events: Record<string, number>;
  tokens: { input: number; output: number; total: number };
  toolCalls: Record<string, number>;
  sessions: number;
}

/** The text of stored content: strings pass through, text blocks are joined, and other blocks
 * (tool_use, tool_result) become a short marker so a resumed transcript stays readable. */
export function contentText(content: unknown): string {
  if (typeof content === "string") {
    return content;
  }
  if (!Array.isArray(content)) {
    return content == null ? "" : JSON.stringify(content);
  }
  const parts: string[] = [];
  for (const block of content as Record<string, unknown>[]) {
    if (block?.type === "text" && typeof block.text === "string") {
      parts.push(block.text);
    } else if (block?.type === "tool_use") {
      parts.push(`[tool ${String(block.name)}]`);
    } else if (block?.type === "tool_result") {
      parts.push(`[tool result${block.is_error ? " (error)" : ""}]`);
    }
  }
  return parts.join("\n");
}

/**
 * A chat conversation with victor-server, independent of VS Code.
 *
 * The extension and the node tests both drive a `ChatSession` over a `VictorConnection`: the
 * part of a JSON-RPC connection this needs. vscode-languageclient's `LanguageClient` and
 * vscode-jsonrpc's `MessageConnection` both satisfy it, so the tests exercise the very code the
 * chat view runs.
 *
 * Streaming: `victor/chatDelta` and `victor/toolCall` notifications carry a `sessionId`, not a
 * request id, so a turn needs its session id before the request goes out. A new conversation
 * therefore creates its session first (`victor/session/create`), and a `NotificationRouter`
 * hands each notification to the turn listening on that id. A tenant-authenticated server may
 * prefix ids (`acme:` + id), so a listener also matches the prefixed form.
 *
 * Cancellation: passing a token makes the JSON-RPC library send `$/cancelRequest`; the server
 * answers with a normal result whose `stopReason` is "cancelled".
 */
import type { CancellationToken } from "vscode-jsonrpc";
import {
  type ChatContext,
  type ChatDeltaParams,
  type ChatParams,
  type ChatResult,
  Methods,
  Notifications,
  type Session,
  type SessionListParams,
  type SessionListResult,
  type SessionWithMessages,
  type ToolCallParams,
  type Usage,
  contentText,
} from "./protocol";

export interface Disposable {
  dispose(): void;
}

/** The slice of a JSON-RPC connection the chat needs. */
export interface VictorConnection {
  sendRequest<R>(method: string, params: unknown, token?: CancellationToken): Promise<R>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onNotification(method: string, handler: (params: any) => void): Disposable;
}

export interface TurnListener {
  onDelta?(text: string): void;
  onToolCall?(call: ToolCallParams): void;
}

function sameSession(listening: string, incoming: string): boolean {
  return incoming === listening || incoming.endsWith(`:${listening}`);
}

/** One subscription per connection, fanning notifications out to turns by session id. */
export class NotificationRouter implements Disposable {
  private readonly listeners = new Map<string, Set<TurnListener>>();
  private readonly subscriptions: Disposable[];

  constructor(connection: VictorConnection) {
    this.subscriptions = [
      connection.onNotification(Notifications.chatDelta, (p: ChatDeltaParams) =>
        this.dispatch(p.sessionId, (l) => l.onDelta?.(p.text)),
      ),
      connection.onNotification(Notifications.toolCall, (p: ToolCallParams) =>
        this.dispatch(p.sessionId, (l) => l.onToolCall?.(p)),
      ),
    ];
  }

  listen(sessionId: string, listener: TurnListener): Disposable {
    const set = this.listeners.get(sessionId) ?? new Set<TurnListener>();
    set.add(listener);
    this.listeners.set(sessionId, set);
    return {
      dispose: () => {
        set.delete(listener);
        if (set.size === 0) {
          this.listeners.delete(sessionId);
        }
      },
    };
  }

  private dispatch(sessionId: string, call: (l: TurnListener) => void): void {
    for (const [listening, set] of this.listeners) {
      if (sameSession(listening, sessionId)) {
        set.forEach(call);
      }
    }
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.listeners.clear();
  }
}

export interface SendOptions extends TurnListener {
  context?: ChatContext;
  pin?: boolean;
  token?: CancellationToken;
}

export const ZERO_USAGE: Usage = {
  inputTokens: 0, outputTokens: 0, totalTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0,
};

export function addUsage(a: Usage, b: Partial<Usage> | null | undefined): Usage {
  const input = a.inputTokens + (b?.inputTokens ?? 0);
  const output = a.outputTokens + (b?.outputTokens ?? 0);
  return {
    inputTokens: input, outputTokens: output, totalTokens: input + output,
    cacheReadTokens: a.cacheReadTokens + (b?.cacheReadTokens ?? 0),
    cacheWriteTokens: a.cacheWriteTokens + (b?.cacheWriteTokens ?? 0),
  };
}

/** A compact token count for the status bar: 950, 12.3k, 1.2M. */
export function formatTokens(n: number): string {
  if (n < 1000) {
    return String(n);
  }
  if (n < 1_000_000) {
    return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  }
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export interface TranscriptEntry {
  role: string;
  text: string;
}

/** A stored session's messages as readable text, dropping turns with nothing to show (for
 * example a user message that only carries tool results). */
export function transcript(session: SessionWithMessages): TranscriptEntry[] {
  return session.messages
    .map((m) => ({ role: m.role, text: contentText(m.content) }))
    .filter((e) => e.text.trim() !== "" && !/^(\[tool result[^\]]*\]\n?)+$/.test(e.text));
}

/** A conversation: its session id, the usage it has accrued, and how to send a turn. */
export class ChatSession {
  sessionId: string | undefined;
  usage: Usage = { ...ZERO_USAGE };

  constructor(
    private readonly connection: VictorConnection,
    private readonly router: NotificationRouter,
    private readonly stream = true,
  ) {}

  /** Send one turn; deltas and tool calls reach `options` while it runs. */
  async send(message: string, options: SendOptions = {}): Promise<ChatResult> {
    const sessionId = this.sessionId ?? (await this.create(message));
    const subscription = this.router.listen(sessionId, options);
    try {
      const params: ChatParams = { message, sessionId, stream: this.stream };
      if (options.context) {
        params.context = options.context;
      }
      if (options.pin) {
        params.pin = true;
      }
      // Pass the token only when there is one: vscode-jsonrpc would send a trailing
      // `undefined` as a second positional param, which the server rightly rejects.
      const result = options.token
        ? await this.connection.sendRequest<ChatResult>(Methods.chat, params, options.token)
        : await this.connection.sendRequest<ChatResult>(Methods.chat, params);
      this.sessionId = result.sessionId ?? sessionId;
      this.usage = addUsage(this.usage, result.usage);
      return result;
    } finally {
      subscription.dispose();
    }
  }

  /** Continue a stored session: later turns go to it and usage starts from its totals. */
  async resume(sessionId: string): Promise<SessionWithMessages> {
    const session = await this.connection.sendRequest<SessionWithMessages>(
      Methods.sessionGet, { sessionId },
    );
    this.sessionId = session.sessionId;
    this.usage = addUsage(ZERO_USAGE, session.usage ?? undefined);
    return session;
  }

  /** Start over: the next turn creates a new session. */
  reset(): void {
    this.sessionId = undefined;
    this.usage = { ...ZERO_USAGE };
  }

  private async create(firstMessage: string): Promise<string> {
    const title = firstMessage.split("\n")[0].slice(0, 60);
    const session = await this.connection.sendRequest<Session>(Methods.sessionCreate, { title });
    this.sessionId = session.sessionId;
    return session.sessionId;
  }
}

export async function listSessions(
  connection: VictorConnection,
  params: SessionListParams = {},
): Promise<Session[]> {
  const result = await connection.sendRequest<SessionListResult>(Methods.sessionList, params);
  return result.sessions;
}

/** A one-line label for a session picker. */
export function sessionLabel(session: Session): string {
  const title = session.title?.trim() || session.sessionId;
  return `${title} (${session.messageCount} messages, ${timestampText(session.updatedAt)})`;
}

/** "2025-01-31 14:05" from epoch seconds or an ISO string; anything else as given. */
export function timestampText(value: string | number): string {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().slice(0, 16).replace("T", " ");
}

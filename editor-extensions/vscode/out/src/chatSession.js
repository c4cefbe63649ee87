"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ChatSession = exports.ZERO_USAGE = exports.NotificationRouter = void 0;
exports.addUsage = addUsage;
exports.formatTokens = formatTokens;
exports.transcript = transcript;
exports.listSessions = listSessions;
exports.sessionLabel = sessionLabel;
const protocol_1 = require("./protocol");
function sameSession(listening, incoming) {
    return incoming === listening || incoming.endsWith(`:${listening}`);
}
/** One subscription per connection, fanning notifications out to turns by session id. */
class NotificationRouter {
    listeners = new Map();
    subscriptions;
    constructor(connection) {
        this.subscriptions = [
            connection.onNotification(protocol_1.Notifications.chatDelta, (p) => this.dispatch(p.sessionId, (l) => l.onDelta?.(p.text))),
            connection.onNotification(protocol_1.Notifications.toolCall, (p) => this.dispatch(p.sessionId, (l) => l.onToolCall?.(p))),
        ];
    }
    listen(sessionId, listener) {
        const set = this.listeners.get(sessionId) ?? new Set();
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
    dispatch(sessionId, call) {
        for (const [listening, set] of this.listeners) {
            if (sameSession(listening, sessionId)) {
                set.forEach(call);
            }
        }
    }
    dispose() {
        this.subscriptions.forEach((s) => s.dispose());
        this.listeners.clear();
    }
}
exports.NotificationRouter = NotificationRouter;
exports.ZERO_USAGE = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
function addUsage(a, b) {
    const input = a.inputTokens + (b?.inputTokens ?? 0);
    const output = a.outputTokens + (b?.outputTokens ?? 0);
    return { inputTokens: input, outputTokens: output, totalTokens: input + output };
}
/** A compact token count for the status bar: 950, 12.3k, 1.2M. */
function formatTokens(n) {
    if (n < 1000) {
        return String(n);
    }
    if (n < 1_000_000) {
        return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
    }
    return `${(n / 1_000_000).toFixed(1)}M`;
}
/** A stored session's messages as readable text, dropping turns with nothing to show (for
 * example a user message that only carries tool results). */
function transcript(session) {
    return session.messages
        .map((m) => ({ role: m.role, text: (0, protocol_1.contentText)(m.content) }))
        .filter((e) => e.text.trim() !== "" && !/^(\[tool result[^\]]*\]\n?)+$/.test(e.text));
}
/** A conversation: its session id, the usage it has accrued, and how to send a turn. */
class ChatSession {
    connection;
    router;
    stream;
    sessionId;
    usage = { ...exports.ZERO_USAGE };
    constructor(connection, router, stream = true) {
        this.connection = connection;
        this.router = router;
        this.stream = stream;
    }
    /** Send one turn; deltas and tool calls reach `options` while it runs. */
    async send(message, options = {}) {
        const sessionId = this.sessionId ?? (await this.create(message));
        const subscription = this.router.listen(sessionId, options);
        try {
            const params = { message, sessionId, stream: this.stream };
            if (options.context) {
                params.context = options.context;
            }
            if (options.pin) {
                params.pin = true;
            }
            const result = await this.connection.sendRequest(protocol_1.Methods.chat, params, options.token);
            this.sessionId = result.sessionId ?? sessionId;
            this.usage = addUsage(this.usage, result.usage);
            return result;
        }
        finally {
            subscription.dispose();
        }
    }
    /** Continue a stored session: later turns go to it and usage starts from its totals. */
    async resume(sessionId) {
        const session = await this.connection.sendRequest(protocol_1.Methods.sessionGet, { sessionId });
        this.sessionId = session.sessionId;
        this.usage = addUsage(exports.ZERO_USAGE, session.usage ?? undefined);
        return session;
    }
    /** Start over: the next turn creates a new session. */
    reset() {
        this.sessionId = undefined;
        this.usage = { ...exports.ZERO_USAGE };
    }
    async create(firstMessage) {
        const title = firstMessage.split("\n")[0].slice(0, 60);
        const session = await this.connection.sendRequest(protocol_1.Methods.sessionCreate, { title });
        this.sessionId = session.sessionId;
        return session.sessionId;
    }
}
exports.ChatSession = ChatSession;
async function listSessions(connection, params = {}) {
    const result = await connection.sendRequest(protocol_1.Methods.sessionList, params);
    return result.sessions;
}
/** A one-line label for a session picker. */
function sessionLabel(session) {
    const title = session.title?.trim() || session.sessionId;
    return `${title} (${session.messageCount} messages, ${session.updatedAt})`;
}
//# sourceMappingURL=chatSession.js.map
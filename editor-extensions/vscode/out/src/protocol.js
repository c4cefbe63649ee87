"use strict";
/**
 * The victor-server LSP-style protocol (SPEC section 4) as TypeScript types.
 *
 * This module is the one place the extension spells method names and payload shapes. It has no
 * runtime dependency on VS Code or on a JSON-RPC library, so the same types serve the extension
 * (through vscode-languageclient) and the node tests (through vscode-jsonrpc directly).
 * Params and results are camelCase JSON objects, exactly as the server sends them.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.ErrorCodes = exports.Notifications = exports.Methods = void 0;
exports.contentText = contentText;
/** Custom request and notification names; the server lists them under
 * `capabilities.experimental.victor` in its `initialize` answer. */
exports.Methods = {
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
};
exports.Notifications = {
    chatDelta: "victor/chatDelta",
    toolCall: "victor/toolCall",
};
/** Section 8 error codes a client reacts to. */
exports.ErrorCodes = {
    sessionNotFound: -32001,
    providerUnavailable: -32002,
    rateLimited: -32003,
    unauthorized: -32004,
    storeUnavailable: -32005,
    requestCancelled: -32800,
};
/** The text of stored content: strings pass through, text blocks are joined, and other blocks
 * (tool_use, tool_result) become a short marker so a resumed transcript stays readable. */
function contentText(content) {
    if (typeof content === "string") {
        return content;
    }
    if (!Array.isArray(content)) {
        return content == null ? "" : JSON.stringify(content);
    }
    const parts = [];
    for (const block of content) {
        if (block?.type === "text" && typeof block.text === "string") {
            parts.push(block.text);
        }
        else if (block?.type === "tool_use") {
            parts.push(`[tool ${String(block.name)}]`);
        }
        else if (block?.type === "tool_result") {
            parts.push(`[tool result${block.is_error ? " (error)" : ""}]`);
        }
    }
    return parts.join("\n");
}
//# sourceMappingURL=protocol.js.map
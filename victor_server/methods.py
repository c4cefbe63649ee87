"""The custom JSON-RPC methods of the LSP face, importable without the core."""

LSP_METHODS = (
    "victor/chat", "victor/selectTools", "victor/compactContext", "victor/getContext",
    "victor/buildPrompt", "victor/getConfig", "victor/session/create", "victor/session/list",
    "victor/session/get", "victor/session/delete", "victor/session/search",
    "victor/analytics/summary",
)

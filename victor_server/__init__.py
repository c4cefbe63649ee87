"""victor-server: one agent orchestrator served to editors and AI clients.

Heavy parts (the anthropic SDK, the MCP and ACP SDKs, embeddings) are imported lazily so a client
gets its ``initialize`` answer quickly.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

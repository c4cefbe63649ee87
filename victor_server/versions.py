"""What ``victor-server --version`` prints: the server's version and, for each face, the protocol
versions it speaks, read from the libraries that implement them (nothing here is a copy that
could drift from them). Imported only when ``--version`` is asked for: the SDKs are heavy."""

from __future__ import annotations

from importlib.metadata import version

from victor_server import __version__


def version_report() -> str:
    from acp import PROTOCOL_VERSION as ACP_VERSION
    from lsprotocol.types import __lsp_version__
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

    lsp = f"LSP {__lsp_version__} (pygls {version('pygls')}, lsprotocol {version('lsprotocol')})"
    mcp = (f"MCP {', '.join(HANDSHAKE_PROTOCOL_VERSIONS)} (initialize handshake), "
           f"{', '.join(MODERN_PROTOCOL_VERSIONS)} (per-request envelope) (mcp {version('mcp')})")
    acp = f"ACP protocol version {ACP_VERSION} (agent-client-protocol " \
          f"{version('agent-client-protocol')})"
    return "\n".join([f"victor-server {__version__}", f"  lsp: {lsp}", f"  mcp: {mcp}",
                      f"  acp: {acp}"])

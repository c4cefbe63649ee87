"""A bare ``MCPServer`` with one ``select_tools`` tool returning a fixed ranking: the baseline
``bench_mcp.py`` measures victor-server's MCP face against (same SDK, same transport, no core)."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from typing_extensions import TypedDict


class Ranked(TypedDict):
    name: str
    description: str
    score: float
    cost_tier: str


class Selection(TypedDict):
    strategy: str
    tools: list[Ranked]


server = MCPServer("bare")
FIXED: Selection = {"strategy": "fixed", "tools": [
    {"name": "read", "description": "Read a file.", "score": 1.0, "cost_tier": "free"}]}


@server.tool()
async def select_tools(query: str, max_tools: int | None = None) -> Selection:
    """Always the same ranking."""
    return FIXED


if __name__ == "__main__":
    server.run()

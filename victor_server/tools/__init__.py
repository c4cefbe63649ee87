"""Tools the model can call: specs, the ToolCoordinator that runs them, and built-ins."""

from victor_server.tools.base import Tool, ToolContext, ToolResult, ToolSpec

__all__ = ["Tool", "ToolContext", "ToolResult", "ToolSpec"]

"""Tools the model can call: specs, the ToolCoordinator that runs them, and built-ins.

Built-ins (``read write edit ls search bash``) live in ``file_tools``, ``search_tool`` and
``bash_tool``, confined to the workspace by ``workspace_paths``; MCP servers' tools in
``mcp_tools``; entry-point plugins in ``plugin_tools``. Whether a call runs, is asked about or
is refused is ``approval_policy`` (config in, verdict out) and ``approvals`` (remembered answers
and asking through the face). See docs/tools.md and docs/security.md.
"""

from victor_server.tools.base import Tool, ToolContext, ToolError, ToolResult, ToolSpec
from victor_server.tools.coordinator import PERMISSION_DENIED, ToolCoordinator

__all__ = ["PERMISSION_DENIED", "Tool", "ToolContext", "ToolCoordinator", "ToolError",
           "ToolResult", "ToolSpec"]

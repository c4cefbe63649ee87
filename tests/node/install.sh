#!/bin/sh
# Install the node clients used by tests/test_mcp_node.py (the TypeScript SDK, the MCP Inspector).
# CI runs this; a developer without it gets those tests skipped with this script named.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
# The conformance suite and the node 22 it needs (tests/test_mcp_conformance.py).
cd conformance
npm ci --no-audit --no-fund

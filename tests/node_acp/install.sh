#!/bin/sh
# Installs the TypeScript ACP SDK for tests/test_acp_node.py (exactly the locked versions).
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund

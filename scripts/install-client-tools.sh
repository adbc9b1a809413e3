#!/usr/bin/env bash
# Installs an npm folder of this repository exactly as its package-lock.json
# pins it: by default test/clients, the official MCP clients the tests drive
# (conformance suite and Inspector CLI, with Node 22 as an npm package);
# scripts/install-bench-baseline.sh passes bench/minisearch. Re-runs are
# no-ops until the lock file changes.
set -euo pipefail
folder=${1:-test/clients}
name=${2:-client tools}
cd "$(dirname "$0")/../$folder"

stamp=node_modules/.installed-from-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  echo "$name: up to date"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "$name: npm is not installed; install Node.js (any version with npm) and re-run" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
echo "$name: installed in $folder/node_modules"

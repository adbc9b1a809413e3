#!/usr/bin/env bash
# Installs the official MCP clients the tests drive (conformance suite and
# Inspector CLI, with Node 22 as an npm package) into test/clients/node_modules,
# exactly as pinned by test/clients/package-lock.json. Re-runs are no-ops
# until the lock file changes.
set -euo pipefail
cd "$(dirname "$0")/../test/clients"

stamp=node_modules/.installed-from-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  echo "client tools: up to date"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "client tools: npm is not installed; install Node.js (any version with npm) and re-run" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
echo "client tools: installed in test/clients/node_modules"

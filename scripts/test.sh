#!/usr/bin/env bash
# The project's test command (README: "make test"; CI: .ci/run).
# Formatting, vet, module tidiness, then every test with the race detector:
# unit, protocol and end-to-end tests, including the official MCP conformance
# suite and the MCP Inspector CLI against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l cmd internal examples)
if [ -n "$unformatted" ]; then
  echo "these files need gofmt -w:" >&2
  echo "$unformatted" >&2
  exit 1
fi

step "go mod tidy -diff"
go mod tidy -diff

step "go vet"
go vet ./...

step "client tools (npm)"
scripts/install-client-tools.sh
scripts/install-bench-baseline.sh

step "test packages (apt: nginx, caddy, chromium)"
scripts/install-test-packages.sh

step "go test -race"
# CONNECTOR_REQUIRE_CLIENTS turns a missing client tool (or nginx, caddy, chromium) into a failure
# instead of a skipped test.
CONNECTOR_REQUIRE_CLIENTS=1 go test -race -count=1 -timeout 30m ./...

step "all tests passed"

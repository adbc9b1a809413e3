#!/usr/bin/env bash
# The project's test command (README: "make test"; CI: .ci/run).
# Formatting, vet, module tidiness, then every test with the race detector:
# unit, protocol and end-to-end tests, including the official MCP conformance
# suite and the MCP Inspector CLI against the real binary; then the local
# embedding model's tests (build tag onnx, cgo, ONNX Runtime from npm).
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
onnxruntime_lib=$(scripts/install-onnxruntime.sh)

step "test packages (apt: nginx, caddy, chromium)"
scripts/install-test-packages.sh

step "go test -race"
# CONNECTOR_REQUIRE_CLIENTS turns a missing client tool (or nginx, caddy, chromium) into a failure
# instead of a skipped test.
CONNECTOR_REQUIRE_CLIENTS=1 go test -race -count=1 -timeout 30m ./...

step "go vet and go test -race -tags onnx (local embeddings on ONNX Runtime)"
# The onnx build tag needs cgo and the library installed above; a missing
# library fails these tests under CONNECTOR_REQUIRE_CLIENTS. EMBED_MODEL_DIR,
# when set, adds the tests on the real all-MiniLM-L6-v2 weights.
CGO_ENABLED=1 go vet -tags onnx ./internal/embed/...
CONNECTOR_REQUIRE_CLIENTS=1 ONNXRUNTIME_LIB="$onnxruntime_lib" \
  CGO_ENABLED=1 go test -race -count=1 -tags onnx ./internal/embed/...

step "all tests passed"

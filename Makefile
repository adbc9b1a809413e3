# Run `make help` for the list of targets.
.DEFAULT_GOAL := help
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# What `make bench` measures: a BEIR folder, or --synthetic N, and any flags.
BENCH ?= ../shared/data/scifact

.PHONY: help run test build lint bench

help: ## Show this help.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-8s %s\n", $$1, $$2}'

run: ## Run the server with the bundled sample corpus (same as: go run ./cmd/connector).
	go run ./cmd/connector

test: ## Run every check and test, as CI does.
	scripts/test.sh

build: ## Build ./connector with the version stamped.
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o connector ./cmd/connector

bench: ## Run connector-bench on SciFact (BENCH="--synthetic 1000000" for another run).
	go run ./cmd/connector-bench $(BENCH)

lint: ## gofmt and go vet only.
	@test -z "$$(gofmt -l cmd internal)" || { gofmt -l cmd internal; exit 1; }
	go vet ./...

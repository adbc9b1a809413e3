# syntax=docker/dockerfile:1
#
# The connector as a container image: a static binary on distroless, running
# as a non-root user, serving on 0.0.0.0:8000 with its index on the /data
# volume. deploy/ has a compose file, Kubernetes manifests and proxy configs.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t connector .
#   docker run --rm -p 8000:8000 -v connector-index:/data connector
#   docker run --rm -v connector-index:/data -v "$PWD/docs:/docs:ro" connector index /docs
#
# With a memory limit, set GOMEMLIMIT about 10% under it: Go does not see the
# container's limit, and near GOMEMLIMIT its collector works harder instead.
#   docker run --rm -p 8000:8000 -m 1g -e GOMEMLIMIT=900MiB -v connector-index:/data connector

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG VERSION=dev
# The same build as `make build`.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/connector ./cmd/connector
# The volume's mount point, owned by the runtime user, so that a new volume
# is writable by it.
RUN mkdir -p /out/data/index

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="connector" \
      org.opencontainers.image.description="MCP server with search and fetch tools over your documents, for ChatGPT connectors, deep research and the OpenAI Responses API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/connectorhq/connector"
COPY --from=build /out/connector /usr/local/bin/connector
COPY --from=build --chown=65532:65532 /out/data /data
ENV ADDR=0.0.0.0:8000 \
    INDEX_DIR=/data/index \
    LOG_FORMAT=json
VOLUME /data
EXPOSE 8000
# Numeric, so that Kubernetes' runAsNonRoot can verify it (distroless "nonroot").
USER 65532:65532
# distroless has no curl: the binary checks itself (GET /healthz on ADDR).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/connector", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/connector"]
CMD ["serve"]

# syntax=docker/dockerfile:1
#
# Baton's container image: the worker (the default entrypoint), the starter CLI
# with the HTTP API (`starter serve`), the demo files in /etc/baton/examples, and
# a tiny health probe, on distroless as the non-root user 65532.
#
#   docker build -t baton .
#   docker run baton                                               # the worker
#   docker run --entrypoint /usr/local/bin/starter baton serve      # the HTTP API
#   docker run --entrypoint /usr/local/bin/starter baton directory load /etc/baton/examples/directory.yaml
#
# Configuration is environment variables only (see the README's table); the image
# holds no credentials. docker-compose.yml runs the whole stack, and
# tools/deploycheck tests this file against it and against the config.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Modules first, in their own layer: reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/ ./worker ./starter ./cmd/healthcheck

# Distroless has no shell, curl or wget: cmd/healthcheck is the HEALTHCHECK.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/worker /out/starter /out/healthcheck /usr/local/bin/
COPY examples/ /etc/baton/examples/
# Listen on every interface inside the container (the config's defaults are
# 127.0.0.1, unreachable through a published port).
ENV BATON_HTTP_ADDRESS=0.0.0.0:8080 \
    BATON_METRICS_ADDRESS=0.0.0.0:9464
USER 65532:65532
# 8080: starter serve's HTTP API. 9464: /metrics and /healthz (BATON_METRICS_ADDRESS).
# 9465: starter serve's /metrics and /healthz in docker-compose.yml.
EXPOSE 8080 9464 9465
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/healthcheck", "http://127.0.0.1:9464/healthz"]
ENTRYPOINT ["/usr/local/bin/worker"]

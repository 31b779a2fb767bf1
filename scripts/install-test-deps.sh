#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, when missing.
# Both `npm test` (pretest) and .ci/run call it, so a fresh machine needs only
# `npm install && npm test`. Without root or apt it prints the exact command and fails.
set -uo pipefail

missing=()
# Python grpcio: the strict reflection client, the example service, the Python client.
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || missing+=(python3-grpcio python3-protobuf)
# httpx: the seeds' REST examples run as written (test/e2e/rest-seeds.test.ts).
/usr/bin/python3 -c 'import httpx' 2>/dev/null || missing+=(python3-httpx)
# Chromium for the dashboard test (driven by playwright-core, which downloads no browser).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# protoc and its plugins: `npm run check` regenerates clients/python/gen and clients/go/gen to catch drift.
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v grpc_python_plugin >/dev/null || missing+=(protobuf-compiler-grpc)
command -v protoc-gen-go >/dev/null || missing+=(protoc-gen-go)
command -v protoc-gen-go-grpc >/dev/null || missing+=(protoc-gen-go-grpc)
# Go and Debian's grpc-go and protobuf sources: the Go client builds offline against them.
command -v go >/dev/null || missing+=(golang-go)
[ -d /usr/share/gocode/src/google.golang.org/grpc ] || missing+=(golang-google-grpc-dev)
[ -d /usr/share/gocode/src/google.golang.org/protobuf ] || missing+=(golang-google-protobuf-dev)
# grpc-go 1.33 marshals through github.com/golang/protobuf: it must be 1.4+ (built on
# google.golang.org/protobuf, like the stubs), not 1.3, whose codec panics on them.
grep -qs 'google.golang.org/protobuf' /usr/share/gocode/src/github.com/golang/protobuf/proto/proto.go || missing+=(golang-github-golang-protobuf-1-5-dev)
# The gRPC interop protos (grpc.testing.TestService).
[ -d /usr/share/grpc-proto/grpc/testing ] || missing+=(grpc-proto)
# Real peers: etcd for cluster mode, NATS for the event sink, Redis and PostgreSQL for probes.
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
{ command -v nats-server || [ -x /usr/sbin/nats-server ]; } >/dev/null || missing+=(nats-server)
command -v redis-server >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)

[ ${#missing[@]} -eq 0 ] && exit 0

command_line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "The test suite needs Debian packages that are missing. Install them with:" >&2
  echo "  sudo sh -c '$command_line'" >&2
  exit 1
fi
echo "installing ${missing[*]}"
if ! { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
  echo "apt-get install failed; run it by hand: $command_line" >&2
  exit 1
fi

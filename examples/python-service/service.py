"""A small Python service that registers itself with the discovery registry.

It serves HTTP on its port, registers, heartbeats with its current load at the
interval the registry returns, registers again if the registry lost it
(NOT_FOUND), retries with backoff while the registry is unreachable, and on
SIGTERM unregisters with a drain period so in-flight requests finish.

Uses Debian's python3-grpcio and the stubs in gen-python/ (generated from
proto/ by `npm run generate`). Settings come from the environment:
  REGISTRY       host:port of the registry (default 127.0.0.1:3004)
  SERVICE        service name (default "py-users")
  INSTANCE_ID    default: a random UUID
  HOST, PORT     where this service listens (default 127.0.0.1, 0 = any free port)
  TTL_SECONDS    lease length (default 30)
  DRAIN_SECONDS  drain period on SIGTERM (default 2)
"""
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../clients/python/gen"))

import grpc  # noqa: E402
from google.protobuf import duration_pb2  # noqa: E402
from discovery.v1 import discovery_pb2 as pb  # noqa: E402
from discovery.v1 import discovery_pb2_grpc as pb_grpc  # noqa: E402

REGISTRY = os.environ.get("REGISTRY", "127.0.0.1:3004")
SERVICE = os.environ.get("SERVICE", "py-users")
INSTANCE_ID = os.environ.get("INSTANCE_ID") or str(uuid.uuid4())
HOST = os.environ.get("HOST", "127.0.0.1")
TTL_SECONDS = int(os.environ.get("TTL_SECONDS", "30"))
DRAIN_SECONDS = float(os.environ.get("DRAIN_SECONDS", "2"))
CAPACITY = 8  # concurrent requests at which this service calls itself fully loaded


class Load:
    """The load this instance reports: busy share of its capacity, or a value set by /set-load."""

    def __init__(self):
        self.lock = threading.Lock()
        self.active = 0
        self.forced = None

    def current(self):
        with self.lock:
            return self.forced if self.forced is not None else min(1.0, self.active / CAPACITY)


load = Load()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with load.lock:
            load.active += 1
        try:
            url = urlparse(self.path)
            if url.path == "/set-load":
                value = float(parse_qs(url.query)["value"][0])
                with load.lock:
                    load.forced = value
            body = json.dumps({"service": SERVICE, "instance": INSTANCE_ID, "load": load.current()}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with load.lock:
                load.active -= 1

    def log_message(self, *args):
        pass


def register(stub, port):
    """Registers, retrying with jittered backoff while the registry is unreachable; returns the heartbeat interval."""
    delay = 0.1
    while True:
        try:
            response = stub.Register(
                pb.RegisterRequest(
                    service_name=SERVICE,
                    instance_id=INSTANCE_ID,
                    host=HOST,
                    port=port,
                    metadata={"lang": "python"},
                    ttl=duration_pb2.Duration(seconds=TTL_SECONDS),
                    load_percentage=load.current(),
                ),
                timeout=5,
            )
            return response.heartbeat_interval.ToTimedelta().total_seconds()
        except grpc.RpcError as error:
            if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 5)


def main():
    server = ThreadingHTTPServer((HOST, int(os.environ.get("PORT", "0"))), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    channel = grpc.insecure_channel(REGISTRY)
    stub = pb_grpc.DiscoveryServiceStub(channel)
    interval = register(stub, port)
    print(f"registered {INSTANCE_ID} {port}", flush=True)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    delay = 0.1
    while not stopping.wait(interval):
        try:
            stub.Heartbeat(
                pb.HeartbeatRequest(service_name=SERVICE, instance_id=INSTANCE_ID, load_percentage=load.current()),
                timeout=max(interval, 1),
            )
            delay = 0.1
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                interval = register(stub, port)  # the registry restarted or let the lease run out
            elif error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                stopping.wait(random.uniform(0, delay))
                delay = min(delay * 2, 5)
            else:
                raise

    # Leave: DRAINING now (gateways stop sending), removed when the drain ends.
    try:
        stub.Unregister(
            pb.UnregisterRequest(
                service_name=SERVICE,
                instance_id=INSTANCE_ID,
                drain=duration_pb2.Duration(seconds=int(DRAIN_SECONDS), nanos=int((DRAIN_SECONDS % 1) * 1e9)),
            ),
            timeout=2,
        )
        print(f"draining {DRAIN_SECONDS}s", flush=True)
    except grpc.RpcError as error:
        print(f"unregister failed: {error.code().name}", file=sys.stderr, flush=True)
    time.sleep(DRAIN_SECONDS)
    server.shutdown()
    channel.close()


if __name__ == "__main__":
    main()

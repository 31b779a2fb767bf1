"""A small Python service that registers itself with the discovery registry.

It serves HTTP on its port and leaves the registry work to the grpc_discovery
package (clients/python): register() heartbeats on a KeepAlive stream with the
current load, registers again if the registry lost it (NOT_FOUND), retries with
backoff while the registry is unreachable, and on SIGTERM this service calls
close(), which unregisters with a drain period so in-flight requests finish.

Runs on Debian's python3-grpcio, with clients/python installed (pip install
--no-deps --no-build-isolation clients/python) or straight from the checkout.
Settings come from the environment:
  REGISTRY       host:port of the registry (default 127.0.0.1:3004)
  SERVICE        service name (default "py-users")
  INSTANCE_ID    default: a random UUID
  HOST, PORT     where this service listens (default 127.0.0.1, 0 = any free port)
  TTL_SECONDS    lease length (default 30)
  DRAIN_SECONDS  drain period on SIGTERM (default 2)
"""
import json
import os
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

try:
    import grpc_discovery
except ImportError:  # not installed: use the checkout's copy
    CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../clients/python")
    sys.path[:0] = [CLIENT, os.path.join(CLIENT, "gen")]
    import grpc_discovery

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


def main():
    server = ThreadingHTTPServer((HOST, int(os.environ.get("PORT", "0"))), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    registration = grpc_discovery.register(
        REGISTRY, SERVICE, HOST, port,
        instance_id=INSTANCE_ID, metadata={"lang": "python"}, ttl=TTL_SECONDS, load=load.current, drain=DRAIN_SECONDS,
    )
    print(f"registered {registration.instance_id} {port}", flush=True)

    stopping.wait()
    # Leave: DRAINING now (gateways stop sending), removed when the drain ends.
    print(f"draining {DRAIN_SECONDS}s", flush=True)
    registration.close()
    server.shutdown()


if __name__ == "__main__":
    main()

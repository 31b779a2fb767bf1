"""Drives the installed grpc_discovery package for test/e2e/python-client.test.ts.

MODE=register: registers SERVICE/INSTANCE_ID (TTL 3 s, load LOAD) and prints a
line per re-registration; SIGTERM exits through register()'s own handler, so
close() (drain, then unregister) runs at exit.
MODE=follow: prints every watch() event of SERVICE from REGISTRY, each break
("disconnected") and resumption ("reconnected ADDRESS SINCE"), and each change
of a healthy_view() of the same service.
REGISTRY may name several nodes, comma-separated.
"""
import os
import sys
import threading
import time

import grpc_discovery
from discovery.v1 import discovery_pb2 as pb

REGISTRY = os.environ["REGISTRY"]
SERVICE = os.environ["SERVICE"]


def say(line):
    print(line, flush=True)


def register_mode():
    load = float(os.environ.get("LOAD", "0.2"))
    registration = grpc_discovery.register(
        REGISTRY, SERVICE, "127.0.0.1", 7300, instance_id=os.environ["INSTANCE_ID"], ttl=3, load=lambda: load,
        drain=float(os.environ.get("DRAIN_SECONDS", "0.3")), metadata={"lang": "python"},
    )
    say(f"registered {registration.instance_id} every {registration.interval}s")
    seen = 0
    while True:
        time.sleep(0.02)
        if registration.re_registrations != seen:
            seen = registration.re_registrations
            say(f"re-registered {seen}")


def follow_mode():
    view = grpc_discovery.healthy_view(REGISTRY, SERVICE)
    view.on_change(lambda instances: say("view " + ",".join(i.instance_id for i in instances)))

    def follow():
        for event in grpc_discovery.watch(
            REGISTRY,
            [SERVICE],
            on_disconnect=lambda error: say("disconnected"),
            on_reconnect=lambda address, since: say(f"reconnected {address} {since}"),
        ):
            name = pb.EventType.Name(event.type).replace("EVENT_TYPE_", "")
            say(f"event {name} {event.instance.instance_id or '-'} {event.revision}")

    threading.Thread(target=follow, daemon=True).start()
    if not view.wait_ready(10):
        sys.exit("view not ready")
    say("view ready")
    threading.Event().wait()


if __name__ == "__main__":
    {"register": register_mode, "follow": follow_mode}[os.environ["MODE"]]()

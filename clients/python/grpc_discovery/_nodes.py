"""The registry as one node or several: one channel per node, calls on the current one.

As the Node SDK's failover transport and the Go helper's Conn do: a unary call
that finds its node UNAVAILABLE moves on to the next at once (Register,
Heartbeat and Unregister are idempotent, reads have no effect); streams stay on
the current node, and register() and watch() move them on when one breaks.
One channel over every address ("ipv4:A,B" with pick_first) would move only
when the connection drops, never when a live node answers UNAVAILABLE (one cut
off from etcd refuses writes so), and takes IP literals only; round_robin would
spread heartbeats so that each one moves the instance's lease (a write).
"""
import threading

import grpc

from discovery.v1 import discovery_pb2_grpc as pb_grpc

#: Channel options of the channels we open. grpc waits up to 120 s between
#: connection attempts by default, so a node that came back would be refused
#: that long; ours wait at most 5 s, the helpers' own retry ceiling.
RECONNECT_OPTIONS = (("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 5000))


def address_list(target):
    """host:port addresses from a comma-separated string or a list (whose entries may hold commas).

    Blanks and an http:// prefix are dropped; https:// is refused (pass TLS channels as `channel`).
    """
    entries = [target] if isinstance(target, str) else list(target or ())
    addresses = []
    for entry in entries:
        for part in entry.split(","):
            address = part.strip()
            if not address:
                continue
            if address.startswith("https://"):
                raise ValueError(f"registry address {address!r}: pass a TLS channel (channel=) instead")
            if address.startswith("http://"):
                address = address[len("http://"):].rstrip("/")
            if ":" not in address or "/" in address:
                raise ValueError(f"registry address {part.strip()!r}: want host:port")
            addresses.append(address)
    return addresses


class Nodes:
    """The registry's nodes: a stub per node and the one in use now."""

    def __init__(self, target, channel=None):
        if channel is not None:
            # The caller's channels (e.g. with TLS), one per node: never closed by us.
            self._channels = list(channel) if isinstance(channel, (list, tuple)) else [channel]
            self._own = False
            named = address_list(target) if target else []
            self.addresses = named if len(named) == len(self._channels) else [f"channel {i}" for i in range(len(self._channels))]
        else:
            self.addresses = address_list(target)
            if not self.addresses:
                raise ValueError("no registry address given")
            self._channels = [grpc.insecure_channel(a, options=RECONNECT_OPTIONS) for a in self.addresses]
            self._own = True
        self._stubs = [pb_grpc.DiscoveryServiceStub(c) for c in self._channels]
        self._lock = threading.Lock()
        self._at = 0

    @property
    def size(self):
        return len(self._stubs)

    def position(self):
        """The node calls and streams use now (pass it to move_on() when its stream breaks)."""
        with self._lock:
            return self._at

    @property
    def address(self):
        return self.addresses[self.position()]

    @property
    def stub(self):
        return self._stubs[self.position()]

    def move_on(self, from_position):
        """Leaves node `from_position` for the next, unless someone already did.

        A KeepAlive and a Watch that broke together on one node move once, not
        twice (with two nodes, twice would send them back to the dead one).
        """
        with self._lock:
            if self._at == from_position:
                self._at = (from_position + 1) % len(self._stubs)

    def call(self, method, request, **kwargs):
        """A unary call on the current node; UNAVAILABLE moves it on to the next, once per node."""
        for tried in range(1, len(self._stubs) + 1):
            at = self.position()
            try:
                return getattr(self._stubs[at], method)(request, **kwargs)
            except grpc.RpcError as error:
                if tried >= len(self._stubs) or error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                self.move_on(at)

    def close(self):
        """Closes the channels we opened."""
        if self._own:
            for channel in self._channels:
                channel.close()

"""register(): one call that registers an instance and keeps it registered.

Heartbeats travel on one KeepAlive stream from a background thread, carrying
the load the caller reports; NOT_FOUND (the registry lost the lease: expiry,
restart) registers the instance again under its id; an unreachable registry is
retried with backoff. Given several registry nodes, a broken stream moves to
the next node at once (backoff only once every node was tried), where the
first heartbeat takes the lease (cluster mode) or gets NOT_FOUND and registers
again (a node with a registry of its own). close() half-closes the stream,
unregisters with a drain period (DRAINING: gateways stop sending new calls) and
waits for it; by default close() also runs at interpreter exit and on SIGTERM.
"""
import atexit
import logging
import signal
import sys
import threading
import uuid

import grpc
from google.protobuf import duration_pb2

from discovery.v1 import discovery_pb2 as pb

from ._common import PERMANENT, Backoff, call_metadata
from ._nodes import Nodes

#: How long close() gives its Unregister call.
UNREGISTER_TIMEOUT_SECONDS = 2.0
#: Timeout of each Register call.
REGISTER_TIMEOUT_SECONDS = 5.0

log = logging.getLogger("grpc_discovery")


def _duration(seconds):
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=int(round((seconds - whole) * 1e9)))


class Registration:
    """A registered instance, kept alive until close()."""

    def __init__(self, nodes, request, load, drain, metadata, backoff):
        self._nodes = nodes
        self._request = request
        self._load = load
        self._drain = drain
        self._metadata = metadata
        self._backoff = backoff
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._call = None
        self._closed = False
        self._close_lock = threading.Lock()
        self.instance = None
        self.interval = 1.0
        self.re_registrations = 0
        # KeepAlive streams broken since the last answer: each moves to the next node; once all were tried, backoff.
        self._broken_in_a_row = 0
        self._thread = None
        self._on_close = []

    @property
    def instance_id(self):
        return self.instance.instance_id

    def _register(self):
        """Registers, retrying with backoff while the registry is unreachable; raises when refused or stopped."""
        while True:
            request = pb.RegisterRequest()
            request.CopyFrom(self._request)
            if self.instance is not None:
                request.instance_id = self.instance.instance_id
            load = self._current_load()
            if load is not None:
                request.load_percentage = load
            try:
                response = self._nodes.call("Register", request, timeout=REGISTER_TIMEOUT_SECONDS, metadata=self._metadata)
            except grpc.RpcError as error:
                if error.code() in PERMANENT or self._stop.is_set():
                    raise
                delay = self._backoff.next()
                log.warning("register %s failed (%s); retrying in %.2fs", request.service_name, error.code().name, delay)
                if self._stop.wait(delay):
                    raise
                continue
            self.instance = response.instance
            self.interval = max(0.001, response.heartbeat_interval.ToTimedelta().total_seconds() or 1.0)
            self._backoff.reset()
            return

    def _current_load(self):
        return None if self._load is None else float(self._load())

    def _heartbeats(self, answered):
        """The KeepAlive request stream; returning half-closes it (an orderly goodbye)."""
        while not self._stop.is_set():
            if not answered.is_set():
                # No answer within a heartbeat interval: the registry (or the path to it) is gone.
                with self._lock:
                    if self._call is not None:
                        self._call.cancel()
                return
            answered.clear()
            request = pb.HeartbeatRequest(service_name=self.instance.service_name, instance_id=self.instance.instance_id)
            load = self._current_load()
            if load is not None:
                request.load_percentage = load
            yield request
            if self._stop.wait(self.interval):
                return

    def _keep_alive_once(self):
        """Runs one KeepAlive stream until it breaks (raises grpc.RpcError) or close() ends it."""
        answered = threading.Event()
        answered.set()
        call = self._nodes.stub.KeepAlive(self._heartbeats(answered), metadata=self._metadata)
        with self._lock:
            self._call = call
        try:
            for response in call:
                answered.set()
                self._broken_in_a_row = 0
                self.instance = response.instance
                self._backoff.reset()
        finally:
            with self._lock:
                self._call = None

    def _run(self):
        while not self._stop.is_set():
            at = self._nodes.position()
            try:
                self._keep_alive_once()
                if self._stop.is_set():
                    return
                self._move_on(at, "ended by the registry")
                continue
            except grpc.RpcError as error:
                if self._stop.is_set():
                    return
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    log.info("registry lost the lease of %s/%s; registering again", self.instance.service_name, self.instance.instance_id)
                    try:
                        self._register()
                        self.re_registrations += 1
                        continue
                    except grpc.RpcError as refused:
                        if self._stop.is_set():
                            return
                        log.error("register refused (%s); retrying", refused.code().name)
                else:
                    self._move_on(at, error.code().name)
                    continue
            self._stop.wait(self._backoff.next())

    def _move_on(self, at, why):
        """Another registry node may hold up: move there at once, once per node, then back off."""
        self._nodes.move_on(at)
        self._broken_in_a_row += 1
        delay = 0 if self._broken_in_a_row < self._nodes.size else self._backoff.next()
        log.warning("keep-alive broke (%s); retrying on %s in %.2fs", why, self._nodes.address, delay)
        self._stop.wait(delay)

    def close(self, drain=None):
        """Stops heartbeating, unregisters with the drain period (seconds; default: register()'s) and waits it out."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        for undo in self._on_close:
            undo()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 2)
        drain = self._drain if drain is None else drain
        request = pb.UnregisterRequest(service_name=self.instance.service_name, instance_id=self.instance.instance_id)
        if drain > 0:
            request.drain.CopyFrom(_duration(drain))
        try:
            self._nodes.call("Unregister", request, timeout=UNREGISTER_TIMEOUT_SECONDS, metadata=self._metadata)
        except grpc.RpcError as error:
            log.warning("unregister failed (%s); the lease will run out", error.code().name)
            return
        finally:
            self._nodes.close()
        threading.Event().wait(drain)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def register(
    target,
    service,
    host,
    port,
    *,
    instance_id=None,
    metadata=None,
    ttl=None,
    load=None,
    drain=2.0,
    unregister_on_exit=True,
    secret=None,
    channel=None,
    backoff=None,
):
    """Registers an instance and keeps it registered; returns once the registry accepted it.

    target: the registry, host:port; several nodes as a list or comma-separated
    ("a:3004,b:3004"): a broken stream moves to the next at once. Or pass
    `channel` (e.g. one with TLS), or a list of channels, one per node.
    load: a callable returning the current load (0 to 1), read at every heartbeat.
    ttl: lease length in seconds (default: the registry's).
    drain: seconds the instance stays DRAINING on close() before it is removed.
    unregister_on_exit: close() at interpreter exit, and SIGTERM exits (when
    called from the main thread and SIGTERM has no handler of the application's).
    """
    nodes = Nodes(target, channel)
    request = pb.RegisterRequest(
        service_name=service, instance_id=instance_id or str(uuid.uuid4()), host=host, port=port, metadata=metadata or {}
    )
    if ttl is not None:
        request.ttl.CopyFrom(_duration(ttl))
    registration = Registration(
        nodes, request, load, drain, call_metadata(secret), backoff or Backoff()
    )
    try:
        registration._register()
    except BaseException:
        nodes.close()
        raise
    registration._thread = threading.Thread(target=registration._run, name="grpc-discovery-keep-alive", daemon=True)
    registration._thread.start()
    if unregister_on_exit:
        atexit.register(registration.close)
        registration._on_close.append(lambda: atexit.unregister(registration.close))
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            # SystemExit unwinds the main thread, so atexit (and with it close()) runs.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return registration

"""healthy_view(): what a gateway holds, a service's serving instances.

A watch() in a background thread keeps the set current; a fresh snapshot (at
start, after a RESET) is staged and swapped in whole at SYNCED, so readers never
see half a state; while the registry is unreachable the last known set stays.
"""
import logging
import threading

from discovery.v1 import discovery_pb2 as pb

from .watch import watch

log = logging.getLogger("grpc_discovery")

_SERVING = (pb.HEALTH_STATUS_HEALTHY, pb.HEALTH_STATUS_DEGRADED)


class HealthyView:
    """The serving (HEALTHY or DEGRADED) instances of one service, in instance-id order."""

    def __init__(self, service, avoid_critical_load):
        self.service = service
        self._avoid_critical = avoid_critical_load
        self._lock = threading.Lock()
        self._instances = ()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._listeners = []

    @property
    def instances(self):
        """A tuple of discovery.v1.Instance; a new tuple after every change."""
        return self._instances

    @property
    def synced(self):
        return self._ready.is_set()

    def wait_ready(self, timeout=None):
        """Waits for the first complete snapshot; returns whether it came."""
        return self._ready.wait(timeout)

    def on_change(self, listener):
        """Calls listener(instances) after each change; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def close(self):
        self._stop.set()

    def _publish(self, live):
        serving = [i for i in live.values() if i.status in _SERVING]
        if self._avoid_critical and any(not i.critical_load for i in serving):
            serving = [i for i in serving if not i.critical_load]
        serving.sort(key=lambda i: i.instance_id)
        if [(i.instance_id, i.host, i.port, i.status, i.critical_load) for i in serving] == [
            (i.instance_id, i.host, i.port, i.status, i.critical_load) for i in self._instances
        ]:
            return
        with self._lock:
            self._instances = tuple(serving)
        for listener in list(self._listeners):
            try:
                listener(self._instances)
            except Exception:  # one listener's bug must not end the view
                log.exception("healthy view listener raised")

    def _run(self, target, options):
        live, staging = {}, {}
        for event in watch(target, [self.service], stop=self._stop, **options):
            if event.type == pb.EVENT_TYPE_RESET:
                staging = {}
            elif event.type == pb.EVENT_TYPE_SYNCED:
                if staging is not None:
                    live, staging = staging, None
                self._ready.set()
            elif event.type in (pb.EVENT_TYPE_UNREGISTERED, pb.EVENT_TYPE_EXPIRED):
                (staging if staging is not None else live).pop(event.instance.instance_id, None)
            elif event.HasField("instance"):
                (staging if staging is not None else live)[event.instance.instance_id] = event.instance
            if staging is None:
                self._publish(live)


def healthy_view(target, service, *, avoid_critical_load=False, secret=None, channel=None, backoff=None):
    """Starts following `service`; returns a HealthyView (call wait_ready() before the first read).

    target: host:port; several registry nodes as a list or comma-separated (the
    view's watch moves to the next when its node goes away).
    """
    view = HealthyView(service, avoid_critical_load)
    options = {"secret": secret, "channel": channel, "backoff": backoff}
    threading.Thread(target=view._run, args=(target, options), name="grpc-discovery-healthy-view", daemon=True).start()
    return view

"""watch(): the registry's Watch stream as one endless iterator across disconnects.

It reconnects (to the next registry node at once when given several, with
backoff once every node was tried) and resumes after the last revision the
caller has fully seen (the SYNCED revision, then each live event's), so nothing
is missed or repeated; when it cannot resume (the server sends RESET, or the link broke
in the middle of a snapshot) the caller gets a RESET first and a fresh snapshot.
"""
import logging
import threading

import grpc

from discovery.v1 import discovery_pb2 as pb

from ._common import PERMANENT, Backoff, call_metadata
from ._nodes import Nodes

#: The reason on a RESET that watch() itself yields when a stream broke mid-snapshot.
RECONNECT_RESET_REASON = "reconnected-mid-snapshot"

log = logging.getLogger("grpc_discovery")


def watch(
    target, services=(), *, since_revision=0, stop=None, secret=None, channel=None, backoff=None, on_disconnect=None, on_reconnect=None
):
    """Yields WatchEvent messages until `stop` (a threading.Event) is set or the iterator is closed.

    target: host:port; several registry nodes as a list or comma-separated. Or
    pass `channel` (or a list of channels, one per node).
    Raises grpc.RpcError for a refused request (a bad service name, a bad secret).
    on_disconnect(error) is called each time the stream breaks, before the reconnect.
    on_reconnect(address, since_revision) is called when a stream opened after a
    break delivers its first event: where, and the revision it resumed after (0: a snapshot).
    """
    nodes = Nodes(target, channel)
    stop = stop or threading.Event()
    backoff = backoff or Backoff()
    metadata = call_metadata(secret)
    current = {"call": None}
    finished = threading.Event()

    def cancel_on_stop():
        # Wakes when stop is set (or the watch ended) and cancels the stream in flight.
        while not finished.is_set():
            if stop.wait(0.2):
                call = current["call"]
                if call is not None:
                    call.cancel()
                return

    threading.Thread(target=cancel_on_stop, name="grpc-discovery-watch-stop", daemon=True).start()
    resume_from = since_revision
    resumable = resume_from > 0
    partial_snapshot = False
    # Breaks since the last event: each moves to the next node, and once all were tried, backoff.
    broken_in_a_row = 0
    broken = False
    try:
        while not stop.is_set():
            since = resume_from if resumable else 0
            request = pb.WatchRequest(service_names=list(services), since_revision=since)
            at = nodes.position()
            call = nodes.stub.Watch(request, metadata=metadata)
            current["call"] = call
            try:
                for event in call:
                    broken_in_a_row = 0
                    if broken:
                        broken = False
                        if on_reconnect is not None:
                            on_reconnect(nodes.address, since)
                    if event.type == pb.EVENT_TYPE_RESET:
                        resumable, partial_snapshot = False, False
                    elif event.type == pb.EVENT_TYPE_SNAPSHOT:
                        partial_snapshot = True
                    elif event.type == pb.EVENT_TYPE_SYNCED:
                        resume_from, resumable, partial_snapshot = event.revision, True, False
                        backoff.reset()
                    else:
                        if resumable and event.revision <= resume_from:
                            continue  # already seen (cannot happen with a correct server)
                        if resumable:
                            resume_from = event.revision
                    yield event
                error = None
            except grpc.RpcError as failure:
                error = failure
            if stop.is_set():
                return
            if error is not None and error.code() in PERMANENT:
                raise error
            if on_disconnect is not None:
                on_disconnect(error)
            broken = True
            nodes.move_on(at)
            broken_in_a_row += 1
            delay = 0 if broken_in_a_row < nodes.size else backoff.next()
            log.warning("watch broke (%s); reconnecting to %s in %.2fs", error.code().name if error else "ended", nodes.address, delay)
            if stop.wait(delay):
                return
            if not resumable and partial_snapshot:
                partial_snapshot = False
                yield pb.WatchEvent(type=pb.EVENT_TYPE_RESET, revision=resume_from, reason=RECONNECT_RESET_REASON)
    finally:
        finished.set()
        call = current["call"]
        if call is not None:
            call.cancel()
        nodes.close()

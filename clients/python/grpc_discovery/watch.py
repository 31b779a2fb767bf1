"""watch(): the registry's Watch stream as one endless iterator across disconnects.

It reconnects with backoff and resumes after the last revision the caller has
fully seen (the SYNCED revision, then each live event's), so nothing is missed
or repeated; when it cannot resume (the server sends RESET, or the link broke
in the middle of a snapshot) the caller gets a RESET first and a fresh snapshot.
"""
import logging
import threading

import grpc

from discovery.v1 import discovery_pb2 as pb
from discovery.v1 import discovery_pb2_grpc as pb_grpc

from ._common import PERMANENT, Backoff, call_metadata, open_channel

#: The reason on a RESET that watch() itself yields when a stream broke mid-snapshot.
RECONNECT_RESET_REASON = "reconnected-mid-snapshot"

log = logging.getLogger("grpc_discovery")


def watch(target, services=(), *, since_revision=0, stop=None, secret=None, channel=None, backoff=None, on_disconnect=None):
    """Yields WatchEvent messages until `stop` (a threading.Event) is set or the iterator is closed.

    Raises grpc.RpcError for a refused request (a bad service name, a bad secret).
    on_disconnect(error) is called each time the stream breaks, before the reconnect.
    """
    channel, own_channel = open_channel(target, channel)
    stub = pb_grpc.DiscoveryServiceStub(channel)
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
    try:
        while not stop.is_set():
            request = pb.WatchRequest(service_names=list(services), since_revision=resume_from if resumable else 0)
            call = stub.Watch(request, metadata=metadata)
            current["call"] = call
            try:
                for event in call:
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
            delay = backoff.next()
            log.warning("watch broke (%s); reconnecting in %.2fs", error.code().name if error else "ended", delay)
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
        if own_channel:
            channel.close()

"""A proxyless xDS client on Debian's grpcio (C-core): calls xds:///SERVICE
every INTERVAL_MS and prints which backend answered.
env: GRPC_XDS_BOOTSTRAP (the bootstrap file), SERVICE, INTERVAL_MS, and
WAIT_FOR_READY=1 for calls that wait (up to their 1 s deadline) for an endpoint.
Prints "ok NAME" or "error CODE DETAILS" per call."""
import os
import signal
import sys
import time

import grpc


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    channel = grpc.insecure_channel("xds:///" + os.environ["SERVICE"])
    who = channel.unary_unary("/echo.v1.Echo/Who", request_serializer=None, response_deserializer=None)
    interval = int(os.environ.get("INTERVAL_MS", "20")) / 1000
    wait_for_ready = os.environ.get("WAIT_FOR_READY") == "1"
    while True:
        try:
            answer = who(b"", timeout=1, wait_for_ready=wait_for_ready)
            print("ok " + answer.decode(), flush=True)
        except grpc.RpcError as error:
            print("error %s %s" % (error.code().name, error.details()), flush=True)
        time.sleep(interval)


if __name__ == "__main__":
    main()

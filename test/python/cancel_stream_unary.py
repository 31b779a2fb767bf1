# A stock grpcio client that opens a call as stream_unary, sends one message
# without half-closing, and cancels: the call that used to kill the server.
import sys
import threading
import time

import grpc

target, path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
channel = grpc.insecure_channel(target)
identity = lambda b: b
method = channel.stream_unary(path, request_serializer=identity, response_deserializer=identity)
for _ in range(rounds):
    sent = threading.Event()

    def requests():
        yield b""
        sent.set()
        time.sleep(0.5)  # never half-closes before the cancel

    future = method.future(requests())
    sent.wait(1)
    time.sleep(0.02)
    future.cancel()
channel.close()
print("done", flush=True)

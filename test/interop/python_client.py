"""The required interop cases (grpc's doc/interop-test-descriptions.md,
"Client") with Debian's python3-grpcio. Runs the named cases against
127.0.0.1:PORT, each on connections of its own, and prints one JSON line per
case: {"case", "ok", "error"}.
Usage: /usr/bin/python3 python_client.py PORT COMPRESSION CASE..."""
import json
import os
import sys
import traceback
import types

import grpc  # noqa: E402

# The stubs' package is grpc.testing, inside grpcio's own "grpc" package: mount
# test/gen-python/grpc/testing there (grpcio does not ship a grpc.testing).
_testing = types.ModuleType("grpc.testing")
_testing.__path__ = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gen-python", "grpc", "testing")]
sys.modules["grpc.testing"] = _testing
grpc.testing = _testing

from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc  # noqa: E402

PORT = int(sys.argv[1])
CONNECT_TIMEOUT_S = 20
COMPRESSION = {"gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate}[sys.argv[2]]


def zeros(size):
    return messages_pb2.Payload(body=b"\0" * size)


def channel(compression=None):
    """A channel on a connection of its own, connected before the first call.

    No two cases share a connection, as in grpc's interop runner (one client
    process per case). C-core otherwise shares one connection between all
    channels to a target, and grpcio 1.51 (Debian; grpc/grpc#38758) may send
    RST_STREAM for a stream whose HEADERS it never sent when a deadline or a
    cancel beats the write (timeout_on_sleeping_server's 1 ms deadline under
    load); the server must end that connection (RFC 9113 section 6.4), which
    then failed the next case's calls with UNAVAILABLE "GOAWAY received".
    """
    created = grpc.insecure_channel(f"127.0.0.1:{PORT}", compression=compression, options=[("grpc.use_local_subchannel_pool", 1)])
    # Not closed afterwards: close() after a connectivity watch blocks 200 ms.
    grpc.channel_ready_future(created).result(timeout=CONNECT_TIMEOUT_S)
    return created


def stub(compression=None):
    return test_pb2_grpc.TestServiceStub(channel(compression))


def large_request(**extra):
    return messages_pb2.SimpleRequest(response_size=314159, payload=zeros(271828), **extra)


def expect_code(fn, code, details=None):
    try:
        fn()
    except grpc.RpcError as error:
        assert error.code() == code, f"status {error.code()} {error.details()}, expected {code}"
        if details is not None:
            assert error.details() == details, f"details {error.details()!r}, expected {details!r}"
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def empty_unary():
    s = stub()
    assert s.EmptyCall(empty_pb2.Empty()) == empty_pb2.Empty()


def large_unary():
    s = stub()
    answer = s.UnaryCall(large_request())
    assert len(answer.payload.body) == 314159
    assert answer.payload.body == b"\0" * 314159


def client_streaming():
    s = stub()
    requests = (messages_pb2.StreamingInputCallRequest(payload=zeros(n)) for n in (27182, 8, 1828, 45904))
    assert s.StreamingInputCall(requests).aggregated_payload_size == 74922


def server_streaming():
    s = stub()
    request = messages_pb2.StreamingOutputCallRequest(response_parameters=[messages_pb2.ResponseParameters(size=n) for n in (31415, 9, 2653, 58979)])
    assert [len(r.payload.body) for r in s.StreamingOutputCall(request)] == [31415, 9, 2653, 58979]


class Requests:
    """A request iterator the test feeds one message at a time (ping-pong)."""

    def __init__(self):
        import queue
        self.queue = queue.Queue()

    def send(self, message):
        self.queue.put(message)

    def close(self):
        self.queue.put(None)

    def __iter__(self):
        return self

    def __next__(self):
        item = self.queue.get()
        if item is None:
            raise StopIteration
        return item


def duplex_request(size, body):
    return messages_pb2.StreamingOutputCallRequest(response_parameters=[messages_pb2.ResponseParameters(size=size)], payload=zeros(body))


def ping_pong():
    s = stub()
    requests = Requests()
    responses = s.FullDuplexCall(requests)
    got = []
    for size, body in ((31415, 27182), (9, 8), (2653, 1828), (58979, 45904)):
        requests.send(duplex_request(size, body))
        got.append(len(next(responses).payload.body))
    requests.close()
    assert list(responses) == []
    assert got == [31415, 9, 2653, 58979]
    assert responses.code() == grpc.StatusCode.OK


def empty_stream():
    s = stub()
    responses = s.FullDuplexCall(iter([]))
    assert list(responses) == []


def cancel_after_begin():
    s = stub()
    requests = Requests()
    future = s.StreamingInputCall.future(requests)
    future.cancel()
    assert future.cancelled()
    try:
        future.result()
        raise AssertionError("the cancelled call succeeded")
    except grpc.FutureCancelledError:
        pass
    assert future.code() == grpc.StatusCode.CANCELLED


def cancel_after_first_response():
    s = stub()
    requests = Requests()
    responses = s.FullDuplexCall(requests)
    requests.send(duplex_request(31415, 27182))
    assert len(next(responses).payload.body) == 31415
    responses.cancel()
    expect_code(lambda: next(responses), grpc.StatusCode.CANCELLED)


def timeout_on_sleeping_server():
    s = stub()
    requests = Requests()
    responses = s.FullDuplexCall(requests, timeout=0.001)
    requests.send(messages_pb2.StreamingOutputCallRequest(payload=zeros(27182)))
    expect_code(lambda: next(responses), grpc.StatusCode.DEADLINE_EXCEEDED)
    requests.close()


METADATA = (("x-grpc-test-echo-initial", "test_initial_metadata_value"), ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"))


def check_metadata(initial, trailing):
    assert ("x-grpc-test-echo-initial", "test_initial_metadata_value") in initial, initial
    assert ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in trailing, trailing


def custom_metadata():
    s = stub()
    answer, call = s.UnaryCall.with_call(large_request(), metadata=METADATA)
    assert len(answer.payload.body) == 314159
    check_metadata(call.initial_metadata(), call.trailing_metadata())
    responses = s.FullDuplexCall(iter([duplex_request(314159, 271828)]), metadata=METADATA)
    assert [len(r.payload.body) for r in responses] == [314159]
    check_metadata(responses.initial_metadata(), responses.trailing_metadata())


def status_code_and_message():
    s = stub()
    status = messages_pb2.EchoStatus(code=2, message="test status message")
    expect_code(lambda: s.UnaryCall(messages_pb2.SimpleRequest(response_status=status)), grpc.StatusCode.UNKNOWN, "test status message")
    responses = s.FullDuplexCall(iter([messages_pb2.StreamingOutputCallRequest(response_status=status)]))
    expect_code(lambda: list(responses), grpc.StatusCode.UNKNOWN, "test status message")


def special_status_message():
    s = stub()
    message = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
    status = messages_pb2.EchoStatus(code=2, message=message)
    expect_code(lambda: s.UnaryCall(messages_pb2.SimpleRequest(response_status=status)), grpc.StatusCode.UNKNOWN, message)


def unimplemented_method():
    s = stub()
    expect_code(lambda: s.UnimplementedCall(empty_pb2.Empty()), grpc.StatusCode.UNIMPLEMENTED)


def unimplemented_service():
    other = test_pb2_grpc.UnimplementedServiceStub(channel())
    expect_code(lambda: other.UnimplementedCall(empty_pb2.Empty()), grpc.StatusCode.UNIMPLEMENTED)


def client_compressed_unary():
    s = stub()
    expect_code(lambda: s.UnaryCall(large_request(expect_compressed=messages_pb2.BoolValue(value=True))), grpc.StatusCode.INVALID_ARGUMENT)
    compressed = stub(COMPRESSION)
    assert len(compressed.UnaryCall(large_request(expect_compressed=messages_pb2.BoolValue(value=True))).payload.body) == 314159
    assert len(s.UnaryCall(large_request(expect_compressed=messages_pb2.BoolValue(value=False))).payload.body) == 314159


def server_compressed_unary():
    s = stub(COMPRESSION)
    for value in (True, False):
        assert len(s.UnaryCall(large_request(response_compressed=messages_pb2.BoolValue(value=value))).payload.body) == 314159


def client_compressed_streaming():
    def stream(s, requests):
        return s.StreamingInputCall(iter([messages_pb2.StreamingInputCallRequest(expect_compressed=messages_pb2.BoolValue(value=e), payload=zeros(n)) for e, n in requests]))

    plain = stub()
    expect_code(lambda: stream(plain, [(True, 27182)]), grpc.StatusCode.INVALID_ARGUMENT)
    compressed = stub(COMPRESSION)
    assert stream(compressed, [(True, 27182), (False, 45904)]).aggregated_payload_size == 73086


def server_compressed_streaming():
    s = stub(COMPRESSION)
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[
            messages_pb2.ResponseParameters(size=31415, compressed=messages_pb2.BoolValue(value=True)),
            messages_pb2.ResponseParameters(size=92653, compressed=messages_pb2.BoolValue(value=False)),
        ]
    )
    assert [len(r.payload.body) for r in s.StreamingOutputCall(request)] == [31415, 92653]


for name in sys.argv[3:]:
    try:
        globals()[name]()
        print(json.dumps({"case": name, "ok": True}), flush=True)
    except Exception as error:  # noqa: BLE001 - every failure is reported, with its trace
        print(json.dumps({"case": name, "ok": False, "error": f"{error!r}\n{traceback.format_exc()}"}), flush=True)


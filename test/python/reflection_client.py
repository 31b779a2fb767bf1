#!/usr/bin/python3
"""A strict gRPC reflection client: no .proto files, no generated code.

Usage: /usr/bin/python3 test/python/reflection_client.py HOST:PORT

It needs Debian's python3-grpcio and python3-protobuf (apt-get install -y
python3-grpcio python3-protobuf); it does not use grpcio-reflection. It:

1. builds the grpc.reflection.v1 request/response classes from a
   FileDescriptorProto assembled here with descriptor_pb2;
2. on one ServerReflectionInfo stream, lists the services and fetches the file
   containing discovery.v1.DiscoveryService, then asks by file name for any
   import the server left out (a correct server leaves out none);
3. adds the files, imports first, to a fresh DescriptorPool, which refuses
   malformed descriptors, missing imports and bad map entries;
4. calls Register and ListHealthy through message classes taken from that pool.

It prints one JSON line with what it saw. Exit codes: 0 ok, 2 usage,
3 grpc/protobuf missing, 1 anything else (with a traceback on stderr).
"""

import json
import queue
import sys
import threading

try:
    import grpc
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
except ImportError as error:  # pragma: no cover - environment check
    print(
        f"missing Python module ({error}); install Debian's packages: "
        "apt-get update && apt-get install -y python3-grpcio python3-protobuf",
        file=sys.stderr,
    )
    sys.exit(3)

SERVICE = "discovery.v1.DiscoveryService"
REFLECTION_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
TIMEOUT_S = 5.0

F = descriptor_pb2.FieldDescriptorProto


def message_class(pool, full_name):
    """A message class from a pool, with the API this protobuf version has."""
    descriptor = pool.FindMessageTypeByName(full_name)
    get_class = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    if get_class is not None:
        return get_class(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def reflection_classes():
    """grpc.reflection.v1's messages, declared field by field as reflection.proto does."""
    file = descriptor_pb2.FileDescriptorProto(
        name="grpc/reflection/v1/reflection.proto", package="grpc.reflection.v1", syntax="proto3"
    )

    def message(name, fields, oneofs=()):
        proto = file.message_type.add(name=name)
        for oneof in oneofs:
            proto.oneof_decl.add(name=oneof)
        for field_name, number, field_type, extra in fields:
            field = proto.field.add(name=field_name, number=number, type=field_type, label=F.LABEL_OPTIONAL)
            if extra.get("repeated"):
                field.label = F.LABEL_REPEATED
            if "type_name" in extra:
                field.type_name = ".grpc.reflection.v1." + extra["type_name"]
            if "oneof" in extra:
                field.oneof_index = extra["oneof"]

    message(
        "ServerReflectionRequest",
        [
            ("host", 1, F.TYPE_STRING, {}),
            ("file_by_filename", 3, F.TYPE_STRING, {"oneof": 0}),
            ("file_containing_symbol", 4, F.TYPE_STRING, {"oneof": 0}),
            ("file_containing_extension", 5, F.TYPE_MESSAGE, {"oneof": 0, "type_name": "ExtensionRequest"}),
            ("all_extension_numbers_of_type", 6, F.TYPE_STRING, {"oneof": 0}),
            ("list_services", 7, F.TYPE_STRING, {"oneof": 0}),
        ],
        oneofs=["message_request"],
    )
    message(
        "ExtensionRequest",
        [("containing_type", 1, F.TYPE_STRING, {}), ("extension_number", 2, F.TYPE_INT32, {})],
    )
    message(
        "ServerReflectionResponse",
        [
            ("valid_host", 1, F.TYPE_STRING, {}),
            ("original_request", 2, F.TYPE_MESSAGE, {"type_name": "ServerReflectionRequest"}),
            ("file_descriptor_response", 4, F.TYPE_MESSAGE, {"oneof": 0, "type_name": "FileDescriptorResponse"}),
            ("all_extension_numbers_response", 5, F.TYPE_MESSAGE, {"oneof": 0, "type_name": "ExtensionNumberResponse"}),
            ("list_services_response", 6, F.TYPE_MESSAGE, {"oneof": 0, "type_name": "ListServiceResponse"}),
            ("error_response", 7, F.TYPE_MESSAGE, {"oneof": 0, "type_name": "ErrorResponse"}),
        ],
        oneofs=["message_response"],
    )
    message("FileDescriptorResponse", [("file_descriptor_proto", 1, F.TYPE_BYTES, {"repeated": True})])
    message(
        "ExtensionNumberResponse",
        [("base_type_name", 1, F.TYPE_STRING, {}), ("extension_number", 2, F.TYPE_INT32, {"repeated": True})],
    )
    message("ListServiceResponse", [("service", 1, F.TYPE_MESSAGE, {"repeated": True, "type_name": "ServiceResponse"})])
    message("ServiceResponse", [("name", 1, F.TYPE_STRING, {})])
    message("ErrorResponse", [("error_code", 1, F.TYPE_INT32, {}), ("error_message", 2, F.TYPE_STRING, {})])

    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return (
        message_class(pool, "grpc.reflection.v1.ServerReflectionRequest"),
        message_class(pool, "grpc.reflection.v1.ServerReflectionResponse"),
    )


class ReflectionStream:
    """One ServerReflectionInfo call, used request by request."""

    _END = object()

    def __init__(self, channel, request_class, response_class):
        self._request_class = request_class
        self._closed = False
        self._requests = queue.Queue()
        call = channel.stream_stream(
            REFLECTION_METHOD,
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        self._responses = call(iter(self._requests.get, self._END), timeout=TIMEOUT_S * 2)

    def ask(self, **request):
        self._requests.put(self._request_class(**request))
        response = next(self._responses)
        echoed = response.original_request.WhichOneof("message_request")
        if echoed != next(iter(k for k in request if k != "host")):
            raise AssertionError(f"answer echoes {echoed!r}, not the request {request!r}")
        return response

    def close(self):
        if self._closed:
            return
        self._closed = True
        self._requests.put(self._END)
        rest = list(self._responses)  # the server ends the stream after the half-close
        if rest:
            raise AssertionError(f"unexpected extra answers: {rest!r}")


def fetch_files(stream, symbol):
    """The file defining `symbol` and all its imports, as FileDescriptorProtos by name."""
    response = stream.ask(file_containing_symbol=symbol)
    kind = response.WhichOneof("message_response")
    if kind != "file_descriptor_response":
        raise AssertionError(f"file_containing_symbol {symbol}: got {kind}: {response.error_response}")
    files = {}
    order = []
    for raw in response.file_descriptor_response.file_descriptor_proto:
        file = descriptor_pb2.FileDescriptorProto.FromString(raw)
        files[file.name] = file
        order.append(file.name)
    # A strict client asks for what is missing rather than guessing it.
    extra = []
    missing = [d for f in files.values() for d in f.dependency if d not in files]
    while missing:
        name = missing.pop()
        if name in files:
            continue
        answer = stream.ask(file_by_filename=name)
        if answer.WhichOneof("message_response") != "file_descriptor_response":
            raise AssertionError(f"import {name} cannot be fetched: {answer.error_response}")
        extra.append(name)
        for raw in answer.file_descriptor_response.file_descriptor_proto:
            file = descriptor_pb2.FileDescriptorProto.FromString(raw)
            files.setdefault(file.name, file)
            missing.extend(d for d in file.dependency if d not in files)
    return files, order, extra


def build_pool(files):
    """A fresh pool with every file added after its imports."""
    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(name, trail=()):
        if name in added:
            return
        if name in trail:
            raise AssertionError(f"import cycle: {' -> '.join(trail + (name,))}")
        for dependency in files[name].dependency:
            add(dependency, trail + (name,))
        pool.Add(files[name])  # raises TypeError on anything malformed
        added.add(name)

    for name in sorted(files):
        add(name)
    return pool


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} HOST:PORT", file=sys.stderr)
        return 2
    target = argv[1]
    request_class, response_class = reflection_classes()

    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT_S)
        stream = ReflectionStream(channel, request_class, response_class)
        try:
            listed = stream.ask(list_services="")
            services = [s.name for s in listed.list_services_response.service]
            unknown = stream.ask(file_containing_symbol="discovery.v1.NoSuchSymbol")
            if unknown.WhichOneof("message_response") != "error_response":
                raise AssertionError(f"unknown symbol answered {unknown}")
            files, order, extra = fetch_files(stream, SERVICE)
        finally:
            # Half-close; the server must then end the stream with OK.
            stream.close()

        pool = build_pool(files)
        service = pool.FindServiceByName(SERVICE)
        methods = {m.name: m for m in service.methods}
        instance_type = pool.FindMessageTypeByName("discovery.v1.Instance")
        map_fields = [
            f.name
            for f in instance_type.fields
            if f.message_type is not None and f.message_type.GetOptions().map_entry
        ]

        def unary(method_name, request):
            method = methods[method_name]
            request_type = message_class(pool, method.input_type.full_name)
            response_type = message_class(pool, method.output_type.full_name)
            call = channel.unary_unary(
                f"/{SERVICE}/{method_name}",
                request_serializer=request_type.SerializeToString,
                response_deserializer=response_type.FromString,
            )
            return call(request_type(**request), timeout=TIMEOUT_S)

        registered = unary(
            "Register",
            {
                "service_name": "py-reflect",
                "host": "10.1.2.3",
                "port": 9000,
                "metadata": {"zone": "a"},
                "load_percentage": 0.5,
            },
        )
        healthy = unary("ListHealthy", {"service_name": "py-reflect"})

    instance = registered.instance
    status = instance.DESCRIPTOR.fields_by_name["status"].enum_type.values_by_number[instance.status].name
    print(
        json.dumps(
            {
                "services": services,
                "not_found_code": unknown.error_response.error_code,
                "files": order,
                "extra_fetches": extra,
                "methods": [m.name for m in service.methods],
                "instance_map_fields": map_fields,
                "instance_id": instance.instance_id,
                "instance": {
                    "service_name": instance.service_name,
                    "host": instance.host,
                    "port": instance.port,
                    "metadata": dict(instance.metadata),
                    "load_percentage": instance.load_percentage,
                    "status": status,
                    "registered_at_seconds": instance.registered_at.seconds,
                    "ttl_seconds": instance.ttl.seconds,
                },
                "heartbeat_interval_seconds": registered.heartbeat_interval.ToTimedelta().total_seconds(),
                "listed": len(healthy.instances),
                "listed_ids": [i.instance_id for i in healthy.instances],
                "revision": healthy.revision,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Calls ListServices and Register over TLS with grpcio's ssl credentials.

Usage: tls_client.py TARGET CA_PEM [CLIENT_PEM CLIENT_KEY]
Prints one line per call: the method and the status code name (OK or the error).
Raw bytes are enough for this check: an empty ListServicesRequest and a
hand-encoded RegisterRequest, so no generated stubs are needed.
"""
import sys

import grpc


def register_request(service, host, port):
    def field(number, value):
        data = value.encode()
        return bytes([number << 3 | 2, len(data)]) + data

    return field(1, service) + field(3, host) + bytes([4 << 3, port])


def main():
    target, ca = sys.argv[1], sys.argv[2]
    cert = key = None
    if len(sys.argv) > 4:
        cert = open(sys.argv[3], "rb").read()
        key = open(sys.argv[4], "rb").read()
    credentials = grpc.ssl_channel_credentials(root_certificates=open(ca, "rb").read(), private_key=key, certificate_chain=cert)
    with grpc.secure_channel(target, credentials) as channel:
        identity = lambda b: b
        calls = [
            ("ListServices", b""),
            ("Register", register_request("users", "127.0.0.1", 80)),
        ]
        for method, request in calls:
            call = channel.unary_unary(f"/discovery.v1.DiscoveryService/{method}", request_serializer=identity, response_deserializer=identity)
            try:
                call(request, timeout=10)
                print(method, "OK", flush=True)
            except grpc.RpcError as error:
                print(method, error.code().name, flush=True)


if __name__ == "__main__":
    main()

"""Pieces shared by register() and watch(): backoff, call metadata, error kinds."""
import random

import grpc

#: Errors a retry cannot fix: the request itself is refused.
PERMANENT = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)


class Backoff:
    """Full-jitter exponential backoff: uniform in [0, min(maximum, initial * 2**attempt)] seconds."""

    def __init__(self, initial=0.1, maximum=5.0):
        self.initial = initial
        self.maximum = maximum
        self.attempt = 0

    def next(self):
        ceiling = min(self.maximum, self.initial * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return random.uniform(0, ceiling)

    def reset(self):
        self.attempt = 0


def call_metadata(secret):
    """The bearer token the registry asks for when it has a secret (SERVICE_DISCOVERY_SECRET)."""
    return (("authorization", "Bearer " + secret),) if secret else None


"""Python client of the grpc-discovery registry.

register() keeps an instance registered (KeepAlive in a background thread,
registering again on NOT_FOUND, unregistering with a drain on close or exit);
watch() yields Watch events across reconnects, resuming from the last revision;
healthy_view() holds a service's serving instances, kept current by a watch.
"""
from .register import Registration, register
from .watch import RECONNECT_RESET_REASON, watch
from .healthy_view import HealthyView, healthy_view

__all__ = ["Registration", "register", "watch", "RECONNECT_RESET_REASON", "HealthyView", "healthy_view"]

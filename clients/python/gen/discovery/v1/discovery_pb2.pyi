from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
EVENT_TYPE_EXPIRED: EventType
EVENT_TYPE_HEALTH_CHANGED: EventType
EVENT_TYPE_LOAD_CRITICAL: EventType
EVENT_TYPE_LOAD_NORMAL: EventType
EVENT_TYPE_REGISTERED: EventType
EVENT_TYPE_RESET: EventType
EVENT_TYPE_SNAPSHOT: EventType
EVENT_TYPE_SYNCED: EventType
EVENT_TYPE_UNREGISTERED: EventType
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_UPDATED: EventType
HEALTH_STATUS_DEGRADED: HealthStatus
HEALTH_STATUS_DRAINING: HealthStatus
HEALTH_STATUS_HEALTHY: HealthStatus
HEALTH_STATUS_UNHEALTHY: HealthStatus
HEALTH_STATUS_UNKNOWN: HealthStatus
HEALTH_STATUS_UNSPECIFIED: HealthStatus
PROBE_OUTCOME_DEGRADED: ProbeOutcome
PROBE_OUTCOME_FAIL: ProbeOutcome
PROBE_OUTCOME_PASS: ProbeOutcome
PROBE_OUTCOME_UNSPECIFIED: ProbeOutcome

class CheckNowRequest(_message.Message):
    __slots__ = ["instance_id", "service_name"]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    service_name: str
    def __init__(self, service_name: _Optional[str] = ..., instance_id: _Optional[str] = ...) -> None: ...

class CheckNowResponse(_message.Message):
    __slots__ = ["instance", "result"]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    result: HealthCheckResult
    def __init__(self, result: _Optional[_Union[HealthCheckResult, _Mapping]] = ..., instance: _Optional[_Union[Instance, _Mapping]] = ...) -> None: ...

class ExecProbe(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetHealthHistoryRequest(_message.Message):
    __slots__ = ["instance_id", "service_name"]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    service_name: str
    def __init__(self, service_name: _Optional[str] = ..., instance_id: _Optional[str] = ...) -> None: ...

class GetHealthHistoryResponse(_message.Message):
    __slots__ = ["latency_average", "results", "uptime"]
    LATENCY_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    latency_average: _duration_pb2.Duration
    results: _containers.RepeatedCompositeFieldContainer[HealthCheckResult]
    uptime: float
    def __init__(self, results: _Optional[_Iterable[_Union[HealthCheckResult, _Mapping]]] = ..., latency_average: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., uptime: _Optional[float] = ...) -> None: ...

class GrpcProbe(_message.Message):
    __slots__ = ["service"]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: str
    def __init__(self, service: _Optional[str] = ...) -> None: ...

class HealthCheck(_message.Message):
    __slots__ = ["degraded_latency", "exec", "grpc", "healthy_threshold", "http", "interval", "postgres", "redis", "tcp", "timeout", "unhealthy_threshold"]
    DEGRADED_LATENCY_FIELD_NUMBER: _ClassVar[int]
    EXEC_FIELD_NUMBER: _ClassVar[int]
    GRPC_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    HTTP_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    POSTGRES_FIELD_NUMBER: _ClassVar[int]
    REDIS_FIELD_NUMBER: _ClassVar[int]
    TCP_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    UNHEALTHY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    degraded_latency: _duration_pb2.Duration
    exec: ExecProbe
    grpc: GrpcProbe
    healthy_threshold: int
    http: HttpProbe
    interval: _duration_pb2.Duration
    postgres: PostgresProbe
    redis: RedisProbe
    tcp: TcpProbe
    timeout: _duration_pb2.Duration
    unhealthy_threshold: int
    def __init__(self, http: _Optional[_Union[HttpProbe, _Mapping]] = ..., tcp: _Optional[_Union[TcpProbe, _Mapping]] = ..., grpc: _Optional[_Union[GrpcProbe, _Mapping]] = ..., redis: _Optional[_Union[RedisProbe, _Mapping]] = ..., postgres: _Optional[_Union[PostgresProbe, _Mapping]] = ..., exec: _Optional[_Union[ExecProbe, _Mapping]] = ..., interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., healthy_threshold: _Optional[int] = ..., unhealthy_threshold: _Optional[int] = ..., degraded_latency: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class HealthCheckResult(_message.Message):
    __slots__ = ["error", "latency", "load_percentage", "outcome", "time"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    LOAD_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    error: str
    latency: _duration_pb2.Duration
    load_percentage: float
    outcome: ProbeOutcome
    time: _timestamp_pb2.Timestamp
    def __init__(self, time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[ProbeOutcome, str]] = ..., latency: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., load_percentage: _Optional[float] = ..., error: _Optional[str] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ["instance_id", "load_percentage", "service_name", "status"]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LOAD_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    load_percentage: float
    service_name: str
    status: HealthStatus
    def __init__(self, service_name: _Optional[str] = ..., instance_id: _Optional[str] = ..., load_percentage: _Optional[float] = ..., status: _Optional[_Union[HealthStatus, str]] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ["instance"]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ...) -> None: ...

class HttpProbe(_message.Message):
    __slots__ = ["expected_status_max", "expected_status_min", "headers", "path"]
    class HeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EXPECTED_STATUS_MAX_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATUS_MIN_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    expected_status_max: int
    expected_status_min: int
    headers: _containers.ScalarMap[str, str]
    path: str
    def __init__(self, path: _Optional[str] = ..., expected_status_min: _Optional[int] = ..., expected_status_max: _Optional[int] = ..., headers: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Instance(_message.Message):
    __slots__ = ["critical_load", "health_check", "health_endpoint", "host", "instance_id", "last_health_check", "last_heartbeat", "latency", "load_percentage", "metadata", "port", "registered_at", "service_name", "status", "ttl", "uptime"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CRITICAL_LOAD_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECK_FIELD_NUMBER: _ClassVar[int]
    HEALTH_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_HEALTH_CHECK_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    LOAD_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    critical_load: bool
    health_check: HealthCheck
    health_endpoint: str
    host: str
    instance_id: str
    last_health_check: _timestamp_pb2.Timestamp
    last_heartbeat: _timestamp_pb2.Timestamp
    latency: _duration_pb2.Duration
    load_percentage: float
    metadata: _containers.ScalarMap[str, str]
    port: int
    registered_at: _timestamp_pb2.Timestamp
    service_name: str
    status: HealthStatus
    ttl: _duration_pb2.Duration
    uptime: float
    def __init__(self, service_name: _Optional[str] = ..., instance_id: _Optional[str] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., health_endpoint: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., status: _Optional[_Union[HealthStatus, str]] = ..., load_percentage: _Optional[float] = ..., critical_load: bool = ..., registered_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_heartbeat: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., health_check: _Optional[_Union[HealthCheck, _Mapping]] = ..., last_health_check: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., latency: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., uptime: _Optional[float] = ...) -> None: ...

class ListHealthyRequest(_message.Message):
    __slots__ = ["exclude_critical_load", "service_name"]
    EXCLUDE_CRITICAL_LOAD_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    exclude_critical_load: bool
    service_name: str
    def __init__(self, service_name: _Optional[str] = ..., exclude_critical_load: bool = ...) -> None: ...

class ListHealthyResponse(_message.Message):
    __slots__ = ["instances", "revision"]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    instances: _containers.RepeatedCompositeFieldContainer[Instance]
    revision: int
    def __init__(self, instances: _Optional[_Iterable[_Union[Instance, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class ListInstancesRequest(_message.Message):
    __slots__ = ["service_name"]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    service_name: str
    def __init__(self, service_name: _Optional[str] = ...) -> None: ...

class ListInstancesResponse(_message.Message):
    __slots__ = ["instances", "revision"]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    instances: _containers.RepeatedCompositeFieldContainer[Instance]
    revision: int
    def __init__(self, instances: _Optional[_Iterable[_Union[Instance, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class ListServicesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ["revision", "services"]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    revision: int
    services: _containers.RepeatedCompositeFieldContainer[ServiceSummary]
    def __init__(self, services: _Optional[_Iterable[_Union[ServiceSummary, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class PostgresProbe(_message.Message):
    __slots__ = ["database", "user"]
    DATABASE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    database: str
    user: str
    def __init__(self, user: _Optional[str] = ..., database: _Optional[str] = ...) -> None: ...

class RedisProbe(_message.Message):
    __slots__ = ["password_ref", "username"]
    PASSWORD_REF_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    password_ref: str
    username: str
    def __init__(self, password_ref: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class RegisterRequest(_message.Message):
    __slots__ = ["health_check", "health_endpoint", "host", "instance_id", "load_percentage", "metadata", "port", "service_name", "ttl"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    HEALTH_CHECK_FIELD_NUMBER: _ClassVar[int]
    HEALTH_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LOAD_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    health_check: HealthCheck
    health_endpoint: str
    host: str
    instance_id: str
    load_percentage: float
    metadata: _containers.ScalarMap[str, str]
    port: int
    service_name: str
    ttl: _duration_pb2.Duration
    def __init__(self, service_name: _Optional[str] = ..., instance_id: _Optional[str] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., health_endpoint: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., load_percentage: _Optional[float] = ..., health_check: _Optional[_Union[HealthCheck, _Mapping]] = ...) -> None: ...

class RegisterResponse(_message.Message):
    __slots__ = ["heartbeat_interval", "instance"]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    heartbeat_interval: _duration_pb2.Duration
    instance: Instance
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ..., heartbeat_interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ServiceSummary(_message.Message):
    __slots__ = ["average_load", "critical_load_count", "degraded_count", "draining_count", "healthy_count", "instance_count", "service_name", "unhealthy_count", "unknown_count"]
    AVERAGE_LOAD_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_LOAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DRAINING_COUNT_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_COUNT_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    UNHEALTHY_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_COUNT_FIELD_NUMBER: _ClassVar[int]
    average_load: float
    critical_load_count: int
    degraded_count: int
    draining_count: int
    healthy_count: int
    instance_count: int
    service_name: str
    unhealthy_count: int
    unknown_count: int
    def __init__(self, service_name: _Optional[str] = ..., instance_count: _Optional[int] = ..., healthy_count: _Optional[int] = ..., critical_load_count: _Optional[int] = ..., average_load: _Optional[float] = ..., unknown_count: _Optional[int] = ..., degraded_count: _Optional[int] = ..., unhealthy_count: _Optional[int] = ..., draining_count: _Optional[int] = ...) -> None: ...

class TcpProbe(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class UnregisterRequest(_message.Message):
    __slots__ = ["drain", "instance_id", "service_name"]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    drain: _duration_pb2.Duration
    instance_id: str
    service_name: str
    def __init__(self, service_name: _Optional[str] = ..., instance_id: _Optional[str] = ..., drain: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class UnregisterResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WatchEvent(_message.Message):
    __slots__ = ["instance", "occurred_at", "previous_status", "reason", "revision", "type"]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    occurred_at: _timestamp_pb2.Timestamp
    previous_status: HealthStatus
    reason: str
    revision: int
    type: EventType
    def __init__(self, revision: _Optional[int] = ..., type: _Optional[_Union[EventType, str]] = ..., instance: _Optional[_Union[Instance, _Mapping]] = ..., previous_status: _Optional[_Union[HealthStatus, str]] = ..., occurred_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ["service_names", "since_revision"]
    SERVICE_NAMES_FIELD_NUMBER: _ClassVar[int]
    SINCE_REVISION_FIELD_NUMBER: _ClassVar[int]
    service_names: _containers.RepeatedScalarFieldContainer[str]
    since_revision: int
    def __init__(self, service_names: _Optional[_Iterable[str]] = ..., since_revision: _Optional[int] = ...) -> None: ...

class HealthStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ProbeOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

// How DiscoveryService's answers are encoded on the gRPC transports: the
// heartbeat path through the hand-written Instance encoder, and the answers
// shared by many calls (Watch events, cached list answers) encoded once.
import {
  HeartbeatResponseSchema,
  ListHealthyResponseSchema,
  ListInstancesResponseSchema,
  RegisterResponseSchema,
  WatchEventSchema,
  type DiscoveryService,
  type HeartbeatResponse,
  type RegisterResponse,
} from "../../../gen/discovery/v1/discovery_pb";
import { encodeOnceCodec, frameBytes, protobufCodec, type MessageCodec, type ServiceCodecs } from "../../transport/codec";
import { encodeInstanceAnswer } from "./instance-codec";

/** HeartbeatResponse or RegisterResponse through encodeInstanceAnswer; protobuf-es when a value is outside its fast path. */
function instanceAnswerCodec(schema: typeof HeartbeatResponseSchema | typeof RegisterResponseSchema): MessageCodec {
  const generic = protobufCodec(schema);
  const frame = (message: unknown) => encodeInstanceAnswer(message as HeartbeatResponse | RegisterResponse) ?? frameBytes(generic.encode(message));
  return { frame, encode: (message) => frame(message).subarray(5), decode: generic.decode };
}

export function createDiscoveryCodecs(): ServiceCodecs<typeof DiscoveryService> {
  const heartbeat = instanceAnswerCodec(HeartbeatResponseSchema);
  return {
    heartbeat: { response: heartbeat },
    keepAlive: { response: heartbeat },
    register: { response: instanceAnswerCodec(RegisterResponseSchema) },
    listHealthy: { response: encodeOnceCodec(ListHealthyResponseSchema) },
    listInstances: { response: encodeOnceCodec(ListInstancesResponseSchema) },
    watch: { response: encodeOnceCodec(WatchEventSchema) },
  };
}

// Where cluster mode keeps things under ETCD_PREFIX: one key per instance (on
// the lease of the node that holds it) and one membership key per live node.
// Service names cannot contain "/", so the first "/" after the service ends it.
import { fromUtf8, prefixEnd, utf8 } from "./client/keys";

export interface KeyLayout {
  readonly prefix: string;
  instanceKey(serviceName: string, instanceId: string): Uint8Array;
  /** [key, rangeEnd) of every instance key. */
  readonly instances: { readonly key: Uint8Array; readonly rangeEnd: Uint8Array };
  /** [key, rangeEnd) of everything cluster mode writes (what a node watches). */
  readonly all: { readonly key: Uint8Array; readonly rangeEnd: Uint8Array };
  /** [key, rangeEnd) of the membership keys. */
  readonly nodes: { readonly key: Uint8Array; readonly rangeEnd: Uint8Array };
  nodeKey(nodeId: string): Uint8Array;
  /** The election key of the survivors that adopt a dead node's instances. */
  adoptionKey(deadNodeId: string): Uint8Array;
  /** A node's mark that ends a history catch-up (see history-replay.ts); on its membership lease. */
  replayMarkKey(nodeId: string): Uint8Array;
  /** A node's mark that ends its live watch's catch-up after a reconnect (see catch-up.ts); on its membership lease. */
  catchUpMarkKey(nodeId: string): Uint8Array;
  /** What a key under the prefix names, or undefined for a key cluster mode does not own. */
  parse(key: Uint8Array): { t: "instance"; serviceName: string; instanceId: string } | { t: "node"; nodeId: string } | { t: "other" };
}

export function keyLayout(prefix: string): KeyLayout {
  const range = (p: string) => ({ key: utf8(p), rangeEnd: prefixEnd(utf8(p)) });
  const instancesPrefix = `${prefix}instances/`;
  const nodesPrefix = `${prefix}nodes/`;
  return {
    prefix,
    instanceKey: (serviceName, instanceId) => utf8(`${instancesPrefix}${serviceName}/${instanceId}`),
    instances: range(instancesPrefix),
    all: range(prefix),
    nodes: range(nodesPrefix),
    nodeKey: (nodeId) => utf8(`${nodesPrefix}${nodeId}`),
    adoptionKey: (deadNodeId) => utf8(`${prefix}adoptions/${deadNodeId}`),
    replayMarkKey: (nodeId) => utf8(`${prefix}replay-marks/${nodeId}`),
    catchUpMarkKey: (nodeId) => utf8(`${prefix}catch-up-marks/${nodeId}`),
    parse(bytes) {
      const key = fromUtf8(bytes);
      if (key.startsWith(instancesPrefix)) {
        const rest = key.slice(instancesPrefix.length);
        const slash = rest.indexOf("/");
        if (slash > 0) return { t: "instance", serviceName: rest.slice(0, slash), instanceId: rest.slice(slash + 1) };
      }
      if (key.startsWith(nodesPrefix)) return { t: "node", nodeId: key.slice(nodesPrefix.length) };
      return { t: "other" };
    },
  };
}

// Registry changes in the log: every state change at info, one line each.
// Heartbeats emit no event, so nothing per heartbeat is logged above debug.
import type { Logger } from "pino";
import type { RegistryStore } from "../../core/store";
import { currentActor } from "../../runtime/actor";

export function logRegistryEvents(store: RegistryStore, logger: Logger): void {
  store.onEvent((event) => {
    const { instance } = event;
    logger.info(
      {
        event: event.type,
        revision: event.revision,
        // Not "service": the base logger's key for this server ("discovery").
        serviceName: instance.serviceName,
        instanceId: instance.instanceId,
        address: `${instance.host}:${instance.port}`,
        status: instance.status,
        previousStatus: event.previousStatus,
        load: instance.loadReported ? instance.load : undefined,
        // The credential that made the change (tokens file name), when auth is on.
        actor: currentActor(),
      },
      `${event.type} ${instance.serviceName}/${instance.instanceId}`,
    );
  });
}

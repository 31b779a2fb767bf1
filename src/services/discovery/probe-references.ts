// A Register whose check names an exec check or a secret the operator did not
// define is refused at once, naming the field, rather than accepted and then
// failing every probe. The names come from the operator's probe files.
import { invalidArgument } from "../../core/errors";
import type { HealthCheckInput } from "../../core/types";
import type { ProbeResources } from "../../health/probe-files";

export function checkProbeReferences(check: HealthCheckInput | undefined, resources: ProbeResources): void {
  const probe = check?.probe;
  if (probe?.t === "exec" && probe.name !== "" && !resources.execChecks.has(probe.name)) {
    throw invalidArgument("health_check.exec.name", `no exec check named ${JSON.stringify(probe.name.slice(0, 128))} in DISCOVERY_EXEC_CHECKS_FILE`);
  }
  if (probe?.t === "redis" && probe.passwordRef !== "" && !resources.secrets.has(probe.passwordRef)) {
    throw invalidArgument("health_check.redis.password_ref", `no secret named ${JSON.stringify(probe.passwordRef.slice(0, 128))} in DISCOVERY_PROBE_SECRETS_FILE`);
  }
}

// What a probe executor hands back: the answer on the wire, before the prober
// adds the latency and the registry judges it by the check's rules.
import type { ReportedStatus } from "../core/health-state";

export type ProbeAnswer =
  | { readonly ok: true; readonly reportedStatus?: ReportedStatus; readonly load?: number }
  | { readonly ok: false; readonly error: string };

// A change of one instance while the rules judge it: the fields as they will be,
// the events it makes (each with a frozen copy of the instance right after it),
// and the soft state a store may keep without a write (see SoftState).
import { copyInstance } from "./instance-copy";
import type { SoftState, StoreStep } from "./store";
import type { ChangeType, HealthStatus, InstanceState, InstanceView } from "./types";

export class InstanceDraft {
  private readonly state: InstanceState;
  readonly steps: StoreStep[] = [];
  readonly soft: SoftState = {};
  private replicated = false;

  constructor(from: InstanceView) {
    this.state = { ...from };
  }

  /** The instance as the change stands (read it to judge; change it through the methods). */
  get current(): InstanceView {
    return this.state;
  }

  /** True when a store must write: an event, or a replicated field changed without one. */
  get needsWrite(): boolean {
    return this.replicated;
  }

  /** Fields a store may keep without a write (lease-holder soft state). */
  setSoft(patch: SoftState): void {
    Object.assign(this.state, patch);
    Object.assign(this.soft, patch);
  }

  /** Replicated fields: the change must be written. */
  set(patch: Partial<InstanceState>): void {
    Object.assign(this.state, patch);
    this.replicated = true;
  }

  event(type: ChangeType, previousStatus?: HealthStatus): void {
    this.steps.push({ type, instance: this.final(), previousStatus });
    this.replicated = true;
  }

  /** Moves the status, with health-changed, unless it is already that. */
  status(status: HealthStatus): void {
    const previous = this.state.status;
    if (previous === status) return;
    this.set({ status });
    this.event("health-changed", previous);
  }

  /** A frozen copy of the instance as the change stands: events share it with every subscriber. */
  final(): InstanceView {
    return Object.freeze(copyInstance(this.state));
  }
}

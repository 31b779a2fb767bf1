// Critical-load detection with hysteresis: an instance turns critical when its
// load reaches the threshold and back only once it falls clearly below, so a load
// wobbling around the threshold does not flood watchers with alerts.

export interface LoadTracker {
  /** The critical flag after a report of `load`, given the flag before it. */
  isCritical(wasCritical: boolean, load: number): boolean;
}

export function createLoadTracker(threshold: number, hysteresis: number): LoadTracker {
  const release = threshold - hysteresis;
  return {
    isCritical: (wasCritical, load) => (wasCritical ? load >= release : load >= threshold),
  };
}

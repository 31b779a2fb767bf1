// The prober's tunables, apart from the prober so the settings table can name
// them without loading the probes.

/** Probes in flight at most, over all instances (HEALTH_CHECK_CONCURRENCY). */
export const DEFAULT_PROBE_CONCURRENCY = 256;

/**
 * Probe schedules are rounded up to this tick (HEALTH_CHECK_TICK_MS). Each wake-up of the
 * event loop costs more than the probe it starts (measured: ~270 µs of CPU per
 * HTTP probe at 1000/s with one timer per probe, ~80 µs in batches of 50 ms), so
 * the probes due within one tick go out in one loop turn and their answers come
 * back close together. Intervals are whole seconds, so 50 ms late is nothing.
 */
export const DEFAULT_PROBE_TICK_MS = 50;

// What a benchmark scenario is: a named run that returns rows for a table and the
// targets it checks, so the runner can print, save and compare them.

export interface ScenarioOptions {
  /** Repetitions for medians (at least 3). */
  runs: number;
  /** Seconds of measured load per run. */
  seconds: number;
}

export interface TargetCheck {
  name: string;
  value: number;
  met: boolean;
}

export interface ScenarioResult {
  rows: Record<string, unknown>[];
  targets: TargetCheck[];
  notes?: string[];
  /** How many runs the figures come from, when the scenario ignores BENCH_RUNS (one run of a costly set-up). */
  runs?: number;
}

export interface Scenario {
  name: string;
  description: string;
  run(options: ScenarioOptions): Promise<ScenarioResult>;
}

// The shape of a settings table and what is derived from it: the typed values
// (one Config field per row) read from variables and flags, with errors that
// name whichever of the two the bad value came from.
import type { SettingKind } from "./kinds";

/** One setting: where it is read from, what it means, and its kind of value. */
export interface Setting<K extends string = string, E extends string = string, T = unknown> {
  /** Its field in Config. */
  readonly key: K;
  /** Its environment variable. */
  readonly env: E;
  /** Its flag of `discovery serve` (without `--`), which overrides the variable. */
  readonly flag: string;
  /** One line for `--help` and the README. */
  readonly help: string;
  /** More for the README only: why, and what happens at the edges. */
  readonly more?: string;
  readonly kind: SettingKind<T>;
}

/** Declares a row, keeping its key, variable and value type for the derived types. */
export function setting<const K extends string, const E extends string, T>(row: Setting<K, E, T>): Setting<K, E, T> {
  return row;
}

/** The typed values of a table: one field per row. */
export type ValuesOf<Rows extends readonly Setting[]> = {
  -readonly [R in Rows[number] as R["key"]]: R extends Setting<string, string, infer T> ? T : never;
};

type Env = Readonly<Record<string, string | undefined>>;

/** Names a setting in errors: its flag when the value came from one, else its variable. */
export type Labeller = (env: string) => string;

/**
 * Reads every row from `env`, each overridden by its flag in `flags` (keyed by
 * variable; undefined: not given). Returns the values and the labeller for
 * checks that span settings.
 */
export function readSettings<Rows extends readonly Setting[]>(
  rows: Rows,
  env: Env,
  flags: Env,
): { values: ValuesOf<Rows>; label: Labeller } {
  const flagOf = new Map(rows.map((row) => [row.env, `--${row.flag}`]));
  const label: Labeller = (name) => (flags[name] !== undefined ? (flagOf.get(name) ?? name) : name);
  const values: Record<string, unknown> = {};
  for (const row of rows) {
    const raw = flags[row.env] ?? env[row.env];
    values[row.key] = raw === undefined ? row.kind.fallback : row.kind.parse(raw, label(row.env));
  }
  return { values: values as ValuesOf<Rows>, label };
}

/** `discovery serve --help`'s text for a row: what it means, its range and default, its variable. */
export function helpLine(row: Setting): string {
  return `${row.help} (${row.kind.rangeText}; default ${row.kind.defaultText}) [${row.env}]`;
}

/** The README's configuration table, generated from the rows. */
export function markdownTable(rows: readonly Setting[]): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const lines = ["| variable | flag | default | accepts | meaning |", "|---|---|---|---|---|"];
  for (const row of rows) {
    const meaning = row.more === undefined ? row.help : `${row.help}. ${row.more}`;
    lines.push(`| \`${row.env}\` | \`--${row.flag}\` | \`${row.kind.defaultText}\` | ${cell(row.kind.rangeText)} | ${cell(meaning)} |`);
  }
  return lines.join("\n") + "\n";
}

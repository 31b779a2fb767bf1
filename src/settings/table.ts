// The shape of a settings table and what is derived from it: the typed values
// (one Config field per row, or one object per group of rows) read from
// variables and flags, `--help` lines, and the README's table.
import type { SettingKind } from "./kinds";

/** One setting: where it is read from, what it means, and its kind of value. */
export interface Setting<K extends string = string, E extends string = string, T = unknown, G extends string = string> {
  /** Its field in Config (in its group's object when it has a group). */
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
  /**
   * The Config field holding this row's value with its group's other rows, as
   * one object that is undefined while the group is off (see readSettings).
   */
  readonly group?: G;
}

/** Declares a row, keeping its key, variable, value type and group for the derived types. */
export function setting<const K extends string, const E extends string, T, const G extends string = never>(row: Setting<K, E, T, G>): Setting<K, E, T, G> {
  return row;
}

type ValueOf<R> = R extends Setting<string, string, infer T, string> ? T : never;
type GroupOf<R> = R extends { readonly group?: infer G } ? NonNullable<G> : never;
type Flatten<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Per group, the keys of the rows that turn it on: it is on only when each has
 * a value (a list: a non-empty one). A group not named here is always on.
 */
export type GroupSwitches = Readonly<Record<string, readonly string[]>>;

/**
 * The typed values of a table: a field per ungrouped row, and per group an
 * object, undefined while off, whose switch fields are then always set.
 */
export type ValuesOf<Rows extends readonly Setting[], S extends GroupSwitches> = Flatten<
  { [R in Rows[number] as [GroupOf<R>] extends [never] ? R["key"] : never]: ValueOf<R> } & {
    // A group without switches is always on (an object, never undefined).
    [G in GroupOf<Rows[number]>]: G extends keyof S ? SwitchedOn<GroupValues<Rows, G>, S[G]> | undefined : GroupValues<Rows, G>;
  }
>;

type SwitchedOn<Fields, Keys> = Keys extends readonly string[] ? Flatten<{ [K in keyof Fields]: K extends Keys[number] ? NonNullable<Fields[K]> : Fields[K] }> : Fields;

/** One group's fields, whether or not the group is on. */
export type GroupValues<Rows extends readonly Setting[], G extends string> = {
  -readonly [R in Rows[number] as G extends GroupOf<R> ? R["key"] : never]: ValueOf<R>;
};

/** Every group's fields, read even while the group is off (for checks across its rows). */
export type GroupsOf<Rows extends readonly Setting[]> = { [G in GroupOf<Rows[number]>]: GroupValues<Rows, G> };

type Env = Readonly<Record<string, string | undefined>>;

/** Names a setting in errors: its flag when the value came from one, else its variable. */
export type Labeller = (env: string) => string;

/** A row's Config path, for messages and tests: `key` or `group.key`. */
export function pathOf(row: Setting): string {
  return row.group === undefined ? row.key : `${row.group}.${row.key}`;
}

/**
 * Reads every row from `env`, each overridden by its flag in `flags` (keyed by
 * variable; undefined: not given). Every given value is checked, whether or
 * not its group is on. Returns the values, every group's fields (on or off)
 * and the labeller, for checks that span settings.
 */
export function readSettings<Rows extends readonly Setting[], S extends GroupSwitches>(
  rows: Rows,
  switches: S,
  env: Env,
  flags: Env,
): { values: ValuesOf<Rows, S>; groups: GroupsOf<Rows>; label: Labeller } {
  const flagOf = new Map(rows.map((row) => [row.env, `--${row.flag}`]));
  const label: Labeller = (name) => (flags[name] !== undefined ? (flagOf.get(name) ?? name) : name);
  const values: Record<string, unknown> = {};
  const groups: Record<string, Record<string, unknown>> = {};
  for (const row of rows) {
    const raw = flags[row.env] ?? env[row.env];
    const fallback = Array.isArray(row.kind.fallback) ? [...row.kind.fallback] : row.kind.fallback; // a copy: Config is the caller's
    const value = raw === undefined ? fallback : row.kind.parse(raw, label(row.env));
    if (row.group === undefined) values[row.key] = value;
    else (groups[row.group] ??= {})[row.key] = value;
  }
  for (const [group, fields] of Object.entries(groups)) {
    const given = (value: unknown) => value !== undefined && !(Array.isArray(value) && value.length === 0);
    values[group] = (switches[group] ?? []).every((key) => given(fields[key])) ? fields : undefined;
  }
  return { values: values as ValuesOf<Rows, S>, groups: groups as GroupsOf<Rows>, label };
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

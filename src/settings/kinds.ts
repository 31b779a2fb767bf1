// The kinds of value a setting can hold: how its text is parsed and checked,
// and how its default and range are written for `--help` and the README. A
// bad value throws a ConfigError that names the flag or variable it came from.

/** A setting's value was bad; the message names the flag or variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface SettingKind<T> {
  /** The Config value when the setting is not given. */
  readonly fallback: T;
  /** The default as an operator writes it (in the variable's unit), or "unset". */
  readonly defaultText: string;
  /** The values accepted, as an operator writes them. */
  readonly rangeText: string;
  /** Parses the given text; `label` is the flag or variable, for the error. */
  parse(raw: string, label: string): T;
}

interface Bounds {
  min: number;
  max: number;
}

function parseNumber(raw: string, label: string, { min, max }: Bounds): number | undefined {
  if (raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${label} must be a number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/** A number from `min` to `max`; blank means the default. */
export function decimal(fallback: number, bounds: Bounds): SettingKind<number> {
  return {
    fallback,
    defaultText: String(fallback),
    rangeText: `${bounds.min} to ${bounds.max}`,
    parse: (raw, label) => parseNumber(raw, label, bounds) ?? fallback,
  };
}

/** A whole number from `min` to `max`; blank means the default. */
export function integer(fallback: number, bounds: Bounds): SettingKind<number> {
  return {
    fallback,
    defaultText: String(fallback),
    rangeText: `whole, ${bounds.min} to ${bounds.max}`,
    parse: (raw, label) => {
      const value = parseNumber(raw, label, bounds) ?? fallback;
      if (!Number.isInteger(value)) throw new ConfigError(`${label} must be a whole number (got ${JSON.stringify(raw)})`);
      return value;
    },
  };
}

/**
 * Seconds as the operator writes them, milliseconds in Config: a default and
 * bounds in ms (the constants the code already uses) are shown in seconds.
 */
export function secondsAsMs(fallbackMs: number, boundsMs: Bounds): SettingKind<number> {
  const bounds = { min: boundsMs.min / 1000, max: boundsMs.max / 1000 };
  return {
    fallback: fallbackMs,
    defaultText: String(fallbackMs / 1000),
    rangeText: `${bounds.min} to ${bounds.max}`,
    parse: (raw, label) => {
      const seconds = parseNumber(raw, label, bounds);
      return seconds === undefined ? fallbackMs : seconds * 1000;
    },
  };
}

/** true/false (or 1/0), in any case; blank means the default. */
export function boolean(fallback: boolean): SettingKind<boolean> {
  return {
    fallback,
    defaultText: String(fallback),
    rangeText: "true or false",
    parse: (raw, label) => {
      const word = raw.trim().toLowerCase();
      if (word === "") return fallback;
      if (word === "true" || word === "1") return true;
      if (word === "false" || word === "0") return false;
      throw new ConfigError(`${label} must be true or false (got ${JSON.stringify(raw)})`);
    },
  };
}

/** One of a fixed list of words, in any case; the value is the word as the list writes it. Blank means the default. */
export function oneOf<const W extends string>(words: readonly W[], fallback: NoInfer<W>): SettingKind<W> {
  return {
    fallback,
    defaultText: fallback,
    rangeText: words.join(", "),
    parse: (raw, label) => {
      if (raw.trim() === "") return fallback;
      const word = words.find((w) => w.toLowerCase() === raw.trim().toLowerCase());
      if (word === undefined) throw new ConfigError(`${label} must be one of ${words.join(", ")} (got ${JSON.stringify(raw)})`);
      return word;
    },
  };
}

/** Text that must not be blank. */
export function text(fallback: string, rangeText: string): SettingKind<string> {
  return {
    fallback,
    defaultText: fallback,
    rangeText,
    parse: (raw, label) => {
      if (raw.trim() === "") throw new ConfigError(`${label} must not be empty`);
      return raw;
    },
  };
}

/** Text matching `pattern` (trimmed); blank means the default. `rule` says what the pattern allows. */
export function matching(fallback: string, pattern: RegExp, rule: string): SettingKind<string> {
  return {
    fallback,
    defaultText: fallback,
    rangeText: rule,
    parse: (raw, label) => {
      const value = raw.trim();
      if (value === "") return fallback;
      if (!pattern.test(value)) throw new ConfigError(`${label} must be ${rule} (got ${JSON.stringify(value)})`);
      return value;
    },
  };
}

/** Text that may be absent; exactly empty means absent (a secret is kept as given). */
export function optionalText(rangeText: string): SettingKind<string | undefined> {
  return { fallback: undefined, defaultText: "unset", rangeText, parse: (raw) => (raw === "" ? undefined : raw) };
}

/** A file path, URL or name that may be absent: trimmed, and blank means absent. */
export function optionalTrimmed(rangeText: string): SettingKind<string | undefined> {
  return { fallback: undefined, defaultText: "unset", rangeText, parse: (raw) => raw.trim() || undefined };
}

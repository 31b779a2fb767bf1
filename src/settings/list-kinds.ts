// Comma-separated settings: each entry is trimmed, empty entries are dropped,
// and a bad entry is named in the error together with its flag or variable.
import { ConfigError, type SettingKind } from "./kinds";

function entries(raw: string): string[] {
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Checks one entry; returns the value kept or throws a ConfigError naming `label`. */
export type EntryParser<T> = (entry: string, label: string) => T;

/**
 * A list with a default list: unset means the default, while a given value
 * (even an empty one) replaces it, so an operator can clear a default list.
 */
export function list<T>(fallback: readonly T[], rangeText: string, parseEntry: EntryParser<T>): SettingKind<T[]> {
  return {
    fallback: [...fallback],
    defaultText: fallback.length === 0 ? "unset" : fallback.join(","),
    rangeText,
    parse: (raw, label) => entries(raw).map((entry) => parseEntry(entry, label)),
  };
}

/** A list that is absent (undefined) when unset or blank. */
export function optionalList<T>(rangeText: string, parseEntry: EntryParser<T>): SettingKind<T[] | undefined> {
  return {
    fallback: undefined,
    defaultText: "unset",
    rangeText,
    parse: (raw, label) => {
      const given = entries(raw);
      return given.length === 0 ? undefined : given.map((entry) => parseEntry(entry, label));
    },
  };
}

/** A list of words from `words`, in any case (written upper-case); blank means the default list. */
export function wordList<const W extends string>(words: readonly W[], fallback: readonly NoInfer<W>[]): SettingKind<W[]> {
  return {
    fallback: [...fallback],
    defaultText: fallback.join(","),
    rangeText: `comma-separated, of ${words.join(", ")}`,
    parse: (raw, label) => {
      const given = entries(raw).map((entry) => {
        const word = words.find((w) => w === entry.toUpperCase());
        if (word === undefined) throw new ConfigError(`${label} entry ${JSON.stringify(entry.toUpperCase())} is not one of ${words.join(", ")}`);
        return word;
      });
      return given.length === 0 ? [...fallback] : given;
    },
  };
}

/** An http(s) URL entry. */
export const httpUrl: EntryParser<URL> = (entry, label) => {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new ConfigError(`${label} entry ${JSON.stringify(entry)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(`${label} entry ${JSON.stringify(entry)} must be http or https`);
  return url;
};

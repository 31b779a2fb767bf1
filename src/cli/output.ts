// Terminal output of the client commands: colour (node:util styleText, only on
// a TTY and never with --json or NO_COLOR), aligned tables, and one-line errors.
import { styleText } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeName } from "../transport/code-names";

/**
 * node:util styleText. Since Node 20.20 it drops colour by itself unless
 * process.stdout is a TTY; we decide per stream ourselves (and honour --json),
 * so its own check is turned off (an option @types/node 20 does not declare yet).
 */
const paintText = styleText as (format: Style, text: string, options: { validateStream: boolean }) => string;

export type Style = "red" | "green" | "yellow" | "blue" | "cyan" | "gray" | "bold" | "dim";

export interface Output {
  readonly colour: boolean;
  paint(text: string, ...styles: Style[]): string;
  line(text: string): void;
}

export function createOutput(stream: NodeJS.WriteStream, json: boolean, env: NodeJS.ProcessEnv): Output {
  const colour = stream.isTTY === true && !json && env.NO_COLOR === undefined && env.TERM !== "dumb";
  return {
    colour,
    paint: (text, ...styles) => (colour ? styles.reduce((out, style) => paintText(style, out, { validateStream: false }), text) : text),
    line: (text) => void stream.write(`${text}\n`),
  };
}

/**
 * Control characters (C0, DEL, C1) and bidirectional overrides shown as escapes:
 * a registrant's host or metadata must not drive the reader's terminal
 * (ESC[2J clears it) or reorder what it shows.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text from the server, safe to print: every unsafe character as \xNN or \uNNNN. */
export function safeText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** JSON.stringify escapes C0 characters; this also escapes the rest of UNSAFE, keeping the JSON valid. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Rows as columns padded to their widest cell (colour codes are not counted). */
export function table(rows: readonly (readonly string[])[]): string[] {
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "").length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - visible(cell))))
      .join("  ")
      .trimEnd(),
  );
}

/** One line that says what went wrong: the gRPC code and the server's message (which names the field). */
export function describeError(error: unknown, addr: string): string {
  if (error instanceof ConnectError) {
    const code = codeName(error.code);
    if (error.code === Code.Unavailable && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ETIMEDOUT|ECONNRESET/.test(error.rawMessage)) {
      return `cannot reach the registry at ${safeText(addr)} (${safeText(error.rawMessage)})`;
    }
    return `${code}: ${safeText(error.rawMessage)}`;
  }
  return safeText(error instanceof Error ? error.message : String(error));
}

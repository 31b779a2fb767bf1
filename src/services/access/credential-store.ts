// Holds the tokens file's entries: read at start (a bad file stops the server)
// and again on reload (SIGHUP), where a bad file keeps the old entries and the
// log says why. Tokens never reach the log: only names and counts do.
import type { Logger } from "pino";
import { readTokensFile, type Credential } from "./tokens-file";

export interface CredentialStore {
  readonly current: () => readonly Credential[];
  /** Re-reads the file; false (old entries kept, reason logged) when it is bad. */
  reload(): boolean;
}

/** Throws at start when the file is missing or invalid: a server must not run with credentials it did not mean. */
export function createCredentialStore(path: string, logger: Logger): CredentialStore {
  let entries: readonly Credential[] = readTokensFile(path);
  logger.info({ path, credentials: entries.map((e) => e.name) }, "tokens file loaded");
  return {
    current: () => entries,
    reload() {
      try {
        entries = readTokensFile(path);
      } catch (error) {
        logger.error({ path, reason: (error as Error).message }, "tokens file not reloaded; keeping the previous tokens");
        return false;
      }
      logger.info({ path, credentials: entries.map((e) => e.name) }, "tokens file reloaded");
      return true;
    },
  };
}

// Time as the core sees it: milliseconds since the epoch, supplied from outside
// so that tests can move time by hand and never sleep through a TTL.

/** A source of the current time in milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

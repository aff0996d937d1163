/**
 * The one timestamp form of signed envelopes and key windows: RFC 3339 in UTC with
 * exactly three fraction digits, `2026-01-01T00:00:00.000Z`, the form of log records'
 * `ts`. One spelling per instant, so the signed bytes of a timestamp are fixed.
 * @module
 */

// #region timestamp
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Reads a timestamp in exactly the form {@link formatTimestamp} writes, or returns
 * undefined: other offsets, missing or extra fraction digits and impossible dates
 * (`2026-02-30`) are refused, since `Date.parse` would quietly accept or roll them.
 */
export function parseTimestamp(text: string): number | undefined {
  if (!TIMESTAMP.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && formatTimestamp(ms) === text ? ms : undefined;
}
// #endregion timestamp

/**
 * Record filters for `log search`: pure predicates, so the search rules can be
 * tested without a file.
 * @module
 */
import { LOG_LEVELS, type LogLevel, type LogRecord } from './record.ts';

/** What a search asks for; every present field must match. */
export interface RecordFilter {
  /** Text that must occur in the message. */
  readonly text?: string;
  /** Compare `text` without regard to case. */
  readonly ignoreCase?: boolean;
  /** The lowest severity shown: `warn` shows `warn` and `error`. */
  readonly minLevel?: LogLevel;
  /** The request id, exactly. */
  readonly requestId?: string;
  /** Records at or after this ISO 8601 UTC time. */
  readonly since?: string;
  /** Records strictly before this ISO 8601 UTC time. */
  readonly until?: string;
}

// #region match-record
/** True when the record satisfies every condition of the filter. */
export function matchRecord(record: LogRecord, filter: RecordFilter): boolean {
  if (filter.minLevel !== undefined && LOG_LEVELS.indexOf(record.level) < LOG_LEVELS.indexOf(filter.minLevel)) return false;
  if (filter.requestId !== undefined && record.request_id !== filter.requestId) return false;
  // Timestamps share one fixed-width UTC format, so string order is time order.
  if (filter.since !== undefined && record.ts < filter.since) return false;
  if (filter.until !== undefined && record.ts >= filter.until) return false;
  if (filter.text === undefined) return true;
  return filter.ignoreCase === true
    ? record.msg.toLowerCase().includes(filter.text.toLowerCase())
    : record.msg.includes(filter.text);
}
// #endregion match-record

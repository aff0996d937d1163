/**
 * A small structured logger over week 1's record format: every call becomes one
 * {@link LogRecord} (`ts`, `id`, `level`, `msg`, `request_id`, flat fields) handed
 * to a sink. Sinks decide where records go: a JSON-lines stream, a {@link LogWriter}
 * file, memory in tests. Servers and clients from here on log through it, with the
 * fields `docs/architecture.md` lists for logs: `node_id`, `request_id`, `latency_ms`,
 * `result`, `error_code`.
 * @module
 */
import type { Clock, IdSource } from '../../lib/clock.ts';
import { LOG_LEVELS, encodeRecord, recordToJson, type FieldValue, type LogLevel, type LogRecord } from '../../lib/logger.ts';

/** Receives each record; it must not throw for ordinary I/O trouble (the logger counts what it drops). */
export type LogSink = (record: LogRecord) => void;

/** Extra fields of a record; `undefined` values are left out. */
export type LogFields = Readonly<Record<string, FieldValue | undefined>>;

/** What one log call may add besides its message. */
export interface LogOptions {
  /** The request the record belongs to. */
  readonly requestId?: string;
  /** Fields for this record only, added to (and overriding) the logger's own. */
  readonly fields?: LogFields;
}

/** A structured logger. Logging never throws: a record the sink refuses is counted and dropped. */
export interface Logger {
  /** Logs at `level` if it is at or above the logger's minimum; returns the record, or undefined if filtered or dropped. */
  log(level: LogLevel, msg: string, options?: LogOptions): LogRecord | undefined;
  /** Logs at debug level. */
  debug(msg: string, options?: LogOptions): LogRecord | undefined;
  /** Logs at info level. */
  info(msg: string, options?: LogOptions): LogRecord | undefined;
  /** Logs at warn level. */
  warn(msg: string, options?: LogOptions): LogRecord | undefined;
  /** Logs at error level. */
  error(msg: string, options?: LogOptions): LogRecord | undefined;
  /** A logger that adds `fields` to every record and shares this one's sink and counters. */
  child(fields: LogFields): Logger;
  /** How many records the sink refused so far. */
  readonly dropped: number;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Stamps `ts`. */
  readonly clock: Clock;
  /** Gives each record its `id`. */
  readonly ids: IdSource;
  /** Where records go. */
  readonly sink: LogSink;
  /** Fields on every record, e.g. `{ node_id: 'n1' }`. */
  readonly fields?: LogFields;
  /** Records below this level are skipped. Default `info`. */
  readonly minLevel?: LogLevel;
}

// #region create-logger
/**
 * Creates a structured logger.
 * @param options - clock, id source, sink, base fields and minimum level
 * @returns a logger whose records are week 1 {@link LogRecord}s
 */
export function createLogger(options: LoggerOptions): Logger {
  const shared = { dropped: 0 };
  return new StructuredLogger(options, compact(options.fields), shared);
}

class StructuredLogger implements Logger {
  readonly #options: LoggerOptions;
  readonly #fields: Record<string, FieldValue>;
  readonly #shared: { dropped: number };
  readonly #minRank: number;

  constructor(options: LoggerOptions, fields: Record<string, FieldValue>, shared: { dropped: number }) {
    this.#options = options;
    this.#fields = fields;
    this.#shared = shared;
    this.#minRank = LOG_LEVELS.indexOf(options.minLevel ?? 'info');
  }

  get dropped(): number {
    return this.#shared.dropped;
  }

  log(level: LogLevel, msg: string, options: LogOptions = {}): LogRecord | undefined {
    if (LOG_LEVELS.indexOf(level) < this.#minRank) return undefined;
    const fields = { ...this.#fields, ...compact(options.fields) };
    const record: LogRecord = {
      ts: new Date(this.#options.clock.now()).toISOString(),
      id: this.#options.ids.next(),
      level,
      msg,
      ...(options.requestId === undefined ? {} : { request_id: options.requestId }),
      ...(Object.keys(fields).length === 0 ? {} : { fields }),
    };
    try {
      this.#options.sink(record);
      return record;
    } catch {
      this.#shared.dropped += 1; // a log line must never take the service down
      return undefined;
    }
  }

  debug(msg: string, options?: LogOptions) { return this.log('debug', msg, options); }
  info(msg: string, options?: LogOptions) { return this.log('info', msg, options); }
  warn(msg: string, options?: LogOptions) { return this.log('warn', msg, options); }
  error(msg: string, options?: LogOptions) { return this.log('error', msg, options); }

  child(fields: LogFields): Logger {
    return new StructuredLogger(this.#options, { ...this.#fields, ...compact(fields) }, this.#shared);
  }
}
// #endregion create-logger

/** Drops `undefined` values, so optional fields can be passed without branching. */
function compact(fields: LogFields | undefined): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(fields ?? {})) if (value !== undefined) out[name] = value;
  return out;
}

/**
 * A sink that encodes each record as one JSON line (week 1's {@link encodeRecord}) and
 * hands the bytes to `write`, e.g. a stream's write.
 * @param write - receives one whole line per record
 */
export function lineSink(write: (line: Uint8Array) => void): LogSink {
  return (record) => write(encodeRecord(record));
}

/**
 * A sink that renders each record as one JSON line of text and hands it to `write`,
 * e.g. a CLI's stderr.
 * @param write - receives one whole line, newline included, per record
 */
export function textSink(write: (text: string) => void): LogSink {
  return (record) => write(`${recordToJson(record)}\n`);
}

/** A sink that keeps records in memory, for tests. */
export interface MemorySink {
  /** The sink to give the logger. */
  readonly sink: LogSink;
  /** Every record received, in order. */
  readonly records: LogRecord[];
}

/** Creates a {@link MemorySink}. */
export function memorySink(): MemorySink {
  const records: LogRecord[] = [];
  return { sink: (record) => void records.push(record), records };
}

/** A sink that discards everything (benchmarks that measure the work, not the logging). */
export const nullSink: LogSink = () => {};

/**
 * A clock with sub-millisecond resolution from the web-standard `performance` timer,
 * anchored to the epoch, so `latency_ms` of a loopback round trip is not just 0.
 */
export const preciseClock: Clock = { now: () => performance.timeOrigin + performance.now() };

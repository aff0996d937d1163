/**
 * The Node file adapter of the record log: atomic appends through an `O_APPEND`
 * descriptor with optional fsync, and a bounded-memory reader.
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CivicError, errorFactory } from './errors.ts';
import { LOG_ERRORS } from './catalog.ts';
import { checkPathSyntax, fsError } from './fs_errors.ts';
import { LineSplitter } from './line_splitter.ts';
import { DEFAULT_MAX_RECORD_BYTES, encodeRecord, parseRecordLine, type LogRecord } from './record.ts';

const fail = errorFactory(LOG_ERRORS);

/** Options of {@link LogWriter.open}. */
export interface LogWriterOptions {
  /** fsync after every record, so an acknowledged record survives a power cut. Default false. */
  readonly sync?: boolean;
  /** The largest encoded record, newline included. Default {@link DEFAULT_MAX_RECORD_BYTES}. */
  readonly maxBytes?: number;
}

/** Where an appended record landed. */
export interface AppendResult {
  /** The bytes written, newline included. */
  readonly bytes: number;
}

/**
 * An open log file that only ever grows at its end. Many writers, in this process
 * or others, may append to one file at once: each record is one `write` on an
 * `O_APPEND` descriptor, so the kernel places it whole at the end of the file.
 */
export class LogWriter {
  readonly #handle: FileHandle;
  readonly #path: string;
  readonly #sync: boolean;
  readonly #maxBytes: number;

  private constructor(handle: FileHandle, path: string, options: LogWriterOptions) {
    this.#handle = handle;
    this.#path = path;
    this.#sync = options.sync ?? false;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  // #region open-log
  /**
   * Opens (creating if needed) a log file for appending. When the file is new and
   * `sync` is on, the directory is fsynced too, so the file's name survives a crash
   * along with its first record.
   * @throws {@link CivicError} `E_PATH_INVALID`, `E_PATH_NOT_FOUND`, `E_PATH_PERMISSION`,
   *   `E_PATH_IS_DIR`, `E_PATH_NOT_DIR`, `E_IO_NO_SPACE` or `E_IO`
   */
  static async open(path: string, options: LogWriterOptions = {}): Promise<LogWriter> {
    checkPathSyntax(path);
    const full = resolve(path);
    const action = `Cannot open log ${path} for appending`;
    let handle: FileHandle;
    let created = true;
    try {
      // 'ax' = O_WRONLY|O_APPEND|O_CREAT|O_EXCL: succeeds only if we made the file.
      handle = await open(full, 'ax', 0o640);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw fsError(error, action);
      created = false;
      try {
        handle = await open(full, 'a');
      } catch (again) {
        throw fsError(again, action);
      }
    }
    if (created && options.sync === true) await syncDirectory(dirname(full), action);
    return new LogWriter(handle, path, options);
  }
  // #endregion open-log

  // #region append
  /**
   * Appends one record. The record is encoded and size-checked before any I/O, then
   * written with a single `write` call; a short write is reported, never retried,
   * because a second write could land after another writer's record.
   * @throws {@link CivicError} `E_RECORD_*` before any I/O; `E_IO_SHORT_WRITE`,
   *   `E_IO_NO_SPACE`, `E_IO` or `E_IO_SYNC` (all indefinite) after it
   */
  async append(record: LogRecord): Promise<AppendResult> {
    const line = encodeRecord(record, this.#maxBytes);
    let written: number;
    try {
      ({ bytesWritten: written } = await this.#handle.write(line, 0, line.length));
    } catch (error) {
      throw fsError(error, `Cannot append to ${this.#path}`);
    }
    if (written !== line.length) {
      throw fail('E_IO_SHORT_WRITE', `Cannot append to ${this.#path}: wrote ${written} of ${line.length} bytes`);
    }
    if (this.#sync) {
      try {
        await this.#handle.sync();
      } catch (error) {
        throw fail('E_IO_SYNC', `Cannot make record durable in ${this.#path}: ${(error as Error).message}`, error);
      }
    }
    return { bytes: written };
  }
  // #endregion append

  /** Closes the file. Appending afterwards throws. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}

// #region append-record
/**
 * Appends one record to the log at `path` and closes it: the one-shot form the CLI
 * uses. The record is encoded and size-checked first, so a refused record never
 * creates or touches the file.
 * @throws {@link CivicError} as {@link LogWriter.open} and {@link LogWriter.append}
 */
export async function appendRecord(path: string, record: LogRecord, options: LogWriterOptions = {}): Promise<AppendResult> {
  encodeRecord(record, options.maxBytes);
  const writer = await LogWriter.open(path, options);
  try {
    return await writer.append(record);
  } finally {
    await writer.close();
  }
}
// #endregion append-record

async function syncDirectory(dir: string, action: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    throw fail('E_IO_SYNC', `${action}: cannot fsync directory ${dir}`, error);
  } finally {
    await handle?.close();
  }
}

/** Options of {@link readLog}. */
export interface ReadLogOptions {
  /** The largest record accepted, newline included. Default {@link DEFAULT_MAX_RECORD_BYTES}. */
  readonly maxBytes?: number;
  /**
   * Called for each bad line (corrupt, too long, torn tail) instead of throwing;
   * reading then goes on. Without it the first bad line ends the read with its error.
   */
  readonly onBadLine?: (error: CivicError) => void;
}

/** The size of each read from the file; one buffer is reused for the whole file. */
const READ_CHUNK_BYTES = 64 * 1024;

// #region read-log
/**
 * Reads a log from the start, yielding records in file order. Memory stays bounded
 * by one read buffer plus one maximum-size line, however large the file.
 * @throws {@link CivicError} `E_PATH_*` when the file cannot be opened,
 *   `E_LOG_CORRUPT` for a line that is not a record, `E_LOG_TORN_TAIL` when the file
 *   ends without a newline (unless `onBadLine` takes them)
 */
export async function* readLog(path: string, options: ReadLogOptions = {}): AsyncGenerator<LogRecord> {
  checkPathSyntax(path);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const action = `Cannot read log ${path}`;
  const bad = (error: CivicError) => {
    if (options.onBadLine === undefined) throw error;
    options.onBadLine(error);
  };
  let handle: FileHandle;
  try {
    handle = await open(resolve(path), 'r');
  } catch (error) {
    throw fsError(error, action);
  }
  try {
    const splitter = new LineSplitter(maxBytes - 1);
    const buffer = new Uint8Array(READ_CHUNK_BYTES);
    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, buffer.length, null));
      } catch (error) {
        throw fsError(error, action);
      }
      if (bytesRead === 0) break;
      for (const line of splitter.push(buffer.subarray(0, bytesRead))) {
        if (line.kind === 'too-long') {
          bad(fail('E_LOG_CORRUPT', `Cannot read record: line ${line.lineNo} is ${line.length} bytes, over max ${maxBytes - 1}`));
          continue;
        }
        let record: LogRecord | undefined;
        try {
          record = parseRecordLine(line.bytes, line.lineNo);
        } catch (error) {
          bad(error as CivicError);
        }
        if (record !== undefined) yield record;
      }
    }
    const tail = splitter.end();
    if (tail.tailBytes > 0) {
      bad(fail('E_LOG_TORN_TAIL', `Cannot read record: line ${tail.lineNo} has ${tail.tailBytes} bytes and no newline`));
    }
  } finally {
    await handle.close();
  }
}
// #endregion read-log

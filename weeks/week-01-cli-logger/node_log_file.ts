/**
 * The Node file adapter of the record log: atomic appends through an `O_APPEND`
 * descriptor with optional fsync, and a bounded-memory reader.
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CivicError, errorFactory, isCivicError } from './errors.ts';
import { LOG_ERRORS } from './catalog.ts';
import { fsError } from './fs_errors.ts';
import { resolveLogPath } from './log_path.ts';
import { concatBytes } from './bytes.ts';
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
  /** How messages name the file (see {@link resolveLogPath}). */
  readonly #path: string;
  readonly #sync: boolean;
  readonly #maxBytes: number;
  /** The file ended without a newline when opened: the first append starts with one. */
  #closeLine: boolean;

  private constructor(handle: FileHandle, label: string, options: LogWriterOptions, closeLine: boolean) {
    this.#handle = handle;
    this.#path = label;
    this.#closeLine = closeLine;
    this.#sync = options.sync ?? false;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  // #region open-log
  /**
   * Opens (creating if needed) a log file for appending, at the path
   * {@link resolveLogPath} makes of `path`. When the file is new and
   * `sync` is on, the directory is fsynced too, so the file's name survives a crash
   * along with its first record. When an existing log does not end in a newline, the
   * first append starts with one (see {@link LogWriter.append}).
   * @throws {@link CivicError} `E_PATH_INVALID`, `E_PATH_NOT_FOUND`, `E_PATH_PERMISSION`,
   *   `E_PATH_IS_DIR`, `E_PATH_NOT_DIR`, `E_IO_NO_SPACE`, `E_IO_SYNC` or `E_IO`
   */
  static async open(path: string, options: LogWriterOptions = {}): Promise<LogWriter> {
    const { absolute: full, label } = resolveLogPath(path, process.cwd());
    const action = `Cannot open log ${label} for appending`;
    let handle: FileHandle;
    let created = true;
    try {
      // 'ax+' = O_RDWR|O_APPEND|O_CREAT|O_EXCL: succeeds only if we made the file.
      handle = await open(full, 'ax+', LOG_FILE_MODE);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw fsError(error, action);
      created = false;
      try {
        handle = await open(full, 'a+', LOG_FILE_MODE);
      } catch (again) {
        throw fsError(again, action);
      }
    }
    let closeLine = false;
    try {
      if (!created) closeLine = !(await endsWithNewline(handle, label));
      if (created && options.sync === true) await syncDirectory(dirname(full), action);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new LogWriter(handle, label, options, closeLine);
  }
  // #endregion open-log

  // #region append
  /**
   * Appends one record. The record is encoded and size-checked before any I/O, then
   * written with a single `write` call; a short write is reported, never retried,
   * because a second write could land after another writer's record.
   *
   * If the file did not end in a newline when it was opened, the first record is
   * written as `\n` + line, still in one `write`. Either the last line was torn (a
   * writer died mid-record): the newline closes it, so our record is not glued to it
   * and lost with it, and readers report the torn line. Or another writer was in the
   * middle of a large write when we looked (the kernel grows the file page by page):
   * its record completes first, and ours follows after an empty line, which readers skip.
   * @throws {@link CivicError} `E_RECORD_*` before any I/O; `E_IO_SHORT_WRITE`,
   *   `E_IO_NO_SPACE`, `E_IO` or `E_IO_SYNC` (all indefinite) after it
   */
  async append(record: LogRecord): Promise<AppendResult> {
    const encoded = encodeRecord(record, this.#maxBytes);
    const line = this.#closeLine ? concatBytes([NEWLINE_BYTES, encoded]) : encoded;
    this.#closeLine = false;
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

/** Permissions of a new log: owner reads and writes, group reads, others nothing. */
const LOG_FILE_MODE = 0o640;
const NEWLINE = 0x0a;

const NEWLINE_BYTES = new Uint8Array([NEWLINE]);

/** True when the file is empty or its last byte is a newline. */
async function endsWithNewline(handle: FileHandle, path: string): Promise<boolean> {
  const last = new Uint8Array(1);
  try {
    const size = (await handle.stat()).size;
    if (size === 0) return true;
    await handle.read(last, 0, 1, size - 1);
  } catch (error) {
    throw fsError(error, `Cannot check the end of log ${path}`);
  }
  return last[0] === NEWLINE;
}

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

/** What {@link repairTornTail} did. */
export interface RepairResult {
  /** How many bytes followed the last newline and were cut off (0: nothing to repair). */
  readonly tornBytes: number;
  /** Where those bytes were kept, when there were any. */
  readonly quarantine?: string;
}

/** The size of each read while scanning or copying; one buffer per call. */
const CHUNK_BYTES = 64 * 1024;

// #region repair-tail
/**
 * Cuts a torn last record off a log so appends can resume, after copying its bytes
 * to `<path>.torn` and fsyncing that copy: nothing is dropped silently. Run it while
 * no writer has the log open; if the log grows during the repair, it stops.
 * @throws {@link CivicError} `E_PATH_*` when the log cannot be opened, `E_IO` when
 *   it changes during the repair or the disk fails
 */
export async function repairTornTail(path: string): Promise<RepairResult> {
  const { absolute, quarantine, label } = resolveLogPath(path, process.cwd());
  const action = `Cannot repair log ${label}`;
  let handle: FileHandle;
  try {
    handle = await open(absolute, 'r+');
  } catch (error) {
    throw fsError(error, action);
  }
  try {
    const size = (await handle.stat()).size;
    const buffer = new Uint8Array(CHUNK_BYTES);
    // 1. Find the end of the last whole line, scanning backwards a chunk at a time.
    let cut = 0;
    for (let end = size; end > 0 && cut === 0;) {
      const start = Math.max(0, end - buffer.length);
      await handle.read(buffer, 0, end - start, start);
      const nl = buffer.subarray(0, end - start).lastIndexOf(NEWLINE);
      if (nl !== -1) cut = start + nl + 1;
      end = start;
    }
    if (cut === size) return { tornBytes: 0 };
    // 2. Keep the torn bytes: append them to the quarantine file and make it durable.
    const keep = await open(quarantine, 'a', LOG_FILE_MODE);
    try {
      for (let at = cut; at < size; at += buffer.length) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - at), at);
        await keep.write(buffer, 0, bytesRead);
      }
      await keep.sync();
    } finally {
      await keep.close();
    }
    // 3. Only now cut them off, unless a writer appended meanwhile.
    if ((await handle.stat()).size !== size) {
      throw fail('E_IO', `${action}: it grew during the repair; stop its writers and run the repair again`);
    }
    await handle.truncate(cut);
    await handle.sync();
    return { tornBytes: size - cut, quarantine };
  } catch (error) {
    throw isCivicError(error) ? error : fsError(error, action);
  } finally {
    await handle.close();
  }
}
// #endregion repair-tail

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
  const { absolute, label } = resolveLogPath(path, process.cwd());
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const action = `Cannot read log ${label}`;
  const bad = (error: CivicError) => {
    if (options.onBadLine === undefined) throw error;
    options.onBadLine(error);
  };
  let handle: FileHandle;
  try {
    handle = await open(absolute, 'r');
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
        // An empty line is the separator an append leaves when it closed a line that
        // another writer was still writing (see LogWriter.append): no record, no damage.
        if (line.bytes.length === 0) continue;
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

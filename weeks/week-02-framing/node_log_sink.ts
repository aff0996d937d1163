/**
 * A log sink that appends records to a file through week 1's {@link LogWriter}: one
 * `write` per record on an `O_APPEND` descriptor, so several processes (a server and
 * its clients) can share one log file without interleaving.
 * @module
 */
import { LogWriter } from '../../lib/logger.ts';
import type { LogSink } from './structured_log.ts';

/** A sink writing to a file, and the means to finish it. */
export interface FileSink {
  /** Give this to `createLogger`. Appends are queued in order; the sink itself never throws. */
  readonly sink: LogSink;
  /**
   * Waits for every queued append, then closes the file.
   * @throws {@link CivicError} the first append's failure (`E_IO`, `E_IO_NO_SPACE`, …), if any
   */
  close(): Promise<void>;
}

/** Options of {@link openFileSink}. */
export interface FileSinkOptions {
  /**
   * The most records waiting for the disk; past it the sink refuses records (the
   * logger counts them as dropped) instead of growing memory without bound. Default 10000.
   */
  readonly maxQueued?: number;
}

// #region file-sink
/**
 * Opens (creating if needed) a log file as a sink. Records are appended one `write`
 * each, in the order logged; while the disk is slower than the logging, up to
 * `maxQueued` of them wait in memory.
 * @param path - the log file
 * @param options - the queue bound
 * @returns the sink
 * @throws {@link CivicError} `E_PATH_*` when the file cannot be opened
 */
export async function openFileSink(path: string, options: FileSinkOptions = {}): Promise<FileSink> {
  const writer = await LogWriter.open(path);
  const maxQueued = options.maxQueued ?? 10_000;
  let queue: Promise<void> = Promise.resolve();
  let queued = 0;
  let failure: unknown;
  return {
    sink(record) {
      if (queued >= maxQueued) throw new RangeError(`log queue full: ${queued} records wait for ${path}`);
      queued += 1;
      // Chained, so records land in the order they were logged.
      queue = queue.then(() => writer.append(record)).then(
        () => void (queued -= 1),
        (error: unknown) => {
          queued -= 1;
          failure ??= error;
        },
      );
    },
    async close() {
      await queue;
      await writer.close();
      if (failure !== undefined) throw failure;
    },
  };
}
// #endregion file-sink

/**
 * The durable nonce cache: week 8's {@link NonceCache} whose every accepted nonce is
 * appended to `nonces.log` in a data directory and synced before `record` returns, so
 * before the verifier says yes and before the request runs. On start the log is read
 * back (a torn final line dropped, anything else damaged refused with
 * `E_REPLAY_STORE_CORRUPT`), the entries still inside the window are kept, and the
 * log is rewritten with only those. It is rewritten again whenever dead lines
 * outnumber the live ones two to one, so the file stays bounded like the cache.
 *
 * The sync is on the main thread, one per accepted request: a synchronous `fsync` is
 * what makes "accepted" and "remembered" the same event. It costs a disk flush per
 * request; a node that needs more throughput would group them, answering a batch of
 * requests after one sync.
 * @module
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CivicError, errorFactory } from '../../lib/errors.ts';
import { SIGN_ERRORS } from './catalog.ts';
import { encodeHorizon, encodeNonceEntry, parseNonceLog, shouldCompact } from './nonce_log.ts';
import { DEFAULT_REPLAY_POLICY, NonceCache, type RecordOutcome, type ReplayPolicy } from './replay.ts';

const fail = errorFactory(SIGN_ERRORS);

/** The log's file name inside the data directory. */
export const NONCE_LOG_FILE = 'nonces.log';

function ioError(action: string, path: string, error: unknown): CivicError {
  const code = (error as { code?: string }).code ?? 'unknown';
  return fail('E_REPLAY_STORE_IO', `Cannot ${action} nonce store ${path}: ${code}`, error);
}

/** A {@link NonceCache} that survives restarts: see the module comment. */
export class DurableNonceCache extends NonceCache {
  readonly #path: string;
  readonly #dir: string;
  #fd: number | undefined;
  #lines = 0;
  #tornBytes = 0;

  private constructor(dir: string, policy: ReplayPolicy) {
    super(policy);
    this.#dir = dir;
    this.#path = join(dir, NONCE_LOG_FILE);
  }

  /**
   * Opens (creating if needed) the store in `dir`, loads its nonces and compacts it.
   * @param now - the verifier's clock now
   * @throws {@link CivicError} `E_REPLAY_STORE_CORRUPT` for a damaged log,
   *   `E_REPLAY_STORE_IO` when it cannot be read or written, `E_REPLAY_CACHE_FULL` when
   *   the live nonces do not fit `policy.maxEntries`
   */
  static open(dir: string, now: number, policy: ReplayPolicy = DEFAULT_REPLAY_POLICY): DurableNonceCache {
    const cache = new DurableNonceCache(dir, policy);
    let text = '';
    try {
      mkdirSync(dir, { recursive: true });
      text = readFileSync(cache.#path, 'latin1');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw ioError('read', cache.#path, error);
    }
    const parsed = parseNonceLog(text, cache.#path);
    cache.#tornBytes = parsed.tornBytes;
    // The horizon first, then each entry at the clock it was accepted at: the cache ends
    // where it stood before the stop, less what has left the window since.
    if (Number.isFinite(parsed.horizon)) cache.evictExpired(parsed.horizon);
    for (const entry of parsed.entries) {
      if (cache.record(entry.keyId, entry.nonce, entry.timestamp, entry.seenAt) === 'full') {
        throw fail('E_REPLAY_CACHE_FULL', `Cannot load nonce store ${cache.#path}: it holds more live nonces than the cache size ${policy.maxEntries}`);
      }
    }
    cache.evictExpired(now);
    cache.#compact();
    return cache;
  }

  /** The log's path. */
  get path(): string {
    return this.#path;
  }

  /** Bytes of a torn final line dropped when the log was loaded. */
  get tornBytes(): number {
    return this.#tornBytes;
  }

  // #region durable-cache-record
  /**
   * Remembers `(keyId, nonce)` like {@link NonceCache.record}, and when it is new,
   * appends it to the log and syncs before returning.
   * @throws {@link CivicError} `E_REPLAY_STORE_IO` when the append or the sync fails;
   *   the nonce stays remembered in memory, so the message is refused, never replayable
   */
  override record(keyId: string, nonce: string, timestamp: number, now: number): RecordOutcome {
    const outcome = super.record(keyId, nonce, timestamp, now);
    if (outcome !== 'recorded' || this.#fd === undefined) return outcome;
    try {
      writeSync(this.#fd, encodeNonceEntry({ timestamp, seenAt: now, keyId, nonce }));
      fsyncSync(this.#fd);
    } catch (error) {
      throw ioError('append to', this.#path, error);
    }
    this.#lines += 1;
    if (shouldCompact(this.#lines, this.size)) {
      this.evictExpired(now);
      this.#compact();
    }
    return outcome;
  }
  // #endregion durable-cache-record

  /** Closes the log. Later records stay in memory only. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Rewrites the log with the live entries only: temp file, sync, rename, sync the directory. */
  #compact(): void {
    const temp = `${this.#path}.tmp`;
    const lines = [encodeHorizon(this.horizon), ...this.liveEntries().map((e) => encodeNonceEntry(e))];
    try {
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeSync(fd, lines.join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = undefined;
      renameSync(temp, this.#path);
      const dirFd = openSync(this.#dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
      this.#fd = openSync(this.#path, 'a', 0o600);
    } catch (error) {
      throw ioError('rewrite', this.#path, error);
    }
    this.#lines = lines.length;
  }
}

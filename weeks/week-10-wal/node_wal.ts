/**
 * The write-ahead log on disk (Node adapter): segment files, the three fsync policies,
 * group commit, recovery with quarantine, and rotation for checkpoints.
 *
 * ```text
 *  DIR/
 *    wal-00000000000000000001.log   records 1 … 41 (name = first LSN, 20 digits)
 *    wal-00000000000000000042.log   records 42 …   (the open segment, appended with pwrite)
 *    quarantine/                    bytes replay refused, kept (fsynced), never applied
 * ```
 *
 * Invariants: LSNs are contiguous across segments; a segment's bytes are a prefix of good
 * records; an append's promise resolves only after its bytes were written (and, under
 * `always` and `group`, fdatasynced); promises resolve in LSN order.
 * @module
 */
import { hash } from 'node:crypto';
import { close, constants, fdatasync, fstat, ftruncate, open, readFile, write } from 'node:fs';
import { mkdir, open as openHandle, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorFactory, type CivicError } from '../../lib/errors.ts';
import { WAL_ERRORS } from './catalog.ts';
import { readU32 } from './_codec.ts';
import { RECORD_HEADER_BYTES, encodeWalRecord, recordsAfter, scanWal, type ScanDamage, type WalEntry, type WalRecord } from './record.ts';

const fail = errorFactory(WAL_ERRORS);

/** `node:crypto`'s one-shot SHA-256 as lowercase hex: the same digest as the pure default, in native code. */
function nodeSha256Hex(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}

/**
 * When an append is acknowledged: after its own write is durable (`always`: O_DSYNC, one
 * record per write), after the one fdatasync of the group it joined (`group`), or after
 * the write alone (`none`: survives a process crash, not a power loss or kernel panic).
 */
export type FsyncPolicy = 'always' | 'group' | 'none';

/** The policies, for CLI choices and tests. */
export const FSYNC_POLICIES: readonly FsyncPolicy[] = ['always', 'group', 'none'];

/** Test and drill hooks; production code passes none. */
export interface WalHooks {
  /**
   * Called in the middle of writing a batch: the first half of its bytes is written and
   * fdatasynced, the second half not yet. The crash drill makes this wait forever and
   * kills the process, leaving a torn record on disk.
   * @param firstLsn - the first LSN of the batch being written
   */
  midRecord?(firstLsn: number): Promise<void>;
}

/** How to open a log. */
export interface WalOptions {
  /** The fsync policy; see {@link FsyncPolicy}. */
  readonly fsync: FsyncPolicy;
  /** The LSN of the first record when the directory holds no segment yet (default 1). */
  readonly firstLsn?: number;
  /** Drill hooks. */
  readonly hooks?: WalHooks;
  /**
   * A monotonic clock in milliseconds (default `performance.now`), used only to time
   * fdatasyncs so that `group` can size its batches to the disk.
   */
  readonly now?: () => number;
}

/** What recovery found and did, reported by {@link Wal.open}. */
export interface WalRecovery {
  /** Every good record, oldest first, across all segments. */
  readonly records: readonly WalRecord[];
  /** The segment file names that were scanned, oldest first. */
  readonly segments: readonly string[];
  /** The damage that stopped replay, or null for a clean log. */
  readonly damage: WalDamage | null;
}

/** A damaged tail found at open: where, what, and where its bytes went. */
export interface WalDamage {
  /**
   * `E_WAL_TORN`: the log ends inside its last record. Recovery cuts nothing else, so it
   * reports only this code: corruption throws `E_WAL_CORRUPT` from {@link Wal.open} instead,
   * and only the operator's {@link repairWal} cuts it. (The type keeps both codes for callers
   * written against the first design.)
   */
  readonly code: 'E_WAL_TORN' | 'E_WAL_CORRUPT';
  /** The segment file the damage starts in. */
  readonly segment: string;
  /** Byte offset in that segment of the first untrusted record. */
  readonly offset: number;
  /** What was wrong. */
  readonly reason: string;
  /** Files under `quarantine/` now holding every refused byte (the tail, then any later segments). */
  readonly quarantined: readonly string[];
  /** Bytes moved out of the live log. */
  readonly bytes: number;
  /** The coded error, for logging and for callers that refuse to start on damage. */
  readonly error: CivicError;
}

/** A log just opened: the log, and what recovery found. */
export interface WalOpened {
  /** The log, open for appending. */
  readonly wal: Wal;
  /** What recovery found and did. */
  readonly recovery: WalRecovery;
}

/** Counters of a log since it was opened. */
export interface WalStats {
  /** Writes issued: one per batch (a group under `group`, one record under `always`). */
  readonly batches: number;
  /**
   * Durability points: O_DSYNC writes under `always`; fdatasyncs under `group`, and under
   * `none` those that forced appends and {@link Wal.sync} asked for.
   */
  readonly syncs: number;
  /**
   * The highest LSN a completed durability point covers: every record at or below it
   * survives a power cut. Under `none`, only forced appends and {@link Wal.sync} move it.
   */
  readonly durableLsn: number;
}

/** One append waiting for its batch. */
interface Pending {
  readonly lsn: number;
  readonly bytes: Uint8Array;
  readonly record: WalRecord;
  /** Whether an fdatasync that begins after its write must return before it resolves. */
  readonly needsSync: boolean;
  readonly resolve: (record: WalRecord) => void;
  readonly reject: (error: unknown) => void;
}

/** How one record is appended. */
export interface AppendOptions {
  /**
   * `false`: under `group`, resolve once the record is written (and every earlier record
   * has resolved), without an fdatasync of its own; the next fdatasync, whoever asks for it,
   * makes it durable. For a record whose loss in a crash is harmless, such as a Raft commit
   * index, which a restarted node learns again. Default true.
   */
  readonly durable?: boolean;
  /**
   * `true`: resolve only after a durability point that began after the record's write,
   * under every policy, `none` included (where it costs one fdatasync that the policy would
   * otherwise skip). For commands whose acknowledgement must never outrun the disk (see
   * `sync_policy.ts`); it overrides `durable: false`. Default false.
   */
  readonly forceSync?: boolean;
}

/** A barrier in the append queue (rotation), run between batches. */
interface Barrier {
  readonly run: () => Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Promise wrappers over the callback API (one thread-pool job each, no FileHandle wrapper)

function openFd(path: string, flags: string | number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, 0o640, (error, fd) => (error ? reject(error) : resolve(fd))));
}
function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
}
function pwriteAll(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      write(fd, bytes, done, bytes.length - done, position + done, (error, written) => {
        if (error) reject(error);
        else if (done + written >= bytes.length) resolve();
        else step(done + written);
      });
    };
    step(0);
  });
}
function fdatasyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
function ftruncateFd(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => ftruncate(fd, length, (error) => (error ? reject(error) : resolve())));
}
function sizeOf(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats.size))));
}
function readAll(path: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => readFile(path, (error, data) => (error ? reject(error) : resolve(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)))));
}

/**
 * fsyncs a directory, so a file created, renamed or removed in it stays so after power loss.
 * @param dir - the directory
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await openHandle(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a file and fdatasyncs it before returning. */
async function writeDurable(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await openHandle(path, 'w', 0o640);
  try {
    await handle.writeFile(bytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * The open flags of a segment appended to: `create` = new file (`wx`), else existing
 * (`r+`). Under `always` the file is opened O_DSYNC, so every pwrite returns only once its
 * data is durable, as if followed by fdatasync: the kernel syncs inside the one system
 * call, and the record costs one libuv thread-pool round trip instead of two.
 */
function segmentFlags(policy: FsyncPolicy, create: boolean): number {
  const base = create ? constants.O_RDWR | constants.O_CREAT | constants.O_EXCL : constants.O_RDWR;
  return policy === 'always' ? base | constants.O_DSYNC : base;
}

/** `wal-<20-digit first LSN>.log`. */
export function segmentName(firstLsn: number): string {
  return `wal-${String(firstLsn).padStart(20, '0')}.log`;
}

/** The first LSN a segment name stands for, or null for a file that is not a segment. */
export function segmentFirstLsn(name: string): number | null {
  const match = /^wal-(\d{20})\.log$/.exec(name);
  if (match === null) return null;
  const lsn = Number(match[1]);
  return Number.isSafeInteger(lsn) && lsn >= 1 ? lsn : null;
}

/** Lists the segments of `dir`, oldest first. */
async function listSegments(dir: string): Promise<{ name: string; first: number }[]> {
  const names = await readdir(dir);
  const segments: { name: string; first: number }[] = [];
  for (const name of names) {
    const first = segmentFirstLsn(name);
    if (first !== null) segments.push({ name, first });
  }
  return segments.sort((a, b) => a.first - b.first);
}

/** The first and last LSN of the whole records in `segments` (read-only), or null when they hold none. */
async function laterRecords(dir: string, segments: readonly { name: string; first: number }[]): Promise<{ first: number; last: number } | null> {
  let first = 0;
  let last = 0;
  for (const segment of segments) {
    const scan = scanWal(await readAll(join(dir, segment.name)), segment.first);
    if (scan.records.length === 0) continue;
    if (first === 0) first = segment.first;
    last = segment.first + scan.records.length - 1;
  }
  return first === 0 ? null : { first, last };
}

/** The quarantine sub-directory of a log directory. */
export const QUARANTINE_DIR = 'quarantine';

/**
 * Moves everything from byte `at` of segment `i` on out of the live log: first the bytes are
 * copied into `quarantine/` (the tail of this segment, then every later segment whole, each
 * fsynced), and only then is the segment cut back to `at` and the later segments removed.
 * A crash in the middle repeats the same steps with the same file names.
 */
async function quarantineFrom(dir: string, segments: readonly { name: string; first: number }[], i: number, bytes: Uint8Array, at: number): Promise<{ quarantined: string[]; moved: number }> {
  const segment = segments[i] as { name: string; first: number };
  // 1. Keep the refused bytes: the tail of this segment, then every later segment whole.
  const qdir = join(dir, QUARANTINE_DIR);
  await mkdir(qdir, { recursive: true });
  const tailName = `${segment.name}.at-${at}.bad`;
  await writeDurable(join(qdir, tailName), bytes.subarray(at));
  const quarantined = [join(QUARANTINE_DIR, tailName)];
  let moved = bytes.length - at;
  for (const later of segments.slice(i + 1)) {
    const laterBytes = await readAll(join(dir, later.name));
    await writeDurable(join(qdir, `${later.name}.bad`), laterBytes);
    quarantined.push(join(QUARANTINE_DIR, `${later.name}.bad`));
    moved += laterBytes.length;
  }
  await fsyncDir(qdir);
  // 2. Only now cut the live log back to its last good record.
  const fd = await openFd(join(dir, segment.name), 'r+');
  try {
    await ftruncateFd(fd, at);
    await fdatasyncFd(fd);
  } finally {
    await closeFd(fd);
  }
  for (const later of segments.slice(i + 1)) await unlink(join(dir, later.name));
  await fsyncDir(dir);
  return { quarantined, moved };
}

// #region wal-recover
/**
 * Recovery: scan every segment in LSN order and stop at the first untrusted record. A torn
 * tail (the bytes after the last completed write, with nothing verifiable after them) is
 * copied into `quarantine/` (fsynced) and only then cut from the live log. Anything else is
 * corruption of acknowledged records: nothing is moved, and open fails with E_WAL_CORRUPT
 * naming the offset and the LSNs at stake, for an operator to restore or `wal repair`.
 */
async function recover(dir: string): Promise<{ recovery: WalRecovery; tail: { name: string; first: number; end: number } | null }> {
  const segments = await listSegments(dir);
  const records: WalRecord[] = [];
  let expected = segments[0]?.first ?? 1;
  for (const [i, segment] of segments.entries()) {
    const bytes = await readAll(join(dir, segment.name));
    let damage: ScanDamage | null;
    let end: number;
    if (segment.first !== expected) {
      damage = { kind: 'corrupt', at: 0, reason: `segment starts at lsn ${segment.first} where ${expected} was expected` };
      end = 0;
    } else {
      const scan = scanWal(bytes, segment.first);
      records.push(...scan.records);
      expected = segment.first + scan.records.length;
      damage = scan.damage;
      end = scan.end;
    }
    if (damage === null) continue;
    // A torn tail can only be the bytes after the last completed write: whole records in a
    // later segment prove this damage is in the middle of the log.
    const later = await laterRecords(dir, segments.slice(i + 1));
    if (damage.kind === 'torn' && later !== null) damage = { kind: 'corrupt', at: damage.at, reason: `${damage.reason}, but later segments hold lsn ${later.first}..${later.last}` };
    if (damage.kind === 'corrupt') {
      // Corruption is never cut at open: the node refuses to start and an operator decides.
      const inSegment = recordsAfter(bytes, damage.at);
      const last = Math.max(later?.last ?? 0, inSegment?.last ?? 0);
      const range = last >= expected ? `lsn ${expected}..${last}` : `lsn ${expected} onward`;
      throw fail('E_WAL_CORRUPT', `Cannot replay ${join(dir, segment.name)}: the record at offset ${damage.at} (lsn ${expected}) is corrupt (${damage.reason}); ${range} cannot be replayed. Nothing was moved or cut. Restore the log from a peer or a snapshot, or cut it with \`civictrust wal repair DIR --truncate-at ${expected}\` (quarantines lsn ${expected} onward)`);
    }
    const { quarantined, moved } = await quarantineFrom(dir, segments, i, bytes, damage.at);
    const code = 'E_WAL_TORN';
    const error = fail(code, `Cannot replay past ${segment.name} offset ${damage.at}: ${damage.reason}; ${moved} bytes quarantined to ${quarantined.join(', ')}`);
    return {
      recovery: {
        records, segments: segments.slice(0, i + 1).map((s) => s.name),
        damage: { code, segment: segment.name, offset: damage.at, reason: damage.reason, quarantined, bytes: moved, error },
      },
      tail: { name: segment.name, first: segment.first, end },
    };
  }
  const last = segments.at(-1);
  const tail = last === undefined ? null : { name: last.name, first: last.first, end: -1 };
  return { recovery: { records, segments: segments.map((s) => s.name), damage: null }, tail };
}
// #endregion wal-recover

/**
 * A write-ahead log open for appending. Open with {@link Wal.open}, which recovers first.
 *
 * @example
 * const { wal, recovery } = await Wal.open(dir, { fsync: 'group' });
 * for (const record of recovery.records) replayInto(state, record);
 * const record = await wal.append({ term: 1, op: 'put', key: 'a', request_id: 'r1', value });
 */
export class Wal {
  readonly #dir: string;
  readonly #policy: FsyncPolicy;
  readonly #hooks: WalHooks;
  #fd: number;
  #segment: string;
  #segmentFirst: number;
  #size: number;
  #nextLsn: number;
  /** Appends and barriers not yet written, in LSN order. */
  #queue: (Pending | Barrier)[] = [];
  /** `group`: appends written, waiting for an fdatasync that starts after their write. */
  #unsynced: Pending[] = [];
  #writing = false;
  /** When the first append of the batch still gathering (writer not started) was made, or -1. */
  #gatheringSince = -1;
  /**
   * `group`: the last few fdatasync durations in ms, as the event loop saw them, and their
   * median (0 until the first). A loop busy with a long turn hears of a finished fdatasync
   * only when the turn ends, so some durations read long; a shared disk makes others
   * genuinely long or short. The median ignores both kinds of outlier.
   */
  readonly #recentSyncs = new Float64Array(8);
  #syncsTimed = 0;
  #syncMs = 0;
  readonly #now: () => number;
  #syncing = false;
  #synced: (() => void)[] = [];
  #failed: CivicError | null = null;
  #closed = false;
  #batches = 0;
  #syncs = 0;
  /** The last LSN written, and the last one a completed durability point covers. */
  #writtenLsn = 0;
  #durableLsn = 0;
  #idle: (() => void)[] = [];

  private constructor(dir: string, options: WalOptions, fd: number, segment: string, segmentFirst: number, size: number, nextLsn: number) {
    this.#dir = dir;
    this.#policy = options.fsync;
    this.#hooks = options.hooks ?? {};
    this.#now = options.now ?? (() => performance.now());
    this.#fd = fd;
    this.#segment = segment;
    this.#segmentFirst = segmentFirst;
    this.#size = size;
    this.#nextLsn = nextLsn;
    this.#writtenLsn = nextLsn - 1; // what recovery found is on disk, and was cut durably
    this.#durableLsn = nextLsn - 1;
  }

  /**
   * Opens (creating if needed) the log in `dir`: recovers first, quarantining a torn tail,
   * then opens the newest segment for appending after its last good record.
   * @param dir - the log directory
   * @param options - fsync policy, first LSN for an empty directory, hooks
   * @returns the log and what recovery found
   * @throws CivicError `E_WAL_CORRUPT` when a record before the torn tail (if any) is damaged: nothing is moved
   */
  static async open(dir: string, options: WalOptions): Promise<WalOpened> {
    if (!FSYNC_POLICIES.includes(options.fsync)) throw new RangeError(`fsync policy must be always|group|none, got ${String(options.fsync)}`);
    await mkdir(dir, { recursive: true });
    const { recovery, tail } = await recover(dir);
    const nextLsn = tail === null ? (options.firstLsn ?? 1) : tail.first + recovery.records.filter((r) => r.lsn >= tail.first).length;
    let name: string;
    let first: number;
    if (tail === null) {
      first = options.firstLsn ?? 1;
      name = segmentName(first);
    } else {
      name = tail.name;
      first = tail.first;
    }
    const fd = await openFd(join(dir, name), segmentFlags(options.fsync, tail === null));
    if (tail === null) await fsyncDir(dir);
    const size = await sizeOf(fd);
    const wal = new Wal(dir, options, fd, name, first, size, nextLsn);
    return { wal, recovery };
  }

  /** The directory of the log. */
  get dir(): string {
    return this.#dir;
  }

  /** The fsync policy. */
  get policy(): FsyncPolicy {
    return this.#policy;
  }

  /** The LSN the next append will get. */
  get nextLsn(): number {
    return this.#nextLsn;
  }

  /** The segment appends go to now. */
  get segment(): string {
    return this.#segment;
  }

  /** Counters since open (group commit shows batches < appends), and how far the log is durable. */
  get stats(): WalStats {
    return { batches: this.#batches, syncs: this.#syncs, durableLsn: this.#durableLsn };
  }

  // #region wal-append
  /**
   * Appends one command. The LSN is assigned now, in call order; the promise resolves
   * only when the record is durable under the policy: after its own O_DSYNC write (`always`),
   * after an fdatasync that began once its bytes were written (`group`), or after the
   * write alone (`none`). Records resolve in LSN order.
   * @param entry - the command
   * @param options - `durable: false` to skip the record's own fdatasync, `forceSync: true`
   *   to have one under every policy ({@link AppendOptions})
   * @returns the record as logged (with its LSN, value hash and checksum)
   * @throws CivicError `E_WAL_IO` (indefinite) when the write or fdatasync failed;
   *   `E_WAL_CLOSED` when the log is closed or failed before this call
   */
  append(entry: WalEntry, options: AppendOptions = {}): Promise<WalRecord> {
    if (this.#closed || this.#failed !== null) {
      return Promise.reject(fail('E_WAL_CLOSED', `Cannot append to ${this.#dir}: the log is ${this.#closed ? 'closed' : 'failed'}`));
    }
    const lsn = this.#nextLsn++;
    const { bytes, record } = encodeWalRecord(lsn, entry, nodeSha256Hex);
    return new Promise<WalRecord>((resolve, reject) => {
      const needsSync = options.forceSync === true || (this.#policy === 'group' && options.durable !== false);
    this.#queue.push({ lsn, bytes, record, needsSync, resolve, reject });
      this.#kick();
    });
  }

  /**
   * Starts the writer one microtask from now unless it runs already: every append made in
   * the same synchronous turn (a Raft Ready's entries and hard state, a loop of puts) joins
   * the first one in one write and one fdatasync, at the cost of no timer.
   *
   * Under `group`, a turn that has gathered appends for as long as an fdatasync takes
   * starts the writer at once instead: that batch is written while the rest of the turn
   * runs, and the rest becomes the next batch. Without this, 64 writers that are woken
   * together stay in one batch forever, and the CPU and the disk take turns being idle;
   * split, each half's CPU work overlaps the other half's fdatasync from the next cycle on.
   */
  #kick(): void {
    if (this.#writing) return;
    if (this.#gatheringSince < 0) {
      this.#gatheringSince = this.#now();
      queueMicrotask(() => this.#startWriter());
    } else if (this.#syncMs > 0 && this.#now() - this.#gatheringSince >= this.#syncMs) {
      this.#startWriter();
    }
  }

  /** Starts the writer unless it started already (early, in {@link Wal.#kick}). */
  #startWriter(): void {
    if (this.#writing) return;
    this.#gatheringSince = -1;
    this.#writing = true;
    void this.#writeLoop();
  }

  /**
   * Stage 1, the writer (started by {@link Wal.append} through `#kick`, which set
   * `#writing`): one pwrite per batch, batches strictly in LSN order. Under
   * `group` and `none` a written batch joins `#unsynced` and the writer goes straight on to
   * the next batch, so the next group is written while the previous fdatasync is still
   * running (under `none` only a forced record starts one; the rest pass straight through).
   */
  async #writeLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0 && this.#failed === null) {
        const head = this.#queue[0]!;
        if (!('lsn' in head)) {
          await this.#settled(); // a barrier sees every earlier record durable
          this.#queue.shift();
          await head.run();
          continue;
        }
        const batch = this.#takeBatch();
        try {
          await this.#writeBatch(batch);
        } catch (error) {
          this.#fail(error, batch);
          return;
        }
        if (this.#failed !== null) {
          for (const p of batch) p.reject(this.#failed); // the sync stage failed meanwhile
        } else if (this.#policy !== 'always') {
          this.#unsynced.push(...batch);
          if (!this.#syncing) void this.#syncLoop();
        } else {
          for (const p of batch) p.resolve(p.record); // the O_DSYNC write was the sync
        }
      }
    } finally {
      this.#writing = false;
      this.#wakeIfIdle();
    }
  }

  /**
   * Stage 2, `group` and `none`: one fdatasync at a time, each covering every batch written
   * before it began. Whatever is written while it runs waits for the next one, so the
   * groups size themselves to the disk: the slower the fdatasync, the more it covers.
   * Records that need no sync (`durable: false`, or not forced under `none`) resolve in
   * their turn and never start one.
   */
  async #syncLoop(): Promise<void> {
    this.#syncing = true;
    try {
      while (this.#unsynced.length > 0 && this.#failed === null) {
        const covered = this.#unsynced.splice(0);
        if (covered.some((p) => p.needsSync)) {
          const through = covered[covered.length - 1]!.lsn;
          const started = this.#now();
          try {
            await fdatasyncFd(this.#fd);
          } catch (error) {
            this.#fail(error, covered);
            return;
          }
          const ms = this.#now() - started;
          this.#recentSyncs[this.#syncsTimed++ % this.#recentSyncs.length] = ms;
          const recent = this.#recentSyncs.slice(0, Math.min(this.#syncsTimed, this.#recentSyncs.length)).sort();
          this.#syncMs = recent[recent.length >> 1]!;
          this.#syncs++;
          this.#durableLsn = Math.max(this.#durableLsn, through);
        } // else: only records that asked for no fdatasync of their own, all written
        // Resolve in LSN order, synchronously, so callers continue in LSN order.
        for (const p of covered) p.resolve(p.record);
      }
    } finally {
      this.#syncing = false;
      this.#wakeIfIdle();
    }
  }

  /** `always`: one record per batch; `group` and `none`: every append queued up to the next barrier. */
  #takeBatch(): Pending[] {
    const batch: Pending[] = [];
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (!('lsn' in next)) break;
      batch.push(next);
      this.#queue.shift();
      if (this.#policy === 'always') break;
    }
    return batch;
  }

  /** One pwrite at the segment's end; under `always` the O_DSYNC flag makes it the durability point too. */
  async #writeBatch(batch: readonly Pending[]): Promise<void> {
    let bytes: Uint8Array;
    if (batch.length === 1) {
      bytes = batch[0]!.bytes;
    } else {
      bytes = new Uint8Array(batch.reduce((n, p) => n + p.bytes.length, 0));
      let at = 0;
      for (const p of batch) {
        bytes.set(p.bytes, at);
        at += p.bytes.length;
      }
    }
    const position = this.#size;
    if (this.#hooks.midRecord !== undefined) {
      const half = Math.max(1, Math.floor(bytes.length / 2));
      await pwriteAll(this.#fd, bytes.subarray(0, half), position);
      await fdatasyncFd(this.#fd);
      await this.#hooks.midRecord(batch[0]!.lsn);
      await pwriteAll(this.#fd, bytes.subarray(half), position + half);
    } else {
      await pwriteAll(this.#fd, bytes, position);
    }
    this.#size = position + bytes.length;
    this.#batches++;
    this.#writtenLsn = batch[batch.length - 1]!.lsn;
    if (this.#policy === 'always') { // the O_DSYNC pwrite above was the sync
      this.#syncs++;
      this.#durableLsn = this.#writtenLsn;
    }
  }
  // #endregion wal-append

  /**
   * Fails the log: this batch, every written-but-unsynced and every queued append reject
   * (indefinite: their bytes may or may not be on disk); later appends get E_WAL_CLOSED.
   */
  #fail(cause: unknown, batch: readonly Pending[]): void {
    const detail = cause instanceof Error ? cause.message : String(cause);
    this.#failed = fail('E_WAL_IO', `Cannot make the log durable: ${detail}`);
    for (const p of batch) p.reject(this.#failed);
    for (const p of this.#unsynced.splice(0)) p.reject(this.#failed);
    for (const item of this.#queue.splice(0)) if ('lsn' in item) item.reject(this.#failed);
  }

  /** True when nothing is queued, being written or waiting for its fdatasync. */
  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#unsynced.length === 0 && !this.#writing && !this.#syncing;
  }

  /** Wakes {@link drain} callers, and a barrier waiting for the sync stage, once work has settled. */
  #wakeIfIdle(): void {
    if (this.#unsynced.length === 0 && !this.#syncing) for (const wake of this.#synced.splice(0)) wake();
    if (this.#isIdle()) for (const wake of this.#idle.splice(0)) wake();
  }

  /** Resolves once every written record is durable (no fdatasync running or owed). */
  #settled(): Promise<void> {
    if (this.#unsynced.length === 0 && !this.#syncing) return Promise.resolve();
    return new Promise((resolve) => this.#synced.push(resolve));
  }

  /** Runs `work` between batches (after every earlier append is durable, before any later one is written). */
  #barrier<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed || this.#failed !== null) return Promise.reject(fail('E_WAL_CLOSED', `Cannot use ${this.#dir}: the log is closed`));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run: () => work().then(resolve, reject) });
      this.#kick();
    });
  }

  // #region wal-rotate
  /**
   * Starts a new segment: every record appended before this call stays in the older
   * segments, every later one goes to `wal-<nextLsn>.log`. The new file and its directory
   * entry are durable before any record is written to it.
   * @returns the first LSN of the new segment
   */
  rotate(): Promise<number> {
    return this.#barrier(async () => {
      const first = this.#nextLsn;
      if (first === this.#segmentFirst && this.#size === 0) return first; // already fresh
      const name = segmentName(first);
      const fd = await openFd(join(this.#dir, name), segmentFlags(this.#policy, true));
      await fdatasyncFd(fd);
      await fsyncDir(this.#dir);
      const old = this.#fd;
      this.#fd = fd;
      this.#segment = name;
      this.#segmentFirst = first;
      this.#size = 0;
      await closeFd(old);
      return first;
    });
  }

  /**
   * Deletes the segments every record of which has an LSN at or below `lsn` (they are
   * covered by a durable checkpoint), oldest first, then fsyncs the directory. The open
   * segment is never deleted.
   * @param lsn - the checkpoint's LSN
   * @param afterEach - drill hook, called after each unlink
   * @returns the names deleted
   */
  async dropThrough(lsn: number, afterEach?: (name: string) => Promise<void>): Promise<string[]> {
    const segments = await listSegments(this.#dir);
    const dropped: string[] = [];
    for (let i = 0; i + 1 < segments.length; i++) {
      const next = segments[i + 1]!;
      if (next.first - 1 > lsn || segments[i]!.name === this.#segment) break;
      await unlink(join(this.#dir, segments[i]!.name));
      dropped.push(segments[i]!.name);
      await afterEach?.(segments[i]!.name);
    }
    if (dropped.length > 0) await fsyncDir(this.#dir);
    return dropped;
  }
  // #endregion wal-rotate

  /**
   * Makes every record appended before this call durable: one fdatasync, unless a
   * durability point already covers them all. What `interval` sync rules run on a timer.
   * @returns the last LSN now durable
   * @throws CivicError `E_WAL_IO` when the fdatasync failed (the log then refuses every
   *   later append), `E_WAL_CLOSED` when the log is closed or failed
   */
  sync(): Promise<number> {
    return this.#barrier(async () => {
      if (this.#durableLsn >= this.#writtenLsn) return this.#durableLsn;
      const through = this.#writtenLsn;
      try {
        await fdatasyncFd(this.#fd);
      } catch (error) {
        this.#fail(error, []);
        throw this.#failed;
      }
      this.#syncs++;
      this.#durableLsn = through;
      return through;
    });
  }

  /** Resolves once every append made so far has settled. */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Waits for pending appends, then closes the segment. Later appends get `E_WAL_CLOSED`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.drain();
    this.#closed = true;
    await closeFd(this.#fd);
  }
}

/** What {@link repairWal} cut. */
export interface WalRepair {
  /** The first LSN cut: every record from it on is now in quarantine. */
  readonly lsn: number;
  /** The segment the cut is in, and the byte offset of the cut. */
  readonly segment: string;
  /** Byte offset of the cut in {@link WalRepair.segment}. */
  readonly offset: number;
  /** Files under `quarantine/` now holding every byte cut. */
  readonly quarantined: readonly string[];
  /** Bytes moved out of the live log. */
  readonly bytes: number;
}

/**
 * The operator's repair (`civictrust wal repair DIR --truncate-at LSN`): cuts the log so that
 * `lsn` is the next record it will hold, after copying every byte cut into `quarantine/`
 * (fsynced first, as recovery does). It cuts only at a record boundary the scan can reach, so
 * it never drops a good record below `lsn`.
 * @param dir - the log directory (it must exist: a repair never creates a log)
 * @param lsn - the first LSN to cut (at most one past the last good record)
 * @returns where the cut was made and what was moved
 * @throws CivicError `E_WAL_CORRUPT` when the records below `lsn` cannot all be read (cut lower)
 *   or `lsn` is past the end of the log (nothing to cut)
 */
export async function repairWal(dir: string, lsn: number): Promise<WalRepair> {
  const segments = await listSegments(dir);
  const i = segments.findLastIndex((s) => s.first <= lsn);
  if (i < 0) throw fail('E_WAL_CORRUPT', `Cannot cut ${dir} at lsn ${lsn}: no segment holds it (the log starts at lsn ${segments[0]?.first ?? 'none'})`);
  let expected = segments[0]?.first as number;
  for (const earlier of segments.slice(0, i)) {
    const scan = scanWal(await readAll(join(dir, earlier.name)), earlier.first);
    if (earlier.first !== expected || scan.damage !== null) {
      throw fail('E_WAL_CORRUPT', `Cannot cut ${dir} at lsn ${lsn}: ${earlier.name} is damaged before it (at lsn ${earlier.first + scan.records.length}); cut there instead`);
    }
    expected = earlier.first + scan.records.length;
  }
  const segment = segments[i] as { name: string; first: number };
  const bytes = await readAll(join(dir, segment.name));
  const scan = scanWal(bytes, segment.first);
  const good = segment.first + scan.records.length; // one past the last record the scan trusts
  if (segment.first !== expected || lsn > good || (lsn === good && scan.damage === null && i === segments.length - 1)) {
    const why = lsn > good && scan.damage !== null ? `the records from lsn ${good} on are damaged; cut at ${good}` : `the log ends at lsn ${good - 1}, nothing to cut`;
    throw fail('E_WAL_CORRUPT', `Cannot cut ${dir} at lsn ${lsn}: ${why}`);
  }
  // The records below the cut checked, so their length fields can be walked.
  let at = 0;
  for (let n = segment.first; n < lsn; n++) at += RECORD_HEADER_BYTES + readU32(bytes, at);
  const { quarantined, moved } = await quarantineFrom(dir, segments, i, bytes, at);
  return { lsn, segment: segment.name, offset: at, quarantined, bytes: moved };
}

/** Exposed for drills and the README: the quarantine files of a log directory. */
export async function listQuarantine(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, QUARANTINE_DIR))).sort();
  } catch {
    return [];
  }
}

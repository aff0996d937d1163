/**
 * DurableKv: week 9's KV state machine behind this week's write-ahead log, with week 9's
 * snapshots as checkpoints. A command is logged, made durable under the fsync policy,
 * and only then applied; a restart loads the newest good snapshot and replays the log
 * after it.
 *
 * ```text
 *  apply(cmd) ─▶ validate ─▶ wal.append ──(durable)──▶ machine.apply ─▶ result
 *                              │ fails: nothing applied, E_WAL_IO
 *  open(dir)  ─▶ newest good snapshot (lsn L) ─▶ replay WAL records L+1 … ─▶ ready
 *  checkpoint ─▶ rotate ─▶ snapshot at L, durable + read back ─▶ drop segments ≤ L
 * ```
 * @module
 */
import { hash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errorFactory, isCivicError } from '../../lib/errors.ts';
import {
  KvStateMachine, SNAPSHOT_FILE, kvRequestProblem, listSnapshots, loadNewestSnapshot, writeSnapshot,
  type ApplyContext, type KvCommand, type KvEntry, type KvFailure, type KvReadResult, type KvResult, type KvStore, type SnapshotFailure,
} from '../../lib/kv.ts';
import { WAL_ERRORS } from './catalog.ts';
import { commandOfRecord, entryOfCommand } from './command_log.ts';
import { Wal, type AppendOptions, type FsyncPolicy, type WalDamage, type WalStats } from './node_wal.ts';
import type { WalRecord } from './record.ts';
import { commandClass, syncPolicy, type SyncPolicy } from './sync_policy.ts';

const fail = errorFactory(WAL_ERRORS);

/**
 * The state machine's digest here: `node:crypto`'s one-shot SHA-256 of a string's UTF-8
 * bytes, as hex. Same digests as week 9's pure default (snapshots and results are
 * byte-identical), without the JavaScript SHA-256 on every put.
 */
function hashText(text: string): string {
  return hash('sha256', text, 'hex');
}
const MACHINE_OPTIONS = { hashText } as const;

/** Where a logged record applies, with the value hash the record already carries. */
function contextOf(record: WalRecord): ApplyContext {
  return { term: record.term, lsn: record.lsn, valueHash: record.value_hash };
}

/** The points a crash drill can stop a DurableKv at (see `drill.mjs`). */
export type CrashPoint =
  | 'before-append' | 'after-append' | 'after-apply'
  | 'checkpoint:after-rotate' | 'checkpoint:after-snapshot' | 'checkpoint:mid-drop' | 'checkpoint:after-drop';

/** Drill hooks: production code passes none. */
export interface DurableKvHooks {
  /**
   * Called at each {@link CrashPoint}; the drill child prints the point and never resolves,
   * so SIGKILL finds the store exactly there.
   * @param point - where the store is
   * @param lsn - the LSN involved (the command's, or the checkpoint's)
   */
  at?(point: CrashPoint, lsn: number): Promise<void>;
  /** Passed to the WAL: pause with half a record written. */
  midRecord?(firstLsn: number): Promise<void>;
}

/** How to open a DurableKv. */
export interface DurableKvOptions {
  /** The WAL's fsync policy. */
  readonly fsync: FsyncPolicy;
  /**
   * When each class of command is acknowledged (default `syncPolicy(fsync)`: every class
   * syncs, except plain puts under `none`). Build it with `syncPolicy`, which refuses to
   * relax the critical classes.
   */
  readonly sync?: SyncPolicy;
  /** The term new commands are logged in (default 0: a single node). */
  readonly term?: number;
  /** Drill hooks. */
  readonly hooks?: DurableKvHooks;
}

/** What a restart did. */
export interface DurableRecovery {
  /** The LSN of the snapshot loaded (0 when none). */
  readonly snapshotLsn: number;
  /** Newer snapshot files week 9's loader refused (each reported, none applied). */
  readonly snapshotFailures: readonly SnapshotFailure[];
  /** Records replayed from the WAL on top of it. */
  readonly replayed: number;
  /** The state machine's applied LSN after replay. */
  readonly appliedLsn: number;
  /** A damaged WAL tail that was quarantined, or null. */
  readonly damage: WalDamage | null;
  /** Wall-clock milliseconds from open to ready (snapshot load + replay). */
  readonly durationMs: number;
}

/** What a checkpoint did. */
export interface CheckpointReport {
  /** The LSN the snapshot covers. */
  readonly lsn: number;
  /** WAL segments deleted because the previous snapshot covers them. */
  readonly dropped: readonly string[];
}

/** An answer for a command refused before it reached the log: nothing logged, nothing changed. */
function invalidResult(command: KvCommand, problem: string, version: number): KvFailure {
  const c = command as unknown as Record<string, unknown>;
  return {
    ok: false, op: c['op'] === 'put' || c['op'] === 'delete' ? c['op'] : 'invalid',
    request_id: typeof c['request_id'] === 'string' ? c['request_id'] : null,
    key: typeof c['key'] === 'string' ? c['key'] : null,
    code: 'E_KV_COMMAND_INVALID', message: `Cannot apply command: ${problem}`, version,
  };
}

/** The snapshot LSNs in `dir`, newest first. */
async function snapshotLsns(dir: string): Promise<number[]> {
  return (await listSnapshots(dir)).map((file) => Number(SNAPSHOT_FILE.exec(basename(file))?.[1] ?? 0));
}

/**
 * A durable KV store: WAL + KvStateMachine + snapshots, and week 9's {@link KvStore}, so
 * the KV server takes it as its store. Open with {@link DurableKv.open}.
 */
export class DurableKv implements KvStore {
  readonly #wal: Wal;
  readonly #snapshots: string;
  readonly #term: number;
  readonly #hooks: DurableKvHooks;
  #machine: KvStateMachine;
  /** Commands whose WAL append is durable, waiting for their turn to apply (LSN order). */
  readonly #turns = new Map<number, () => void>();
  readonly #waiters: { lsn: number; wake: () => void }[] = [];
  readonly #sync: SyncPolicy;
  /** The pending `interval` sync, and when it fires (`performance.now()` ms). */
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  #syncDue = 0;
  /** The recovery that opened this store. */
  readonly recovery: DurableRecovery;

  private constructor(wal: Wal, machine: KvStateMachine, snapshots: string, options: DurableKvOptions, recovery: DurableRecovery) {
    this.#wal = wal;
    this.#machine = machine;
    this.#snapshots = snapshots;
    this.#term = options.term ?? 0;
    this.#hooks = options.hooks ?? {};
    this.#sync = options.sync ?? syncPolicy(options.fsync);
    this.recovery = recovery;
  }

  // #region durable-open
  /**
   * Opens the store in `dir` (`dir/wal` and week 9's snapshot directory `dir/snapshots`):
   * loads the newest good snapshot, opens the WAL (quarantining a torn tail), and replays every record
   * after the snapshot's LSN.
   * @param dir - the store's directory
   * @param options - fsync policy, term, hooks
   * @returns the open store; its {@link recovery} says what happened
   * @throws CivicError `E_WAL_GAP` when the log does not continue where the snapshot ends,
   *   `E_WAL_CORRUPT` when a record before the torn tail (if any) is damaged (nothing is moved)
   */
  static async open(dir: string, options: DurableKvOptions): Promise<DurableKv> {
    const started = performance.now();
    const snapshots = join(dir, 'snapshots');
    await mkdir(snapshots, { recursive: true });
    let machine = new KvStateMachine(MACHINE_OPTIONS);
    let snapshotFailures: readonly SnapshotFailure[] = [];
    try {
      const loaded = await loadNewestSnapshot(snapshots, MACHINE_OPTIONS);
      machine = loaded.machine;
      snapshotFailures = loaded.failures;
    } catch (error) {
      // None at all is a fresh store; every one refused leaves the WAL to prove it has
      // the whole history (E_WAL_GAP below if it does not).
      if (!isCivicError(error) || error.code !== 'E_SNAPSHOT_NONE') throw error;
    }
    const snapshotLsn = machine.appliedLsn;
    const walHooks = options.hooks?.midRecord === undefined ? {} : { midRecord: options.hooks.midRecord };
    const { wal, recovery } = await Wal.open(join(dir, 'wal'), { fsync: options.fsync, firstLsn: snapshotLsn + 1, hooks: walHooks });
    let replayed = 0;
    for (const record of recovery.records) {
      if (record.lsn <= snapshotLsn) continue; // covered by the snapshot
      if (record.lsn !== machine.appliedLsn + 1) {
        await wal.close();
        throw fail('E_WAL_GAP', `Cannot replay ${dir}: the log resumes at lsn ${record.lsn} but the state is at ${machine.appliedLsn}`);
      }
      machine.apply(commandOfRecord(record), contextOf(record));
      replayed++;
    }
    if (wal.nextLsn !== machine.appliedLsn + 1) {
      await wal.close();
      throw fail('E_WAL_GAP', `Cannot open ${dir}: the log's next lsn is ${wal.nextLsn} but the state is at ${machine.appliedLsn}`);
    }
    const durationMs = performance.now() - started;
    return new DurableKv(wal, machine, snapshots, options, { snapshotLsn, snapshotFailures, replayed, appliedLsn: machine.appliedLsn, damage: recovery.damage, durationMs });
  }
  // #endregion durable-open

  /** The WAL's fsync policy. */
  get policy(): FsyncPolicy {
    return this.#wal.policy;
  }

  /** The last LSN applied to the state. */
  get appliedLsn(): number {
    return this.#machine.appliedLsn;
  }

  /** The WAL's batch and fdatasync counters. */
  get walStats(): WalStats {
    return this.#wal.stats;
  }

  /** When each class of command is acknowledged. */
  get syncPolicy(): SyncPolicy {
    return this.#sync;
  }

  // #region durable-apply
  /**
   * Logs `command`, waits until the log record is durable under the fsync policy, then
   * applies it to the state machine, in LSN order, and returns the machine's answer. A
   * malformed command is refused before it reaches the log.
   * @param command - a put or delete with a request id
   * @returns the state machine's result (a retried request id returns its first result)
   * @throws CivicError `E_WAL_IO` (indefinite) or `E_WAL_CLOSED` when the log cannot take it: nothing was applied
   */
  async apply(command: KvCommand): Promise<KvResult> {
    const problem = kvRequestProblem(command);
    if (problem !== undefined) return invalidResult(command, problem, 0);
    const at = this.#hooks.at;
    if (at !== undefined) await at('before-append', this.#wal.nextLsn);
    const append = this.#appendOptions(command);
    const record = await this.#wal.append(entryOfCommand(command, this.#term), append); // throws: nothing applied
    if (at !== undefined) await at('after-append', record.lsn);
    if (record.lsn !== this.#machine.appliedLsn + 1) await this.#turn(record.lsn);
    const result = this.#machine.apply(commandOfRecord(record), contextOf(record));
    this.#turns.get(record.lsn + 1)?.();
    if (this.#waiters.length > 0) this.#wakeWaiters();
    if (at !== undefined) await at('after-apply', record.lsn);
    return result;
  }
  // #endregion durable-apply

  // #region sync-enforce
  /**
   * Where the sync policy is enforced: the command's class picks its mode. `sync` forces a
   * durability point before the acknowledgement under every `--fsync`; `interval` and
   * `none` are acknowledged once written, `interval` with an fdatasync promised within its
   * bound (one timer for the whole store, moved earlier when a shorter bound asks).
   */
  #appendOptions(command: KvCommand): AppendOptions {
    const mode = this.#sync[commandClass(command)];
    if (mode.kind === 'sync') return { forceSync: true };
    if (mode.kind === 'interval') this.#syncWithin(mode.ms);
    return { durable: false };
  }

  /** Arms the store's interval sync to run within `ms` from now, unless it runs sooner already. */
  #syncWithin(ms: number): void {
    const due = performance.now() + ms;
    if (this.#syncTimer !== undefined) {
      if (this.#syncDue <= due) return;
      clearTimeout(this.#syncTimer);
    }
    this.#syncDue = due;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      // A failure fails the log: the next append rejects with E_WAL_CLOSED.
      this.#wal.sync().catch(() => undefined);
    }, ms);
  }
  // #endregion sync-enforce

  /** Resolves when every LSN before `lsn` has been applied (appends resolve in order; hooks may not). */
  #turn(lsn: number): Promise<void> {
    if (this.#machine.appliedLsn === lsn - 1) return Promise.resolve();
    return new Promise((resolve) => this.#turns.set(lsn, () => {
      this.#turns.delete(lsn);
      resolve();
    }));
  }

  #wakeWaiters(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (this.#machine.appliedLsn >= w.lsn) {
        this.#waiters.splice(i, 1);
        w.wake();
      }
    }
  }

  /** Resolves when the state has applied `lsn`. */
  #appliedThrough(lsn: number): Promise<void> {
    if (this.#machine.appliedLsn >= lsn) return Promise.resolve();
    return new Promise((wake) => this.#waiters.push({ lsn, wake }));
  }

  /**
   * The live entry of `key`, or undefined. Reads see only applied state, which is
   * always durable state.
   * @param key - the key
   */
  entry(key: string): KvEntry | undefined {
    return this.#machine.get(key);
  }

  /**
   * Week 9's read answer for `key` (found, or `E_KV_NOT_FOUND`), as the KV server asks.
   * @param key - the key
   */
  get(key: string): KvReadResult {
    return this.#machine.read(key);
  }

  /** The applied state as week 9 snapshot bytes. */
  snapshot(): Uint8Array {
    return this.#machine.snapshot();
  }

  // #region durable-checkpoint
  /**
   * Checkpoint and compaction, in an order where a crash at any step loses nothing:
   *
   * 1. rotate the WAL, so every record before the new segment sits in older segments;
   * 2. wait until the state has applied all of them, then snapshot it (LSN L);
   * 3. write the snapshot durably (week 9: temp, fsync, rename, directory fsync) and read
   *    it back: week 9's loader must restore it at LSN L;
   * 4. only then delete the segments every record of which the *previous* snapshot
   *    covers, so that if the newest snapshot is ever refused at load, the fallback to the
   *    previous one still finds every record after it.
   * @returns the checkpoint's LSN and the segments deleted
   */
  async checkpoint(): Promise<CheckpointReport> {
    const first = await this.#wal.rotate();
    await this.#appliedThrough(first - 1);
    await this.#hooks.at?.('checkpoint:after-rotate', first);
    const lsn = this.#machine.appliedLsn;
    const bytes = this.#machine.snapshot();
    await writeSnapshot(this.#snapshots, bytes, lsn);
    const back = await loadNewestSnapshot(this.#snapshots, MACHINE_OPTIONS);
    if (back.machine.appliedLsn !== lsn) {
      throw fail('E_WAL_IO', `Cannot compact the log: the snapshot at lsn ${lsn} read back at lsn ${back.machine.appliedLsn}`);
    }
    await this.#hooks.at?.('checkpoint:after-snapshot', lsn);
    const previous = (await snapshotLsns(this.#snapshots)).find((l) => l < lsn) ?? 0;
    const dropped = await this.#wal.dropThrough(previous, async () => {
      await this.#hooks.at?.('checkpoint:mid-drop', lsn);
    });
    await this.#hooks.at?.('checkpoint:after-drop', lsn);
    return { lsn, dropped };
  }
  // #endregion durable-checkpoint

  /** Waits for pending commands, runs an interval sync still owed, and closes the log. */
  async close(): Promise<void> {
    if (this.#syncTimer !== undefined) {
      clearTimeout(this.#syncTimer);
      this.#syncTimer = undefined;
      await this.#wal.sync();
    }
    await this.#wal.close();
  }
}

/**
 * Negative controls, on purpose WRONG, for the drill to catch (never use them elsewhere):
 *
 * - `apply-first` (criterion 10.3): applies a command to the state machine, then logs it.
 *   A reader can see a value the log never got, and a crash between the two loses it.
 * - `ack-early` (criterion 10.1): applies and acknowledges at once and hands the commands
 *   to the log later, like a write-back cache flushed every 10 s (closing waits for that
 *   flush), so a SIGKILL loses writes that were acknowledged. (Handing each to the log at
 *   once is not wrong enough to show: the WAL writes a whole turn's appends in one pwrite,
 *   the page cache survives SIGKILL, and the window before the write() call is too short
 *   for a drill on a loaded machine to hit.)
 * @module
 */
import { join } from 'node:path';
import { KvStateMachine, type KvCommand, type KvReadResult, type KvResult } from '../../../lib/kv.ts';
import { commandOfRecord, entryOfCommand } from '../command_log.ts';
import type { CrashPoint } from '../node_durable_kv.ts';
import { Wal, type FsyncPolicy } from '../node_wal.ts';

/** How long `ack-early` holds acknowledged commands before it hands them to the log. */
const ACK_EARLY_FLUSH_MS = 10_000;

/** Which bug the store has. */
export type BrokenMode = 'apply-first' | 'ack-early';

/** Apply-then-log or ack-before-durable: the bugs the gate exists to catch. */
export class BrokenKv {
  readonly #wal: Wal;
  readonly #machine: KvStateMachine;
  readonly #at: (point: CrashPoint, lsn: number) => Promise<void>;
  readonly #mode: BrokenMode;
  /** `ack-early`: acknowledged commands not yet handed to the log. */
  #unlogged: KvCommand[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** What the reopen found. */
  readonly recovery: { readonly replayed: number; readonly damage: null };

  private constructor(mode: BrokenMode, wal: Wal, machine: KvStateMachine, at: (point: CrashPoint, lsn: number) => Promise<void>, replayed: number) {
    this.#mode = mode;
    this.#wal = wal;
    this.#machine = machine;
    this.#at = at;
    this.recovery = { replayed, damage: null };
  }

  /** Opens the log and replays it (no snapshots). */
  static async open(mode: BrokenMode, dir: string, options: { fsync: FsyncPolicy; hooks: { at(point: CrashPoint, lsn: number): Promise<void> } }): Promise<BrokenKv> {
    const { wal, recovery } = await Wal.open(join(dir, 'wal'), { fsync: options.fsync });
    const machine = new KvStateMachine();
    for (const record of recovery.records) machine.apply(commandOfRecord(record), { term: record.term, lsn: record.lsn });
    return new BrokenKv(mode, wal, machine, (p, l) => options.hooks.at(p, l), recovery.records.length);
  }

  /** WRONG: state first, log second (and with `ack-early`, no waiting for the log at all). */
  async apply(command: KvCommand): Promise<KvResult> {
    // ack-early logs later, in the same order: the log's LSNs will match the machine's.
    const lsn = this.#mode === 'ack-early' ? this.#machine.appliedLsn + 1 : this.#wal.nextLsn;
    const result = this.#machine.apply(command, { term: 0, lsn });
    if (this.#mode === 'ack-early') {
      this.#unlogged.push(command);
      this.#flushTimer ??= setTimeout(() => this.#flushLater(), ACK_EARLY_FLUSH_MS);
      return result;
    }
    await this.#at('before-append', lsn);
    await this.#wal.append(entryOfCommand(command, 0));
    await this.#at('after-append', lsn);
    return result;
  }

  /** `ack-early`: hands every acknowledged command to the log, long after acknowledging it. */
  #flushLater(): void {
    this.#flushTimer = null;
    for (const command of this.#unlogged.splice(0)) void this.#wal.append(entryOfCommand(command, 0)).catch(() => {});
  }

  /** Reads the state. */
  get(key: string): KvReadResult {
    return this.#machine.read(key);
  }

  /** Not supported by the broken store. */
  async checkpoint(): Promise<void> {}

  /** Closes the log, after the write-back flush has handed it what it was owed. */
  async close(): Promise<void> {
    while (this.#flushTimer !== null) await new Promise((resolve) => setTimeout(resolve, 50));
    await this.#wal.close();
  }
}

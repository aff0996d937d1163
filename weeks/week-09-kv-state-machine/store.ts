/**
 * The store behind the KV server, and the single-writer rule that guards it.
 *
 * ```
 *  connection A ─┐                       ┌─ get(key): reads the state as it is now,
 *  connection B ─┼─▶ KvStore.apply ─▶ SerialQueue ─▶ machine.apply(cmd, {term, lsn})
 *  connection C ─┘     (one at a time, in arrival order; lsn = last + 1)
 * ```
 *
 * Every mutation goes through one {@link SerialQueue} owned by the store, so log
 * positions are handed out in one order and no two writes interleave, even when a
 * write awaits (week 10's fsync). Reads do not queue: on one thread a read sees the
 * state between two whole applies, never half of one.
 *
 * Week 10 plugs its WAL-backed store in through the same {@link KvStore} interface.
 * @module
 */
import type { KvCommand, KvReadResult, KvResult } from './command.ts';
import { KvStateMachine } from './state_machine.ts';

// #region store-interface
/** What the KV server needs from a store: serialized writes and immediate reads. */
export interface KvStore {
  /** Applies one state-changing command after every earlier one; resolves with its result. */
  apply(command: KvCommand): Promise<KvResult>;
  /** Reads a key in the response schema, without waiting for queued writes. */
  get(key: string): KvReadResult;
  /** The state as snapshot bytes, when the store can give one (the server writes it on SIGTERM). */
  snapshot?(): Uint8Array;
  /** Releases what the store holds (files); called once when the server stops. */
  close?(): Promise<void>;
}
// #endregion store-interface

// #region serial-queue
/** Runs tasks one at a time in the order they were queued; a failed task does not stop the next. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Queues `task`; resolves or rejects with its outcome once every earlier task has settled. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(task, task);
    this.#tail = result.then(() => { this.#pending--; }, () => { this.#pending--; });
    return result;
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.#pending;
  }
}
// #endregion serial-queue

/** The default store: a state machine in memory, written only through its queue. */
export class MemoryKvStore implements KvStore {
  readonly #machine: KvStateMachine;
  readonly #queue = new SerialQueue();
  readonly #term: number;

  /**
   * @param machine - the state to start from (a restored snapshot, or empty)
   * @param options - the term written into every entry (0 for a single node)
   */
  constructor(machine: KvStateMachine = new KvStateMachine(), options: { readonly term?: number } = {}) {
    this.#machine = machine;
    this.#term = options.term ?? machine.term;
  }

  /** The state machine; read it, never apply to it directly. */
  get machine(): KvStateMachine {
    return this.#machine;
  }

  /** Applies `command` at the next log position, after every earlier write. */
  apply(command: KvCommand): Promise<KvResult> {
    return this.#queue.run(() => this.#machine.apply(command, { term: this.#term, lsn: this.#machine.appliedLsn + 1 }));
  }

  /** Reads `key` now. */
  get(key: string): KvReadResult {
    return this.#machine.read(key);
  }

  /** The state as snapshot bytes, taken between two writes. */
  snapshot(): Uint8Array {
    return this.#machine.snapshot();
  }
}

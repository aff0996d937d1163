/**
 * The sync policy: which class of command may be acknowledged before its log record is
 * durable, and for how long (pure).
 *
 * ```text
 *  class    what it is                              may be relaxed?
 *  put      a put without a version guard            yes: sync | interval:MS | none
 *  delete   a delete without a version guard         no: always sync
 *  cas      a put or delete with if_version          no: always sync
 * ```
 *
 * A delete is a revocation (a permit withdrawn must not come back after a power cut) and
 * a compare-and-set tells its caller it won a race (a lost one lets another writer win
 * the same race after the restart), so both are *critical*: they are acknowledged only
 * after an fdatasync, or an O_DSYNC write, that began after their record was written,
 * whatever `--fsync` says, `none` included. A plain put may trade that for speed.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import type { KvCommand } from '../../lib/kv.ts';
import { WAL_ERRORS } from './catalog.ts';

const fail = errorFactory(WAL_ERRORS);

/** The classes of command a DurableKv logs (see the module's table). */
export type CommandClass = 'put' | 'delete' | 'cas';

/** Every command class, in the order tables print them. */
export const COMMAND_CLASSES: readonly CommandClass[] = ['put', 'delete', 'cas'];

/** The classes no configuration may relax: their acknowledgement never outruns the disk. */
export const CRITICAL_CLASSES: readonly CommandClass[] = ['delete', 'cas'];

/**
 * When a command of a class is acknowledged:
 * - `sync`: after a durability point (fdatasync or O_DSYNC write) that began after its write;
 * - `interval`: once written; a durability point covering it starts within `ms` milliseconds
 *   (a power cut may lose the last `ms` of them; a process crash loses none);
 * - `none`: once written; it becomes durable whenever the next durability point runs.
 */
export type SyncMode =
  | {
      /** Acknowledge after a durability point that began after the write. */
      readonly kind: 'sync';
    }
  | {
      /** Acknowledge once written; sync within `ms`. */
      readonly kind: 'interval';
      /** The longest a written command waits for its durability point, in milliseconds. */
      readonly ms: number;
    }
  | {
      /** Acknowledge once written; durable at the next durability point. */
      readonly kind: 'none';
    };

/** One `--sync` rule, read: the class it sets and the mode it sets it to. */
export interface SyncRule {
  /** The command class the rule is about. */
  readonly cls: CommandClass;
  /** The mode that class gets. */
  readonly mode: SyncMode;
}

/** The mode of every command class. Build one with {@link syncPolicy}, which validates it. */
export type SyncPolicy = Readonly<Record<CommandClass, SyncMode>>;

/** The longest interval a rule may name, in milliseconds. */
export const MAX_SYNC_INTERVAL_MS = 60_000;

const SYNC: SyncMode = { kind: 'sync' };

/**
 * The class of a command: a version guard makes it `cas`, otherwise its op decides.
 * @param command - a put or delete
 * @returns its class
 */
export function commandClass(command: Pick<KvCommand, 'op' | 'if_version'>): CommandClass {
  if (command.if_version !== undefined) return 'cas';
  return command.op === 'delete' ? 'delete' : 'put';
}

/**
 * Reads one rule, `CLASS=MODE` with MODE `sync`, `none` or `interval:MS`.
 * @param rule - the rule's text, as given to `--sync`
 * @returns the class and its mode
 * @throws CivicError `E_WAL_POLICY` when the text is not a rule
 */
export function parseSyncRule(rule: string): SyncRule {
  const match = /^([a-z]+)=(sync|none|interval:(\d{1,6}))$/.exec(rule);
  const cls = match?.[1] as CommandClass | undefined;
  if (match === null || cls === undefined || !COMMAND_CLASSES.includes(cls)) {
    throw fail('E_WAL_POLICY', `Cannot read sync rule '${rule}': expected CLASS=sync|none|interval:MS with CLASS one of ${COMMAND_CLASSES.join(', ')}`);
  }
  if (match[2] === 'sync') return { cls, mode: SYNC };
  if (match[2] === 'none') return { cls, mode: { kind: 'none' } };
  const ms = Number(match[3]);
  if (ms < 1 || ms > MAX_SYNC_INTERVAL_MS) {
    throw fail('E_WAL_POLICY', `Cannot use sync rule '${rule}': the interval must be 1..${MAX_SYNC_INTERVAL_MS} ms`);
  }
  return { cls, mode: { kind: 'interval', ms } };
}

// #region sync-policy
/**
 * Builds and validates the sync policy. Every class starts at `sync`, except `put` under
 * `--fsync none`, which starts at `none` (that flag's old meaning, kept for plain puts);
 * each rule then sets one class. A rule that relaxes a critical class is refused: no
 * configuration can make a delete or a compare-and-set acknowledged before its fsync.
 * @param fsync - the log's fsync policy, which sets the starting point for `put`
 * @param rules - `CLASS=MODE` rules, later ones winning (see {@link parseSyncRule})
 * @returns the policy
 * @throws CivicError `E_WAL_POLICY` for a malformed rule or one that relaxes a critical class
 */
export function syncPolicy(fsync: 'always' | 'group' | 'none', rules: readonly string[] = []): SyncPolicy {
  const policy: Record<CommandClass, SyncMode> = { put: fsync === 'none' ? { kind: 'none' } : SYNC, delete: SYNC, cas: SYNC };
  for (const text of rules) {
    const { cls, mode } = parseSyncRule(text);
    if (CRITICAL_CLASSES.includes(cls) && mode.kind !== 'sync') {
      throw fail('E_WAL_POLICY', `Cannot relax '${cls}' to ${describeMode(mode)}: ${CRITICAL_CLASSES.join(' and ')} are critical and always sync before they are acknowledged`);
    }
    policy[cls] = mode;
  }
  return policy;
}
// #endregion sync-policy

/**
 * A mode as rules write it: `sync`, `none`, `interval:20`.
 * @param mode - the mode
 */
export function describeMode(mode: SyncMode): string {
  return mode.kind === 'interval' ? `interval:${mode.ms}` : mode.kind;
}

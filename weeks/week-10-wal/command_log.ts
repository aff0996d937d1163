/**
 * KV commands ⇄ WAL entries (pure). Live apply and replay both apply the command
 * rebuilt from the logged record, so the two can never disagree about what was logged.
 * @module
 */
import type { KvCommand } from '../../lib/kv.ts';
import { ByteSlab } from './byte_slab.ts';
import type { WalEntry, WalRecord } from './record.ts';

/** Values in flight live in slab slices: a put's value bytes die with its record. */
const VALUES = new ByteSlab();
const text = new TextDecoder('utf-8', { fatal: true });

/**
 * The WAL entry that logs `command` in `term`.
 * @param command - a command week 9's `kvRequestProblem` accepted
 * @param term - the term it is accepted in
 * @returns the entry to append
 */
export function entryOfCommand(command: KvCommand, term: number): WalEntry {
  return {
    term, op: command.op, key: command.key, request_id: command.request_id,
    if_version: command.if_version ?? null,
    value: command.op === 'put' ? VALUES.utf8(command.value) : new Uint8Array(0),
  };
}

/**
 * The command a logged record stands for (the inverse of {@link entryOfCommand}).
 * @param record - a record replay or append produced
 * @returns the command to apply
 */
export function commandOfRecord(record: WalRecord): KvCommand {
  const guard = record.if_version === null ? {} : { if_version: record.if_version };
  return record.op === 'put'
    ? { op: 'put', request_id: record.request_id, key: record.key, value: text.decode(record.value), ...guard }
    : { op: 'delete', request_id: record.request_id, key: record.key, ...guard };
}

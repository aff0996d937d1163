/**
 * The state machine's refusals that the gate does not reach: an invalid command
 * (`E_KV_COMMAND_INVALID`), a stale compare-and-set (`E_KV_VERSION_CONFLICT`, remembered
 * under its request id and leaving the key as it was) and a snapshot that is not one
 * (`E_SNAPSHOT_MALFORMED`).
 * @module
 */
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../lib/testing.ts';
import { parseKvRequest } from './command.ts';
import { KvStateMachine, valueHash } from './state_machine.ts';

describe('KvStateMachine refusals', () => {
  it('refuses commands that break the contract with E_KV_COMMAND_INVALID', () => {
    const bad = [
      { op: 'put', key: 'k', value: 'v' }, // no request id
      { op: 'put', request_id: 'r', key: 'has space', value: 'v' },
      { op: 'put', request_id: 'r', key: 'k', value: 'v', extra: 1 },
      { op: 'rename', request_id: 'r', key: 'k' },
    ];
    for (const command of bad) expect(thrownCode(() => parseKvRequest(command)), JSON.stringify(command)).toBe('E_KV_COMMAND_INVALID');
  });

  it('refuses a stale if_version with E_KV_VERSION_CONFLICT, changes nothing, and answers a retry the same way', () => {
    const machine = new KvStateMachine();
    machine.apply({ op: 'put', request_id: 'w1', key: 'k', value: 'one' }, { term: 1, lsn: 1 });
    const stale = { op: 'put', request_id: 'w2', key: 'k', value: 'two', if_version: 0 } as const;
    const refused = machine.apply(stale, { term: 1, lsn: 2 });
    expect(refused).toMatchObject({ ok: false, code: 'E_KV_VERSION_CONFLICT', version: 1 });
    expect(machine.get('k')).toMatchObject({ value: 'one', version: 1 });
    expect(machine.apply(stale, { term: 1, lsn: 3 })).toEqual(refused);
  });

  it('refuses bytes that do not start with the snapshot magic with E_SNAPSHOT_MALFORMED', () => {
    const snapshot = new KvStateMachine().snapshot();
    const wrongMagic = snapshot.slice();
    wrongMagic[0] = (wrongMagic[0] as number) ^ 0xff;
    expect(thrownCode(() => KvStateMachine.restore(wrongMagic))).toBe('E_SNAPSHOT_MALFORMED');
    expect(thrownCode(() => KvStateMachine.restore(new Uint8Array([...snapshot, 0])))).toBe('E_SNAPSHOT_MALFORMED');
  });

  it('remembers exactly the newest dedupeCapacity request ids, in apply order, across many evictions and a snapshot', () => {
    const capacity = 5;
    const machine = new KvStateMachine({ dedupeCapacity: capacity });
    const total = 4 * capacity + 3; // several rounds of the eviction ring's compaction
    for (let i = 1; i <= total; i++) machine.apply({ op: 'put', request_id: `r${i}`, key: `k${i % 3}`, value: `v${i}` }, { term: 1, lsn: i });
    const remembered = (m: KvStateMachine): string[] => Array.from({ length: total }, (_, i) => `r${i + 1}`).filter((id) => m.resultOf(id) !== undefined);
    const newest = Array.from({ length: capacity }, (_, i) => `r${total - capacity + 1 + i}`);
    expect(remembered(machine)).toEqual(newest);
    const restored = KvStateMachine.restore(machine.snapshot());
    expect(remembered(restored)).toEqual(newest);
    // The restored machine evicts in the same order as the original: the oldest first.
    for (const m of [machine, restored]) m.apply({ op: 'put', request_id: 'fresh', key: 'k', value: 'v' }, { term: 1, lsn: total + 1 });
    expect(remembered(restored)).toEqual(newest.slice(1));
    expect(restored.snapshot()).toEqual(machine.snapshot());
  });

  it('stores a value hash handed in by the caller as the put\'s value_hash, with no other effect on the state', () => {
    const plain = new KvStateMachine();
    const given = new KvStateMachine();
    const put = { op: 'put', request_id: 'p1', key: 'k', value: 'héllo' } as const;
    const hashed = plain.apply(put, { term: 1, lsn: 1 });
    expect(given.apply(put, { term: 1, lsn: 1, valueHash: valueHash('héllo') })).toEqual(hashed);
    expect(given.snapshot()).toEqual(plain.snapshot());
    // It is trusted, not recomputed: a wrong digest would be stored (the log checks it on replay).
    const trusting = new KvStateMachine();
    trusting.apply(put, { term: 1, lsn: 1, valueHash: '0'.repeat(64) });
    expect(trusting.get('k')?.value_hash).toBe('0'.repeat(64));
  });
});

/**
 * The replicated TTL dedupe: a retry within the TTL gets its first answer without
 * re-executing, a late duplicate is refused with the definite `E_DEDUPE_EXPIRED` (and,
 * negative control, week 9's machine alone would run it again), the replicated clock
 * never runs backwards, replicas applying the same entries stay byte-identical, and a
 * snapshot round trip keeps the table and its TTLs.
 * @module
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvStateMachine, type KvRequest } from '../../lib/kv.ts';
import { thrownCode } from '../../lib/testing.ts';
import { TtlDedupeKv, parseStampedCommand, stampCommand, type ReplicatedEntry } from './dedupe_ttl.ts';

const TTL = 1000;

/** A log under construction: each entry gets the next index, in term 1 unless told. */
function log() {
  let index = 0;
  return {
    stamped: (command: KvRequest | Record<string, unknown>, atMs: number, term = 1): ReplicatedEntry => ({ index: ++index, term, data: stampCommand(command as KvRequest, atMs) }),
    raw: (data: Uint8Array | null, term = 1): ReplicatedEntry => ({ index: ++index, term, data }),
  };
}

const put = (request_id: string, key: string, value: string): KvRequest => ({ op: 'put', request_id, key, value });
/** Snapshot bytes as the replication layer hands them over. */
const handed = (data: Uint8Array) => ({ index: 0, term: 0, data });

describe('TtlDedupeKv', () => {
  it('answers a retry within the TTL with the first response and does not run it again', () => {
    const kv = new TtlDedupeKv({ ttlMs: TTL });
    const l = log();
    const first = kv.apply(l.stamped(put('w1', 'k', 'one'), 10_000));
    kv.apply(l.stamped(put('w2', 'k', 'two'), 10_100));
    const retry = kv.apply(l.stamped(put('w1', 'k', 'one'), 10_999));
    expect(retry).toEqual(first);
    expect(kv.read('k')).toMatchObject({ value: 'two', version: 2 });
  });

  it('refuses a duplicate that arrives after the TTL with E_DEDUPE_EXPIRED and leaves the state alone', () => {
    const kv = new TtlDedupeKv({ ttlMs: TTL });
    const l = log();
    kv.apply(l.stamped(put('w1', 'k', 'one'), 10_000));
    kv.apply(l.stamped(put('w2', 'k', 'two'), 10_500));
    const late = kv.apply(l.stamped(put('w1', 'k', 'one'), 11_000));
    expect(late).toMatchObject({ ok: false, code: 'E_DEDUPE_EXPIRED', request_id: 'w1', first_applied_ms: 10_000 });
    expect(kv.read('k')).toMatchObject({ value: 'two', version: 2 });
    expect(kv.stats).toMatchObject({ live: 1, expired: 1, clockMs: 11_000 });
  });

  it('negative control: week 9 alone, once its bounded table forgot the id, runs the late duplicate again', () => {
    const machine = new KvStateMachine({ dedupeCapacity: 1 });
    machine.apply(put('w1', 'k', 'one') as never, { term: 1, lsn: 1 });
    machine.apply(put('w2', 'k', 'two') as never, { term: 1, lsn: 2 });
    machine.apply(put('w1', 'k', 'one') as never, { term: 1, lsn: 3 });
    expect(machine.get('k')).toMatchObject({ value: 'one', version: 3 }); // the newer write is lost
  });

  it('refuses a request id reused for another command within the TTL with E_KV_REQUEST_ID_REUSED', () => {
    const kv = new TtlDedupeKv({ ttlMs: TTL });
    const l = log();
    kv.apply(l.stamped(put('w1', 'k', 'one'), 0));
    expect(kv.apply(l.stamped(put('w1', 'k', 'other'), 5))).toMatchObject({ ok: false, code: 'E_KV_REQUEST_ID_REUSED', version: 1 });
    expect(kv.read('k')).toMatchObject({ value: 'one' });
  });

  it('keeps the replicated clock from running backwards when a new leader stamps an older time', () => {
    const kv = new TtlDedupeKv({ ttlMs: TTL });
    const l = log();
    kv.apply(l.stamped(put('w1', 'k', 'one'), 5_000, 1));
    kv.apply(l.stamped(put('w2', 'j', 'x'), 6_000, 1)); // w1 expires here
    kv.apply(l.stamped(put('w3', 'j', 'y'), 100, 2)); //  a lagging clock in term 2
    expect(kv.clockMs).toBe(6_000);
    expect(kv.apply(l.stamped(put('w1', 'k', 'one'), 200, 2))).toMatchObject({ code: 'E_DEDUPE_EXPIRED' });
  });

  it('answers a no-op with null, a malformed stamp with E_STAMP_MALFORMED, and a logged get with a read', () => {
    const kv = new TtlDedupeKv({ ttlMs: TTL });
    const l = log();
    expect(kv.apply(l.raw(null))).toBeNull();
    expect(kv.apply(l.raw(new TextEncoder().encode('{"command":{}}')))).toMatchObject({ ok: false, code: 'E_STAMP_MALFORMED' });
    kv.apply(l.stamped(put('w1', 'k', 'v'), 1));
    expect(kv.apply(l.stamped({ op: 'get', key: 'k' }, 2))).toMatchObject({ ok: true, op: 'get', value: 'v', version: 1 });
    expect(kv.apply(l.stamped({ op: 'put', key: 'k' }, 3))).toMatchObject({ ok: false, code: 'E_KV_COMMAND_INVALID' });
    expect(kv.appliedIndex).toBe(5);
  });

  it('refuses stamps that are not {at_ms, command} with E_STAMP_MALFORMED', () => {
    const bad = ['not json', '[]', '{"at_ms":-1,"command":{}}', '{"at_ms":1,"command":[]}', '{"at_ms":1,"command":{},"x":1}', '{"at_ms":1.5,"command":{}}'];
    for (const text of bad) expect(thrownCode(() => parseStampedCommand(new TextEncoder().encode(text))), text).toBe('E_STAMP_MALFORMED');
  });

  it('forgets the oldest tombstone past tombstoneCapacity', () => {
    const kv = new TtlDedupeKv({ ttlMs: TTL, tombstoneCapacity: 1 });
    const l = log();
    kv.apply(l.stamped(put('w1', 'a', '1'), 0));
    kv.apply(l.stamped(put('w2', 'b', '2'), 1));
    kv.apply(l.stamped(put('w3', 'c', '3'), 5_000)); // both expire; w1's tombstone is dropped
    expect(kv.stats).toMatchObject({ live: 1, expired: 1 });
    expect(kv.apply(l.stamped(put('w2', 'b', '2'), 5_001))).toMatchObject({ code: 'E_DEDUPE_EXPIRED' });
  });

  it('throws RangeError for an entry index that does not move forward', () => {
    const kv = new TtlDedupeKv({ ttlMs: TTL });
    kv.apply({ index: 3, term: 1, data: null });
    expect(() => kv.apply({ index: 3, term: 1, data: null })).toThrow(RangeError);
  });

  describe('restore', () => {
    it('refuses a snapshot taken under another TTL with E_DEDUPE_TTL_MISMATCH and keeps its state', () => {
      const kv = new TtlDedupeKv({ ttlMs: TTL });
      kv.apply(log().stamped(put('w1', 'k', 'v'), 1));
      const before = kv.stateHash();
      const other = new TtlDedupeKv({ ttlMs: TTL * 2 });
      expect(thrownCode(() => kv.restore(handed(other.snapshot())))).toBe('E_DEDUPE_TTL_MISMATCH');
      expect(kv.stateHash()).toBe(before);
    });

    it('refuses damaged snapshot bytes with week 9 codes', () => {
      const kv = new TtlDedupeKv({ ttlMs: TTL });
      const bytes = kv.snapshot();
      const flipped = bytes.slice();
      flipped[20] = (flipped[20] as number) ^ 0x01;
      expect(thrownCode(() => kv.restore(handed(flipped)))).toBe('E_SNAPSHOT_CHECKSUM');
      expect(thrownCode(() => kv.restore(handed(bytes.subarray(0, 12))))).toBe('E_SNAPSHOT_TRUNCATED');
      expect(thrownCode(() => kv.restore(handed(new KvStateMachine().snapshot())))).toBe('E_SNAPSHOT_MALFORMED');
    });
  });
});

/** A drawn command: op, a request id and key from small pools (so retries, reuse and expiry happen), and a clock step. */
type DrawnCommand = { readonly op: 'put' | 'delete' | 'get'; readonly id: number; readonly key: string; readonly value: string; readonly step: number };
/** One random log entry: a stamped command, a no-op or garbage. */
type Draw = DrawnCommand | 'noop' | 'garbage';

const entryData: fc.Arbitrary<Draw> = fc.oneof(
  { weight: 8, arbitrary: fc.record({
    op: fc.constantFrom('put', 'delete', 'get'), id: fc.nat({ max: 6 }), key: fc.constantFrom('a', 'b', 'c'),
    value: fc.constantFrom('x', 'y'), step: fc.integer({ min: -300, max: 700 }),
  }) },
  { weight: 1, arbitrary: fc.constant('noop' as const) },
  { weight: 1, arbitrary: fc.constant('garbage' as const) },
);

/** The log entries of the draws, stamped with a clock that mostly moves forward (a step back models a lagging new leader). */
function buildLog(draws: readonly Draw[]): ReplicatedEntry[] {
  let at = 1_000;
  let term = 1;
  return draws.map((d, i) => {
    const index = i + 1;
    if (i % 7 === 6) term++; // an occasional new leader
    if (d === 'noop') return { index, term, data: null };
    if (d === 'garbage') return { index, term, data: new TextEncoder().encode('{"at_ms":"soon"}') };
    const r = d;
    at = Math.max(0, at + r.step);
    const request_id = `r${r.id}`;
    const command = r.op === 'put' ? { op: 'put', request_id, key: r.key, value: r.value } : r.op === 'delete' ? { op: 'delete', request_id, key: r.key } : { op: 'get', key: r.key };
    return { index, term, data: stampCommand(command as KvRequest, at) };
  });
}

describe('TtlDedupeKv replicas', () => {
  it('produce identical answers, snapshots and state hashes from the same entries', () => {
    const codes = new Set<string>();
    fc.assert(fc.property(fc.array(entryData, { maxLength: 60 }), (draws) => {
      const entries = buildLog(draws);
      const one = new TtlDedupeKv({ ttlMs: TTL, tombstoneCapacity: 3 });
      const two = new TtlDedupeKv({ ttlMs: TTL, tombstoneCapacity: 3 });
      for (const entry of entries) {
        const answer = one.apply(entry);
        expect(two.apply(entry)).toEqual(answer);
        if (answer !== null && !answer.ok) codes.add(answer.code);
      }
      expect(two.snapshot()).toEqual(one.snapshot());
      expect(two.stateHash()).toBe(one.stateHash());
    }), { numRuns: 200 });
    // The draws reach every path that could diverge: expiry, reuse, refusals and garbage.
    expect([...codes].sort()).toEqual(['E_DEDUPE_EXPIRED', 'E_KV_NOT_FOUND', 'E_KV_REQUEST_ID_REUSED', 'E_STAMP_MALFORMED']);
  });

  it('keep the dedupe table and its TTLs across a snapshot and restore at any point', () => {
    fc.assert(fc.property(fc.array(entryData, { minLength: 1, maxLength: 60 }), fc.nat(), (draws, cutAt) => {
      const entries = buildLog(draws);
      const cut = cutAt % (entries.length + 1);
      const whole = new TtlDedupeKv({ ttlMs: TTL, tombstoneCapacity: 3 });
      const restored = new TtlDedupeKv({ ttlMs: TTL, tombstoneCapacity: 3 });
      for (const entry of entries.slice(0, cut)) whole.apply(entry);
      const bytes = whole.snapshot();
      restored.restore({ index: whole.appliedIndex, term: 1, data: bytes });
      expect(restored.snapshot()).toEqual(bytes);
      for (const entry of entries.slice(cut)) expect(restored.apply(entry)).toEqual(whole.apply(entry));
      expect(restored.stateHash()).toBe(whole.stateHash());
    }), { numRuns: 200 });
  });

  it('negative control: a replica that expires by its own clock diverges from one that uses the stamps', () => {
    const l = log();
    const entries = [l.stamped(put('w1', 'k', 'one'), 0), l.stamped(put('w2', 'k', 'two'), 10), l.stamped(put('w1', 'k', 'one'), 20)];
    const stamped = new TtlDedupeKv({ ttlMs: TTL });
    const answers = entries.map((e) => stamped.apply(e));
    // The same entries, re-stamped as if a slow replica read its own wall clock 2 s later for the retry.
    const local = new TtlDedupeKv({ ttlMs: TTL });
    const skewed = entries.map((e, i) => (i === 2 ? { ...e, data: stampCommand(parseStampedCommand(e.data as Uint8Array).command as KvRequest, 2_020) } : e));
    const localAnswers = skewed.map((e) => local.apply(e));
    expect(answers[2]).toMatchObject({ ok: true });
    expect(localAnswers[2]).toMatchObject({ code: 'E_DEDUPE_EXPIRED' });
    expect(local.stateHash()).not.toBe(stamped.stateHash());
  });
});

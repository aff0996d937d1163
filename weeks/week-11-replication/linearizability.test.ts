/**
 * Tests of the linearizability checker: every published history with a known verdict
 * (Jepsen's etcd register logs and Porcupine's kv logs) gets that verdict; small
 * hand-made histories pin down the semantics (stale reads, concurrency, unknown
 * outcomes, per-key parts); the parsers refuse malformed lines with a code; and two
 * properties over seeded random histories (FC_SEED, default 11011): a history generated
 * from a real map with a known linearization is always `ok`, and a read of a value never
 * written makes it `illegal`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../lib/testing.ts';
import { parseJepsenEtcdHistory, parseKvHistory } from './history_formats.ts';
import {
  checkOperations, createKvModel, kvModel, registerModel,
  type KvInput, type KvOutput, type Operation, type RegisterInput, type RegisterOutput,
} from './linearizability.ts';

const SEED = Number(process.env.FC_SEED ?? 11011);
// The published vectors, copied into testdata/ with their manifest (origin, commit, licence).
const VECTORS = fileURLToPath(new URL('./testdata/linearizability/', import.meta.url));
const manifest = JSON.parse(readFileSync(`${VECTORS}manifest.json`, 'utf8')) as { histories: { file: string; linearizable: boolean | null }[] };
/** Porcupine's kv logs read a never-written key as "". */
const vectorKv = createKvModel({ initial: '' });
const INF = Number.POSITIVE_INFINITY;

/** A KV operation; `output` undefined means unknown (null output, returning at +Infinity). */
function kv(input: KvInput, call: number, ret: number, output?: string | null, client = 0): Operation<KvInput, KvOutput> {
  return output === undefined ? { client, input, call, output: null, ret: INF } : { client, input, call, output: { value: output }, ret };
}
const get = (key: string): KvInput => ({ op: 'get', key });
const put = (key: string, value: string): KvInput => ({ op: 'put', key, value });
const append = (key: string, value: string): KvInput => ({ op: 'append', key, value });

/** A register operation; `output` undefined means unknown. */
function reg(input: RegisterInput, call: number, ret: number, output?: number | null): Operation<RegisterInput, RegisterOutput> {
  return output === undefined ? { client: 0, input, call, output: null, ret: INF } : { client: 0, input, call, output: { value: output }, ret };
}

describe('published vectors', () => {
  const known = manifest.histories.filter((h) => h.linearizable !== null);

  it('holds 102 jepsen etcd histories and 6 kv histories with a verdict', () => {
    expect(known.filter((h) => h.file.startsWith('jepsen-etcd/'))).toHaveLength(102);
    expect(known.filter((h) => h.file.startsWith('kv/'))).toHaveLength(6);
  });

  it.each(known)('$file is linearizable: $linearizable', ({ file, linearizable }) => {
    const text = readFileSync(`${VECTORS}${file}`, 'utf8');
    const result = file.startsWith('kv/') ? checkOperations(vectorKv, parseKvHistory(text)) : checkOperations(registerModel, parseJepsenEtcdHistory(text));
    expect(result.verdict).toBe(linearizable === true ? 'ok' : 'illegal');
    if (result.verdict === 'illegal') {
      expect(result.partition).toBeGreaterThanOrEqual(0);
      expect(result.prefix?.every((i) => i >= 0)).toBe(true);
    }
  });

  it('splits a kv history into one part per key', () => {
    const result = checkOperations(vectorKv, parseKvHistory(readFileSync(`${VECTORS}kv/c10-ok.txt`, 'utf8')));
    expect(result).toMatchObject({ verdict: 'ok', partitions: 10 });
  });

  it('answers unknown when the step budget runs out, and never spends more', () => {
    const history = parseJepsenEtcdHistory(readFileSync(`${VECTORS}jepsen-etcd/etcd_002.log`, 'utf8'));
    const result = checkOperations(registerModel, history, { maxSteps: 1000 });
    expect(result.verdict).toBe('unknown');
    expect(result.explored).toBe(1000);
    expect(checkOperations(registerModel, history).verdict).toBe('ok');
  });
});

describe('hand-made KV histories', () => {
  it('finds a stale read after a completed write illegal, naming the write as the longest prefix', () => {
    const result = checkOperations(kvModel, [kv(put('x', '1'), 1, 2, null), kv(get('x'), 3, 4, null)]);
    expect(result).toMatchObject({ verdict: 'illegal', partitions: 1, partition: 0, prefix: [0] });
  });

  it('accepts a read concurrent with a write in both orders, and nothing else', () => {
    for (const [seen, verdict] of [[null, 'ok'], ['1', 'ok'], ['2', 'illegal']] as const) {
      expect(checkOperations(kvModel, [kv(put('x', '1'), 1, 4, null), kv(get('x'), 2, 3, seen)]).verdict, String(seen)).toBe(verdict);
    }
  });

  it('treats operations that touch (a return and a call at one instant) as concurrent', () => {
    expect(checkOperations(kvModel, [kv(put('x', '1'), 1, 2, null), kv(get('x'), 2, 3, null)]).verdict).toBe('ok');
  });

  it('accepts an unknown-outcome write that must have happened, and refuses the read without it', () => {
    const read = kv(get('x'), 2, 3, '1');
    expect(checkOperations(kvModel, [kv(put('x', '1'), 1, INF), read]).verdict).toBe('ok');
    expect(checkOperations(kvModel, [read]).verdict).toBe('illegal');
  });

  it('accepts an unknown-outcome write that must not have happened (yet, or ever)', () => {
    const write = kv(put('x', '1'), 1, INF);
    expect(checkOperations(kvModel, [write, kv(get('x'), 2, 3, null)]).verdict).toBe('ok');
    expect(checkOperations(kvModel, [write, kv(get('x'), 2, 3, null), kv(get('x'), 4, 5, '1')]).verdict).toBe('ok');
  });

  it('refuses a write of unknown outcome that is seen and then unseen', () => {
    expect(checkOperations(kvModel, [kv(put('x', '1'), 1, INF), kv(get('x'), 2, 3, '1'), kv(get('x'), 4, 5, null)]).verdict).toBe('illegal');
  });

  it('refuses a read explained only by a write called after the read returned', () => {
    expect(checkOperations(kvModel, [kv(get('x'), 1, 2, '1'), kv(put('x', '1'), 3, INF)]).verdict).toBe('illegal');
  });

  it('treats any null output as unknown, whatever its return time says', () => {
    const write: Operation<KvInput, KvOutput> = { client: 0, input: put('x', '1'), call: 1, output: null, ret: 2 };
    expect(checkOperations(kvModel, [write, kv(get('x'), 3, 4, null), kv(get('x'), 5, 6, '1')]).verdict).toBe('ok');
  });

  it('leaves out reads of unknown outcome', () => {
    const result = checkOperations(kvModel, [kv(put('x', '1'), 1, 2, null), kv(get('y'), 1, INF)]);
    expect(result).toMatchObject({ verdict: 'ok', partitions: 1 });
  });

  it('appends onto an absent key as onto the empty string, and tells absent from empty', () => {
    expect(checkOperations(kvModel, [kv(append('x', 'a'), 1, 2, null), kv(append('x', 'b'), 3, 4, null), kv(get('x'), 5, 6, 'ab')]).verdict).toBe('ok');
    expect(checkOperations(kvModel, [kv(get('x'), 1, 2, '')]).verdict).toBe('illegal');
    expect(checkOperations(vectorKv, [kv(get('x'), 1, 2, '')]).verdict).toBe('ok');
    expect(checkOperations(vectorKv, [kv(get('x'), 1, 2, null)]).verdict).toBe('illegal');
  });

  it('checks keys apart and reports the illegal one with history indexes', () => {
    const history = [kv(put('a', '1'), 1, 2, null), kv(put('b', '1'), 3, 4, null), kv(get('a'), 5, 6, '1'), kv(get('b'), 7, 8, '2')];
    expect(checkOperations(kvModel, history)).toMatchObject({ verdict: 'illegal', partitions: 2, partition: 1, prefix: [1] });
  });

  it('accepts the empty history', () => {
    expect(checkOperations(kvModel, [])).toMatchObject({ verdict: 'ok', partitions: 0 });
  });

  it('throws a RangeError for an operation that returns before its call', () => {
    expect(() => checkOperations(kvModel, [kv(get('x'), 5, 4, null)])).toThrow(RangeError);
  });
});

describe('hand-made register histories', () => {
  const write = (value: number): RegisterInput => ({ f: 'write', value });
  const cas = (from: number, to: number): RegisterInput => ({ f: 'cas', from, to });
  const read: RegisterInput = { f: 'read' };

  it('applies a successful cas only when the register holds its expected value', () => {
    expect(checkOperations(registerModel, [reg(write(1), 1, 2, null), reg(cas(1, 2), 3, 4, null), reg(read, 5, 6, 2)]).verdict).toBe('ok');
    expect(checkOperations(registerModel, [reg(write(1), 1, 2, null), reg(cas(1, 2), 3, 4, null), reg(read, 5, 6, 1)]).verdict).toBe('illegal');
    expect(checkOperations(registerModel, [reg(write(1), 1, 2, null), reg(cas(3, 4), 3, 4, null)]).verdict).toBe('illegal');
  });

  it('lets a cas of unknown outcome apply or not', () => {
    for (const seen of [1, 2]) {
      expect(checkOperations(registerModel, [reg(write(1), 1, 2, null), reg(cas(1, 2), 3, INF), reg(read, 5, 6, seen)]).verdict).toBe('ok');
    }
    expect(checkOperations(registerModel, [reg(write(1), 1, 2, null), reg(cas(1, 2), 3, INF), reg(read, 5, 6, 3)]).verdict).toBe('illegal');
  });

  it('starts absent: a first read returns nil', () => {
    expect(checkOperations(registerModel, [reg(read, 1, 2, null)]).verdict).toBe('ok');
    expect(checkOperations(registerModel, [reg(read, 1, 2, 0)]).verdict).toBe('illegal');
  });
});

describe('history parsers', () => {
  const KV_TEXT = [
    '{:process 0, :type :invoke, :f :put, :key "k", :value "a"}',
    '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
    '{:process 0, :type :ok, :f :put, :key "k", :value "a"}',
    '{:process 1, :type :ok, :f :get, :key "k", :value "a\\"b"}',
    '',
    '{:process 2, :type :invoke, :f :append, :key "k", :value "c"}',
    '{:process 3, :type :invoke, :f :put, :key "k", :value "d"}',
    '{:process 3, :type :fail, :f :put, :key "k", :value "d"}',
    '{:process 4, :type :invoke, :f :put, :key "k", :value "e"}',
    '{:process 4, :type :info, :f :put, :key "k", :value "e"}',
  ].join('\r\n');

  it('reads a kv log: line numbers as times, fail left out, info and a missing return unknown', () => {
    expect(parseKvHistory(KV_TEXT)).toEqual([
      { client: 0, input: put('k', 'a'), call: 1, output: { value: null }, ret: 3 },
      { client: 1, input: get('k'), call: 2, output: { value: 'a"b' }, ret: 4 },
      { client: 2, input: append('k', 'c'), call: 6, output: null, ret: INF },
      { client: 4, input: put('k', 'e'), call: 9, output: null, ret: INF },
    ]);
  });

  it('reads a jepsen etcd log with tabs or spaces; a failed cas is left out', () => {
    const lines = [
      ['0', ':invoke', ':write', '3'], ['1', ':invoke', ':cas', '[3 4]'], ['0', ':ok', ':write', '3'],
      ['1', ':fail', ':cas', '[3 4]'], ['2', ':invoke', ':read', 'nil'], ['2', ':ok', ':read', '3'],
      ['3', ':invoke', ':cas', '[3 5]'], ['3', ':info', ':cas', ':timed-out'], ['4', ':invoke', ':read', 'nil'],
      ['4', ':fail', ':read', ':timed-out'], ['5', ':invoke', ':read', 'nil'], ['5', ':ok', ':read', 'nil'],
    ];
    const expected = [
      { client: 0, input: { f: 'write', value: 3 }, call: 1, output: { value: null }, ret: 3 },
      { client: 2, input: { f: 'read' }, call: 5, output: { value: 3 }, ret: 6 },
      { client: 3, input: { f: 'cas', from: 3, to: 5 }, call: 7, output: null, ret: INF },
      { client: 5, input: { f: 'read' }, call: 11, output: { value: null }, ret: 12 },
    ];
    for (const sep of ['\t', '   ']) {
      expect(parseJepsenEtcdHistory(lines.map((l) => `INFO  jepsen.util - ${l.join(sep)}`).join('\n'))).toEqual(expected);
    }
  });

  const kvLine = (p: number, type: string, f: string, key: string, value: string) => `{:process ${p}, :type :${type}, :f :${f}, :key ${key}, :value ${value}}`;
  const KV_MALFORMED: [string, string[]][] = [
    ['a line that is no event', ['hello']],
    ['an unknown function', [kvLine(0, 'invoke', 'cas', '"k"', '"v"')]],
    ['an unknown escape', [kvLine(0, 'invoke', 'put', '"k"', '"\\q"')]],
    ['a get invoked with a value', [kvLine(0, 'invoke', 'get', '"k"', '"v"')]],
    ['a put invoked without a value', [kvLine(0, 'invoke', 'put', '"k"', 'nil')]],
    ['a return with nothing open', [kvLine(0, 'ok', 'get', '"k"', '"v"')]],
    ['a second invoke of one process', [kvLine(0, 'invoke', 'get', '"k"', 'nil'), kvLine(0, 'invoke', 'get', '"k"', 'nil')]],
    ['a return of another function', [kvLine(0, 'invoke', 'get', '"k"', 'nil'), kvLine(0, 'ok', 'put', '"k"', '"v"')]],
    ['a return for another key', [kvLine(0, 'invoke', 'get', '"k"', 'nil'), kvLine(0, 'ok', 'get', '"j"', '"v"')]],
    ['a put returning another value', [kvLine(0, 'invoke', 'put', '"k"', '"v"'), kvLine(0, 'ok', 'put', '"k"', '"w"')]],
    ['trailing text', [`${kvLine(0, 'invoke', 'get', '"k"', 'nil')} x`]],
  ];
  it.each(KV_MALFORMED)('refuses a kv log with %s: E_LIN_HISTORY_MALFORMED', (_, lines) => {
    expect(thrownCode(() => parseKvHistory(lines.join('\n')))).toBe('E_LIN_HISTORY_MALFORMED');
  });

  const j = (p: number, type: string, f: string, value: string) => `INFO  jepsen.util - ${p}\t:${type}\t:${f}\t${value}`;
  const JEPSEN_MALFORMED: [string, string[]][] = [
    ['another logger', ['INFO  jepsen.core - 0\t:invoke\t:read\tnil']],
    ['a read invoked with a value', [j(0, 'invoke', 'read', '3')]],
    ['a write invoked with nil', [j(0, 'invoke', 'write', 'nil')]],
    ['a cas with one number', [j(0, 'invoke', 'cas', '[3]')]],
    ['a number beyond 2^53', [j(0, 'invoke', 'write', '99999999999999999999')]],
    ['a write returning another value', [j(0, 'invoke', 'write', '3'), j(0, 'ok', 'write', '4')]],
    ['a cas returning other arguments', [j(0, 'invoke', 'cas', '[3 4]'), j(0, 'ok', 'cas', '[3 5]')]],
    ['a read returning :timed-out as ok', [j(0, 'invoke', 'read', 'nil'), j(0, 'ok', 'read', ':timed-out')]],
  ];
  it.each(JEPSEN_MALFORMED)('refuses a jepsen etcd log with %s: E_LIN_HISTORY_MALFORMED', (_, lines) => {
    expect(thrownCode(() => parseJepsenEtcdHistory(lines.join('\n')))).toBe('E_LIN_HISTORY_MALFORMED');
  });

  it('refuses the first bad line even after good ones (negative control: the good prefix parses)', () => {
    const good = [j(0, 'invoke', 'read', 'nil'), j(0, 'ok', 'read', 'nil')];
    expect(parseJepsenEtcdHistory(good.join('\n'))).toHaveLength(1);
    expect(thrownCode(() => parseJepsenEtcdHistory([...good, 'junk'].join('\n')))).toBe('E_LIN_HISTORY_MALFORMED');
  });
});

describe('properties of random KV histories', () => {
  const command = fc.record({
    op: fc.constantFrom('get', 'put', 'append'),
    key: fc.constantFrom('a', 'b', 'c'),
    value: fc.stringMatching(/^[xyz]{1,3}$/),
    client: fc.nat({ max: 4 }),
  });

  /** Runs commands on a real Map in order, returning each command's output. */
  function runSequentially(commands: readonly { op: string; key: string; value: string }[]): (string | null)[] {
    const map = new Map<string, string>();
    return commands.map((c) => {
      if (c.op === 'get') return map.get(c.key) ?? null;
      map.set(c.key, c.op === 'put' ? c.value : (map.get(c.key) ?? '') + c.value);
      return null;
    });
  }
  const inputOf = (c: { op: string; key: string; value: string }): KvInput => (c.op === 'get' ? get(c.key) : { op: c.op as 'put' | 'append', key: c.key, value: c.value });

  it('finds a sequential run of a real map ok, and illegal once one read returns a value never written', () => {
    const timed = fc.array(fc.record({ command, gap: fc.integer({ min: 1, max: 5 }), length: fc.integer({ min: 0, max: 5 }) }), { maxLength: 40 });
    fc.assert(fc.property(timed, fc.nat(), (ops, pick) => {
      const outputs = runSequentially(ops.map((o) => o.command));
      let t = 0;
      const history = ops.map((o, i) => {
        const call = t + o.gap;
        t = call + o.length;
        return kv(inputOf(o.command), call, t, outputs[i] ?? null, o.command.client);
      });
      expect(checkOperations(kvModel, history).verdict).toBe('ok');
      const reads = history.flatMap((o, i) => (o.input.op === 'get' ? [i] : []));
      if (reads.length === 0) return;
      const target = reads[pick % reads.length] as number;
      const tampered = history.map((o, i) => (i === target ? { ...o, output: { value: 'never' } } : o));
      expect(checkOperations(kvModel, tampered)).toMatchObject({ verdict: 'illegal' });
    }), { seed: SEED, numRuns: 200 });
  });

  it('finds a concurrent history ok when each operation took effect at some instant inside its interval', () => {
    // Operation i takes effect at 10i + 5; its call and return lie up to 30 units either
    // side, so up to seven operations overlap. Some lose their return (unknown outcome).
    const spread = fc.array(fc.record({
      command, before: fc.integer({ min: 0, max: 30 }), after: fc.integer({ min: 0, max: 30 }), lost: fc.integer({ min: 0, max: 9 }),
    }), { maxLength: 30 });
    fc.assert(fc.property(spread, (ops) => {
      const outputs = runSequentially(ops.map((o) => o.command));
      const history = ops.map((o, i) => {
        const point = 10 * i + 5;
        return o.lost === 0 ? kv(inputOf(o.command), point - o.before, INF) : kv(inputOf(o.command), point - o.before, point + o.after, outputs[i] ?? null, o.command.client);
      });
      expect(checkOperations(kvModel, history).verdict).toBe('ok');
    }), { seed: SEED, numRuns: 200 });
  });
});

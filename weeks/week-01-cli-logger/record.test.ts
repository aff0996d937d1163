import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRecord, formatRecord, parseRecordLine, recordToJson, type LogRecord } from './record.ts';
import { thrownCode } from './thrown_code.ts';

const enc = new TextEncoder();
const base: LogRecord = { ts: '2026-01-01T00:00:00.000Z', id: 'r-000001', level: 'info', msg: 'hello' };

const recordArb: fc.Arbitrary<LogRecord> = fc.record({
  ts: fc.integer({ min: 0, max: 4102444800000 }).map((ms) => new Date(ms).toISOString()),
  id: fc.string({ minLength: 1, maxLength: 40 }),
  level: fc.constantFrom('debug', 'info', 'warn', 'error'),
  msg: fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }),
  request_id: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  fields: fc.option(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/).filter((k) => !['ts', 'id', 'level', 'msg', 'request_id'].includes(k)),
    fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null)), { minKeys: 1, maxKeys: 4 }), { nil: undefined }),
}, { requiredKeys: ['ts', 'id', 'level', 'msg'] });

describe('record format', () => {
  it('round-trips every well-formed record through encode and parse', () => {
    fc.assert(fc.property(recordArb, (record) => {
      const line = encodeRecord(record, 1 << 20);
      expect(line.at(-1)).toBe(0x0a);
      expect(line.slice(0, -1).includes(0x0a)).toBe(false);
      const back = parseRecordLine(line.subarray(0, -1), 1);
      expect(recordToJson(back)).toBe(recordToJson(record));
    }));
  });

  it('encodes equal records to equal bytes whatever the field insertion order', () => {
    const a = encodeRecord({ ...base, fields: { zeta: 1, alpha: 'x' } });
    const b = encodeRecord({ ...base, fields: { alpha: 'x', zeta: 1 } });
    expect(a).toEqual(b);
  });

  it('counts bytes, not characters, against the limit', () => {
    const overhead = encodeRecord({ ...base, msg: 'x' }).length - 1;
    const max = overhead + 4;
    expect(encodeRecord({ ...base, msg: 'éé' }, max).length).toBe(max); // 2 chars, 4 bytes
    expect(thrownCode(() => encodeRecord({ ...base, msg: 'ééx' }, max))).toBe('E_RECORD_TOO_LARGE');
  });

  it('refuses a lone surrogate in any text field', () => {
    expect(thrownCode(() => encodeRecord({ ...base, msg: 'a\uD800b' }))).toBe('E_RECORD_ENCODING');
    expect(thrownCode(() => encodeRecord({ ...base, request_id: '\uDC00' }))).toBe('E_RECORD_ENCODING');
    expect(thrownCode(() => encodeRecord({ ...base, msg: '\uD83D\uDE00' }))).toBeUndefined();
  });

  describe('when a line is not a record', () => {
    const cases: [string, string | Uint8Array][] = [
      ['not JSON', '{"ts":'],
      ['an array', '[1,2]'],
      ['a bare string', '"hello"'],
      ['missing ts', '{"id":"a","level":"info","msg":"m"}'],
      ['a local-time ts', '{"ts":"2026-01-01T00:00:00+01:00","id":"a","level":"info","msg":"m"}'],
      ['an unknown level', '{"ts":"2026-01-01T00:00:00.000Z","id":"a","level":"loud","msg":"m"}'],
      ['an empty msg', '{"ts":"2026-01-01T00:00:00.000Z","id":"a","level":"info","msg":""}'],
      ['a numeric request_id', '{"ts":"2026-01-01T00:00:00.000Z","id":"a","level":"info","msg":"m","request_id":7}'],
      ['a nested field', '{"ts":"2026-01-01T00:00:00.000Z","id":"a","level":"info","msg":"m","x":{"y":1}}'],
      ['a bad field name', '{"ts":"2026-01-01T00:00:00.000Z","id":"a","level":"info","msg":"m","Bad-Name":1}'],
      ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0x7d])],
    ];
    it.each(cases)('throws E_LOG_CORRUPT for %s', (_, line) => {
      const bytes = typeof line === 'string' ? enc.encode(line) : line;
      expect(thrownCode(() => parseRecordLine(bytes, 7))).toBe('E_LOG_CORRUPT');
    });
  });

  it('formats one record as one terminal line even when the message has newlines', () => {
    const line = formatRecord({ ...base, msg: 'two\nlines\u001b[31m', request_id: 'q-1', fields: { node_id: 'n1', latency_ms: 12 } });
    expect(line).toBe('2026-01-01T00:00:00.000Z INFO  r-000001 two\\nlines\\u001b[31m request_id=q-1 node_id=n1 latency_ms=12');
    expect(line.includes('\n')).toBe(false);
  });
});

/**
 * The structured logger: week 1 records out, fields merged, levels filtered, and a
 * sink failure never reaching the caller.
 */
import { describe, expect, it } from 'vitest';
import { counterIds, steppingClock } from '../../lib/clock.ts';
import { parseRecordLine } from '../../lib/logger.ts';
import { createLogger, lineSink, memorySink, textSink } from './structured_log.ts';

const clock = () => steppingClock(Date.UTC(2026, 1, 2), 1000);

describe('createLogger', () => {
  it('makes week 1 records with the base fields, the call fields and the request id', () => {
    const memory = memorySink();
    const log = createLogger({ clock: clock(), ids: counterIds('L'), sink: memory.sink, fields: { node_id: 'n1' } });
    log.info('echo', { requestId: 'q-1', fields: { result: 'ok', latency_ms: 1.5, error_code: undefined } });
    expect(memory.records).toEqual([{
      ts: '2026-02-02T00:00:00.000Z', id: 'L-000001', level: 'info', msg: 'echo', request_id: 'q-1',
      fields: { node_id: 'n1', result: 'ok', latency_ms: 1.5 },
    }]);
  });

  it('child loggers add fields and share the sink', () => {
    const memory = memorySink();
    const log = createLogger({ clock: clock(), ids: counterIds('L'), sink: memory.sink, fields: { node_id: 'n1' } });
    log.child({ conn: 'c7' }).warn('connection closed', { fields: { reason: 'idle_timeout' } });
    expect(memory.records[0]?.fields).toEqual({ node_id: 'n1', conn: 'c7', reason: 'idle_timeout' });
  });

  it('skips records below the minimum level', () => {
    const memory = memorySink();
    const log = createLogger({ clock: clock(), ids: counterIds('L'), sink: memory.sink, minLevel: 'warn' });
    expect(log.info('quiet')).toBeUndefined();
    log.error('loud');
    expect(memory.records.map((r) => r.msg)).toEqual(['loud']);
  });

  it('counts and drops a record the sink refuses instead of throwing', () => {
    const log = createLogger({ clock: clock(), ids: counterIds('L'), sink: () => { throw new Error('disk full'); } });
    expect(log.info('lost')).toBeUndefined();
    expect(log.child({ a: 1 }).info('lost too')).toBeUndefined();
    expect(log.dropped).toBe(2);
  });

  it('writes lines that week 1\'s parser reads back, as bytes or as text', () => {
    const lines: Uint8Array[] = [];
    let text = '';
    for (const sink of [lineSink((line) => void lines.push(line)), textSink((t) => void (text += t))]) {
      createLogger({ clock: clock(), ids: counterIds('L'), sink }).info('hello', { requestId: 'q', fields: { n: 1 } });
    }
    const fromBytes = parseRecordLine((lines[0] as Uint8Array).subarray(0, -1), 1);
    const fromText = parseRecordLine(new TextEncoder().encode(text.trimEnd()), 1);
    expect(fromBytes).toEqual(fromText);
    expect(fromBytes).toMatchObject({ msg: 'hello', request_id: 'q', fields: { n: 1 } });
  });
});

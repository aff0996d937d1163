/**
 * The hash-bearing message and the version rule: old and new writers and readers,
 * in both directions, under both legacy policies.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { counterIds, steppingClock } from '../../lib/clock.ts';
import { createLogger, frameMessage, memorySink, parseMessage } from '../../lib/framing.ts';
import { thrownCode } from '../../lib/testing.ts';
import { frameHashedMessage, readHashedMessage } from './hashed_message.ts';
import { sha256Hex } from './sha256.ts';

const body = new TextEncoder().encode('hello, civic world');
const payloadOf = (frame: Uint8Array) => frame.subarray(4);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('version 2 on the wire', () => {
  it('writes a canonical header with the envelope field names and the body hash', () => {
    const payload = payloadOf(frameHashedMessage({ type: 'echo', requestId: 'c1-000001', body }));
    expect(text(payload)).toBe(`{"msg_type":"echo","payload_hash":"${sha256Hex(body)}","request_id":"c1-000001","version":2}\nhello, civic world`);
  });

  it('round-trips echo, echo_reply and error messages', () => {
    for (const message of [
      { type: 'echo' as const, requestId: 'a', body },
      { type: 'echo_reply' as const, requestId: 'b', body: new Uint8Array(0) },
      { type: 'error' as const, requestId: 'c', body, errorCode: 'E_HASH_MISMATCH' },
    ]) {
      const read = readHashedMessage(payloadOf(frameHashedMessage(message)));
      expect(read.message).toEqual(message);
      expect(read.version).toBe(2);
      expect(read.payloadHash).toBe(sha256Hex(message.body));
    }
  });

  it.each([
    ['a non-canonical header (whitespace)', (h: string) => h.replace('"version":2', '"version": 2')],
    ['a non-canonical header (order)', (h: string) => `{"version":2,${h.slice(1, -'"version":2}'.length - 1)}}`],
    ['an uppercase hash', (h: string) => h.replace(/"payload_hash":"([0-9a-f]+)"/, (_m, x: string) => `"payload_hash":"${x.toUpperCase()}"`)],
    ['an unknown field', (h: string) => h.replace('"version":2', '"version":2,"zz":1')],
    ['a duplicate field', (h: string) => h.replace('"request_id":"c1"', '"request_id":"forged","request_id":"c1"')],
    ['an unknown version', (h: string) => h.replace('"version":2', '"version":3')],
  ])('refuses %s with E_HASH_MALFORMED', (_name, edit) => {
    const payload = text(payloadOf(frameHashedMessage({ type: 'echo', requestId: 'c1', body })));
    const [header, rest] = [payload.slice(0, payload.indexOf('\n')), payload.slice(payload.indexOf('\n'))];
    expect(thrownCode(() => readHashedMessage(new TextEncoder().encode(edit(header) + rest)))).toBe('E_HASH_MALFORMED');
  });
});

// #region compat
describe('old and new interoperate by the version rule', () => {
  it('new reader, old message, legacy policy "accept": read as version 1 without a hash', () => {
    const read = readHashedMessage(payloadOf(frameMessage({ type: 'echo', requestId: 'old-1', body })), { legacy: 'accept' });
    expect(read).toEqual({ version: 1, message: { type: 'echo', requestId: 'old-1', body } });
  });

  it('new reader, old message, default policy "refuse": E_HASH_UNHASHED, audited', () => {
    const memory = memorySink();
    const logger = createLogger({ clock: steppingClock(0), ids: counterIds('a'), sink: memory.sink });
    const old = payloadOf(frameMessage({ type: 'echo', requestId: 'old-2', body }));
    expect(thrownCode(() => readHashedMessage(old, { logger }))).toBe('E_HASH_UNHASHED');
    expect(memory.records[0]).toMatchObject({ level: 'warn', request_id: 'old-2', fields: { error_code: 'E_HASH_UNHASHED', version: 1 } });
  });

  it('old reader, new message: week 2 refuses version 2 cleanly with E_MESSAGE_MALFORMED, never misreads it', () => {
    const fresh = payloadOf(frameHashedMessage({ type: 'echo', requestId: 'new-1', body }));
    expect(thrownCode(() => parseMessage(fresh))).toBe('E_MESSAGE_MALFORMED');
  });

  it('new writer, old peer: writing version 1 gives bytes week 2 reads exactly', () => {
    const frame = frameHashedMessage({ type: 'echo', requestId: 'down-1', body }, { version: 1 });
    expect(frame).toEqual(frameMessage({ type: 'echo', requestId: 'down-1', body }));
    expect(parseMessage(payloadOf(frame))).toEqual({ type: 'echo', requestId: 'down-1', body });
  });
});
// #endregion compat

it('limit of a bare hash: a changed request id is not detected (week 8 signs the header fields)', () => {
  const payload = payloadOf(frameHashedMessage({ type: 'echo', requestId: 'c1-000001', body }));
  const altered = new TextEncoder().encode(text(payload).replace('c1-000001', 'c1-000009'));
  expect(readHashedMessage(altered).message.requestId).toBe('c1-000009');
});

/**
 * The echo message format: round trips, the exact bytes of a request, and every way
 * a payload is refused as malformed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from './frame.ts';
import { coalesceParts, frameMessage, frameMessageParts, isRequestId, parseMessage, type EchoMessage } from './message.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('frameMessage', () => {
  it('writes the frame header, the JSON header line with fields in a fixed order, a newline, then the body', () => {
    const frame = frameMessage({ type: 'echo', requestId: 'c1-000001', body: text('hi') });
    const payload = '{"v":1,"type":"echo","request_id":"c1-000001"}\nhi';
    expect(new DataView(frame.buffer).getUint32(0)).toBe(payload.length);
    expect(new TextDecoder().decode(frame.subarray(4))).toBe(payload);
  });

  it('adds error_code to error messages only', () => {
    const frame = frameMessage({ type: 'error', requestId: 'none', errorCode: 'E_FRAME_OVERSIZE', body: text('too big') });
    expect(new TextDecoder().decode(frame.subarray(4))).toBe('{"v":1,"type":"error","request_id":"none","error_code":"E_FRAME_OVERSIZE"}\ntoo big');
    expect(() => frameMessage({ type: 'error', requestId: 'x', body: text('') })).toThrow(TypeError);
  });

  it('refuses a message whose payload would exceed the maximum with E_FRAME_OVERSIZE', () => {
    expect(() => frameMessage({ type: 'echo', requestId: 'r', body: new Uint8Array(100) }, 100)).toThrow(
      expect.objectContaining({ code: 'E_FRAME_OVERSIZE' }),
    );
  });

  it('round-trips any request id and body through the frame decoder and parser (property)', () => {
    const requestId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
    const type = fc.constantFrom<EchoMessage['type']>('echo', 'echo_reply');
    fc.assert(fc.property(requestId, type, fc.uint8Array({ maxLength: 300 }), (id, kind, body) => {
      const [payload] = new FrameDecoder().push(frameMessage({ type: kind, requestId: id, body }));
      expect(parseMessage(payload as Uint8Array)).toEqual({ type: kind, requestId: id, body });
    }), { seed: 2026 });
  });
});

describe('frameMessageParts and coalesceParts', () => {
  it('split a frame into a head and the uncopied body that together equal frameMessage', () => {
    const message: EchoMessage = { type: 'echo_reply', requestId: 'r-1', body: new Uint8Array(3000).fill(9) };
    const [head, body] = frameMessageParts(message);
    expect(body).toBe(message.body);
    expect(new Uint8Array([...head, ...body])).toEqual(frameMessage(message));
  });

  it('join runs of small parts and pass large ones through, keeping the byte order', () => {
    const small = (n: number, v: number) => new Uint8Array(n).fill(v);
    const big = new Uint8Array(4096).fill(7);
    const parts = [small(10, 1), small(20, 2), big, small(5, 3), new Uint8Array(0), small(6, 4)];
    const out = coalesceParts(parts);
    expect(out.map((p) => p.length)).toEqual([30, 4096, 11]);
    expect(out[1]).toBe(big);
    expect(new Uint8Array(out.flatMap((p) => [...p]))).toEqual(new Uint8Array(parts.flatMap((p) => [...p])));
  });
});

describe('isRequestId', () => {
  it.each(['a', 'c1-000001', '8ada5217-50d2-471b-829a-84cc5674a2ca', 'n1:q.7_x', 'x'.repeat(128)])('accepts %s', (id) => {
    expect(isRequestId(id)).toBe(true);
  });
  it.each(['', '-a', 'a b', 'a"b', 'é', 'x'.repeat(129)])('refuses %j', (id) => {
    expect(isRequestId(id)).toBe(false);
  });
});

describe('parseMessage', () => {
  const bad: readonly [string, Uint8Array][] = [
    ['an empty payload', new Uint8Array(0)],
    ['no newline in the first 1025 bytes', text('x'.repeat(2000))],
    ['a header that is not JSON', text('hello\nbody')],
    ['a header that is not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d, 0x0a])],
    ['a JSON array header', text('[1]\n')],
    ['another version', text('{"v":2,"type":"echo","request_id":"r"}\n')],
    ['an unknown type', text('{"v":1,"type":"ping","request_id":"r"}\n')],
    ['no request id', text('{"v":1,"type":"echo"}\n')],
    ['a request id with a space', text('{"v":1,"type":"echo","request_id":"a b"}\n')],
    ['an error without a code', text('{"v":1,"type":"error","request_id":"r"}\n')],
    ['a code on a request', text('{"v":1,"type":"echo","request_id":"r","error_code":"E_X"}\n')],
    ['an unknown header field', text('{"v":1,"type":"echo","request_id":"r","extra":1}\n')],
  ];
  it.each(bad)('refuses %s with E_MESSAGE_MALFORMED', (_, payload) => {
    expect(() => parseMessage(payload)).toThrow(expect.objectContaining({ code: 'E_MESSAGE_MALFORMED' }));
  });

  it('reads a header in another key order or with spaces the same way (the slow path)', () => {
    const fast = parseMessage(text('{"v":1,"type":"echo","request_id":"r"}\nx'));
    const slow = parseMessage(text('{ "request_id": "r", "type": "echo", "v": 1 }\nx'));
    expect(slow).toEqual(fast);
  });

  it('returns the body as a view of the payload, binary bytes untouched', () => {
    const payload = new Uint8Array([...text('{"v":1,"type":"echo","request_id":"r"}\n'), 0, 10, 255]);
    const message = parseMessage(payload);
    expect(message.body).toEqual(new Uint8Array([0, 10, 255]));
    expect(message.body.buffer).toBe(payload.buffer);
  });
});

/**
 * The task protocol: round trips, and refusals with E_MESSAGE_MALFORMED.
 */
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../lib/framing.ts';
import { encodeTaskAnswer, encodeTaskRequest, parseTaskAnswer, parseTaskRequest } from './task_message.ts';

const unframe = (frame: Uint8Array) => new FrameDecoder({ maxFrameBytes: 1 << 24 }).push(frame)[0] as Uint8Array;
const text = (s: string) => new TextEncoder().encode(s);

describe('the task protocol', () => {
  it('round-trips a request, a reply and a refusal with its retry hint and a drop with its stage', () => {
    const request = { requestId: 'r1', task: 'sha256' as const, arg: 3, priority: 'high' as const, timeoutMs: 500, body: text('abc') };
    expect(parseTaskRequest(unframe(encodeTaskRequest(request)))).toEqual(request);
    expect(parseTaskAnswer(unframe(encodeTaskAnswer({ type: 'task_reply', requestId: 'r1', body: text('x') })))).toEqual({ type: 'task_reply', requestId: 'r1', body: text('x') });
    const refusal = { type: 'error' as const, requestId: 'r2', errorCode: 'E_OVERLOADED', retryAfterMs: 1000, message: 'busy' };
    expect(parseTaskAnswer(unframe(encodeTaskAnswer(refusal)))).toEqual(refusal);
    const drop = { type: 'error' as const, requestId: 'r3', errorCode: 'E_DEADLINE_EXCEEDED', stage: 'queue' as const, message: 'late' };
    expect(parseTaskAnswer(unframe(encodeTaskAnswer(drop)))).toEqual(drop);
  });

  it.each([
    ['no header line', 'abc'],
    ['an unknown task', '{"v":1,"type":"task","request_id":"r","task":"mine","arg":1,"timeout_ms":5}\n'],
    ['an unknown field', '{"v":1,"type":"task","request_id":"r","task":"spin","arg":1,"timeout_ms":5,"x":1}\n'],
    ['a negative timeout', '{"v":1,"type":"task","request_id":"r","task":"spin","arg":1,"timeout_ms":-1}\n'],
    ['a fractional arg', '{"v":1,"type":"task","request_id":"r","task":"spin","arg":1.5,"timeout_ms":5}\n'],
    ['a bad priority', '{"v":1,"type":"task","request_id":"r","task":"spin","arg":1,"priority":"urgent","timeout_ms":5}\n'],
  ])('refuses a request with %s as E_MESSAGE_MALFORMED', (_why, payload) => {
    expect(() => parseTaskRequest(text(payload))).toThrow(expect.objectContaining({ code: 'E_MESSAGE_MALFORMED' }));
  });
});

/**
 * Unit tests of the echo handler: frames in, frames out, failures as error replies.
 */
import { describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES, frameMessage, parseMessage } from '../../lib/framing.ts';
import { echoHandler } from './handler.ts';

const context = { connectionId: 'c1', maxFrameBytes: 1024 };
const text = (s: string) => new TextEncoder().encode(s);
/** The payload of a whole frame. */
const payloadOf = (frame: Uint8Array) => frame.subarray(FRAME_HEADER_BYTES);

describe('echoHandler', () => {
  const echo = echoHandler();

  it('answers an echo with an echo_reply carrying the same id and body', () => {
    const result = echo(payloadOf(frameMessage({ type: 'echo', requestId: 'r1', body: text('hi') })), context);
    expect(result.requestId).toBe('r1');
    expect(result.frames).toHaveLength(1);
    expect(parseMessage(payloadOf(result.frames[0] as Uint8Array))).toMatchObject({ type: 'echo_reply', requestId: 'r1', body: text('hi') });
  });

  it('gives a keep-alive (empty payload) no reply', () => {
    expect(echo(new Uint8Array(0), context)).toEqual({ frames: [] });
  });

  it('answers a malformed payload, a reply sent as a request, and a reply too big to send with coded error replies', () => {
    const cases: [Uint8Array, string, string][] = [
      [text('not a message'), 'none', 'E_MESSAGE_MALFORMED'],
      [payloadOf(frameMessage({ type: 'echo_reply', requestId: 'r2', body: text('x') })), 'r2', 'E_MESSAGE_MALFORMED'],
      [payloadOf(frameMessage({ type: 'echo', requestId: 'r3', body: new Uint8Array(990) })), 'r3', 'E_FRAME_OVERSIZE'],
    ];
    for (const [payload, requestId, errorCode] of cases) {
      const result = echo(payload, context);
      expect(result).toMatchObject({ requestId, errorCode });
      expect(parseMessage(payloadOf(result.frames[0] as Uint8Array))).toMatchObject({ type: 'error', requestId, errorCode });
    }
  });
});

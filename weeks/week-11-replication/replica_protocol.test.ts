/**
 * Tests of the replica's wire shapes: the Raft message codec round-trips every message
 * (property), refuses malformed input with `E_RAFT_MESSAGE_MALFORMED`, base64url is
 * canonical, and replies carry the replica's stamp.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../lib/testing.ts';
import type { Message } from './raft_types.ts';
import { decodeBase64url, encodeBase64url } from '../../lib/signing.ts';
import { decodeRaftMessage, encodeRaftMessage, isStatusRequest, stampReply, statusRequest } from './replica_protocol.ts';

const utf8 = new TextEncoder();
const count = fc.nat({ max: 2 ** 40 });
const id = fc.constantFrom('n1', 'n2', 'node-a');
const bytes = fc.uint8Array({ maxLength: 64 });
const entry = fc.record({ index: count, term: count, data: fc.option(bytes, { nil: null }) });
const base = { from: id, to: id, term: count };
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ ...base, type: fc.constant('append' as const), prevIndex: count, prevTerm: count, entries: fc.array(entry, { maxLength: 5 }), commit: count }),
  fc.record({ ...base, type: fc.constant('append_reply' as const), success: fc.boolean(), prevIndex: count, matchIndex: count, conflictIndex: count, conflictTerm: count }),
  fc.record({ ...base, type: fc.constant('vote' as const), lastIndex: count, lastTerm: count }),
  fc.record({ ...base, type: fc.constant('vote_reply' as const), granted: fc.boolean() }),
  fc.record({ ...base, type: fc.constant('snapshot' as const), snapshot: fc.record({ index: count, term: count, data: bytes }) }),
  fc.record({ ...base, type: fc.constant('snapshot_reply' as const), matchIndex: count }),
);

describe('Raft message codec', () => {
  it('decodes exactly what it encoded, for every message type (property)', () => {
    fc.assert(fc.property(message, (m) => {
      expect(decodeRaftMessage(encodeRaftMessage(m))).toEqual(m);
    }), { seed: 11, numRuns: 300 });
  });

  it('answers any single-byte corruption with E_RAFT_MESSAGE_MALFORMED or a well-formed message, never a throw of another kind (property)', () => {
    fc.assert(fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, flip) => {
      const encoded = encodeRaftMessage(m);
      const damaged = encoded.slice();
      const i = at % damaged.length;
      damaged[i] = (damaged[i] as number) ^ flip;
      let decoded: Message | undefined;
      try {
        decoded = decodeRaftMessage(damaged);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('E_RAFT_MESSAGE_MALFORMED');
        return;
      }
      // A flip that survives decoding (whitespace, another digit) gives a message that round-trips.
      expect(decodeRaftMessage(encodeRaftMessage(decoded))).toEqual(decoded);
    }), { seed: 12, numRuns: 500 });
  });

  it.each([
    ['not JSON', 'hello'],
    ['an unknown type', '{"from":"n1","term":1,"to":"n2","type":"gossip"}'],
    ['a missing field', '{"from":"n1","term":1,"to":"n2","type":"vote","lastIndex":1}'],
    ['an extra field', '{"from":"n1","granted":true,"term":1,"to":"n2","type":"vote_reply","x":1}'],
    ['a negative term', '{"from":"n1","granted":true,"term":-1,"to":"n2","type":"vote_reply"}'],
    ['a fractional index', '{"from":"n1","lastIndex":1.5,"lastTerm":1,"term":1,"to":"n2","type":"vote"}'],
    ['a bad node id', '{"from":"N1","granted":true,"term":1,"to":"n2","type":"vote_reply"}'],
    ['non-canonical base64url', '{"commit":0,"entries":[{"data":"AB","index":1,"term":1}],"from":"n1","prevIndex":0,"prevTerm":0,"term":1,"to":"n2","type":"append"}'],
    ['a duplicate field', '{"from":"n1","granted":true,"granted":false,"term":1,"to":"n2","type":"vote_reply"}'],
  ])('refuses %s with E_RAFT_MESSAGE_MALFORMED', (_, text) => {
    expect(thrownCode(() => decodeRaftMessage(utf8.encode(text)))).toBe('E_RAFT_MESSAGE_MALFORMED');
  });
});

describe('base64url', () => {
  it('round-trips any bytes and accepts only the canonical spelling (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      const text = encodeBase64url(b);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(decodeBase64url(text)).toEqual(b);
    }), { seed: 13 });
    expect(decodeBase64url('AB')).toBeUndefined(); // unused bits set
    expect(decodeBase64url('AA==')).toBeUndefined(); // padding
  });
});

describe('client replies', () => {
  it('stamps the node and its current term, keeping an applied write\'s own term beside it', () => {
    const refusal = stampReply({ ok: false, request_id: 'r1', code: 'E_RAFT_UNCERTAIN', message: 'm' }, { term: 7, node: 'n2' });
    expect(refusal).toMatchObject({ term: 7, node: 'n2', node_term: 7 });
    const put = stampReply({ ok: true, op: 'put', request_id: 'r1', key: 'k', value: 'v', version: 1, term: 6, value_hash: 'h', lsn: 3 }, { term: 7, node: 'n2' });
    expect(put).toMatchObject({ term: 6, node: 'n2', node_term: 7 });
  });

  it('recognizes only the exact status query', () => {
    expect(isStatusRequest(statusRequest())).toBe(true);
    expect(isStatusRequest(utf8.encode('{"op": "status"}'))).toBe(false);
  });
});

/**
 * Tests of the signed peer transport over real loopback sockets: messages arrive intact,
 * a replayed, tampered, foreign-key or impersonating frame is dropped and counted (never
 * delivered), a restarted peer is redialed, and a full queue drops heartbeats first.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { encodeFrame } from '../../lib/framing.ts';
import { generateKey, KeyRing, loadSigner, NODE_BACKEND, readKeyRecords, type SyncSigner } from '../../lib/signing.ts';
import { makeWorkspace } from '../../lib/testing.ts';
import { PeerTransport, type PeerAddress } from './node_peer_transport.ts';
import type { Message } from './raft_types.ts';

const workspace = makeWorkspace('week11-transport');
afterAll(() => workspace.remove());
const nodeDir = workspace.fresh('node-keys');
const strangerDir = workspace.fresh('stranger-keys');
const signers = new Map<string, SyncSigner>();
let nodeKeys: KeyRing;
const open: PeerTransport[] = [];
afterAll(async () => {
  for (const t of open) await t.close();
});

beforeAll(async () => {
  for (const id of ['n1', 'n2', 'n3']) generateKey(nodeDir, id, { clock: systemClock });
  generateKey(strangerDir, 'n9', { clock: systemClock });
  for (const id of ['n1', 'n2', 'n3']) signers.set(id, await loadSigner(nodeDir, id, NODE_BACKEND, systemClock) as SyncSigner);
  signers.set('n9', await loadSigner(strangerDir, 'n9', NODE_BACKEND, systemClock) as SyncSigner);
  nodeKeys = KeyRing.createSync(NODE_BACKEND, readKeyRecords(nodeDir));
});

function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

async function start(id: string, peers: Map<string, PeerAddress>, options: { port?: number; maxQueue?: number; signer?: string } = {}) {
  const inbox: Message[] = [];
  const transport = await PeerTransport.start({
    id, listen: { host: '127.0.0.1', port: options.port ?? 0 }, peers, signer: signers.get(options.signer ?? id) as SyncSigner, nodeKeys,
    onMessage: (m) => inbox.push(m), maxQueue: options.maxQueue,
  });
  open.push(transport);
  return { transport, inbox };
}

function vote(from: string, to: string, term: number): Message {
  return { type: 'vote', from, to, term, lastIndex: 0, lastTerm: 0 };
}
function heartbeat(from: string, to: string, term: number): Message {
  return { type: 'append', from, to, term, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 };
}

async function sendRaw(port: number, frames: Uint8Array[]): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  for (const frame of frames) socket.write(frame);
  await new Promise<void>((resolve) => socket.end(resolve));
}

describe('PeerTransport', () => {
  it('delivers signed messages with entry bytes intact, in order', async () => {
    const b = await start('n2', new Map());
    const a = await start('n1', new Map([['n2', { host: '127.0.0.1', port: b.transport.port }]]));
    const append: Message = {
      type: 'append', from: 'n1', to: 'n2', term: 3, prevIndex: 0, prevTerm: 0, commit: 1,
      entries: [{ index: 1, term: 3, data: null }, { index: 2, term: 3, data: new Uint8Array([0, 255, 10, 13]) }],
    };
    a.transport.send(append);
    a.transport.send(vote('n1', 'n2', 4));
    await until(() => b.inbox.length === 2, 'two messages');
    expect(b.inbox).toEqual([append, vote('n1', 'n2', 4)]);
    expect(a.transport.stats.sent).toBe(2);
  });

  it('drops and counts a replayed, tampered, foreign-key or impersonating frame, delivering only the genuine one', async () => {
    const b = await start('n2', new Map());
    const a = await start('n1', new Map([['n2', { host: '127.0.0.1', port: 1 }]]));
    const stranger = await start('n9', new Map([['n2', { host: '127.0.0.1', port: 1 }]]));
    const genuine = a.transport.seal(vote('n1', 'n2', 5));
    const tampered = a.transport.seal(vote('n1', 'n2', 6));
    tampered[tampered.length - 3] = (tampered[tampered.length - 3] as number) ^ 1; // a byte of the payload: its hash no longer matches the signed one
    const impersonating = a.transport.seal(vote('n3', 'n2', 7)); // signed by n1, claims to be from n3
    const wrongRecipient = a.transport.seal(vote('n1', 'n3', 7));
    const foreign = stranger.transport.seal(vote('n9', 'n2', 8));
    await sendRaw(b.transport.port, [genuine, genuine, tampered, impersonating, wrongRecipient, foreign]);
    await until(() => Object.values(b.transport.stats.rejected).reduce((n, c) => n + c, 0) === 5, 'five refusals');
    expect(b.inbox).toEqual([vote('n1', 'n2', 5)]);
    expect(b.transport.stats.rejected).toEqual({ E_REPLAY: 1, E_SIG_INVALID: 1, E_RAFT_PEER_UNTRUSTED: 2, E_KEY_UNKNOWN: 1 });
  });

  it('cuts a connection whose frame header announces an oversized frame', async () => {
    const b = await start('n2', new Map());
    const header = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    await sendRaw(b.transport.port, [header, encodeFrame(new Uint8Array(3))]);
    await until(() => b.transport.stats.rejected['E_FRAME_OVERSIZE'] === 1, 'the oversize refusal');
    expect(b.inbox).toEqual([]);
  });

  it('redials a peer that restarts on the same port', async () => {
    const first = await start('n2', new Map());
    const port = first.transport.port;
    const a = await start('n1', new Map([['n2', { host: '127.0.0.1', port }]]));
    a.transport.send(vote('n1', 'n2', 1));
    await until(() => first.inbox.length === 1, 'the first message');
    await first.transport.close();
    const second = await start('n2', new Map(), { port });
    // Fire-and-forget: a message written into the dying connection is lost, so resend as Raft would.
    const resend = setInterval(() => a.transport.send(vote('n1', 'n2', 2)), 50);
    try {
      await until(() => second.inbox.some((m) => m.term === 2), 'a message after the restart');
    } finally {
      clearInterval(resend);
    }
    expect(a.transport.stats.connects).toBeGreaterThanOrEqual(2);
  });

  it('bounds the queue to an unreachable peer, dropping heartbeats before anything else', async () => {
    const a = await start('n1', new Map([['n2', { host: '127.0.0.1', port: 1 }]]), { maxQueue: 4 });
    a.transport.send(vote('n1', 'n2', 1));
    for (let i = 0; i < 10; i++) a.transport.send(heartbeat('n1', 'n2', 1));
    expect(a.transport.stats.queueDropped).toBe(7);
    // Now only non-heartbeats would go: the vote is still queued, so the next drop takes the oldest heartbeat.
    a.transport.send(vote('n1', 'n2', 2));
    expect(a.transport.stats.queueDropped).toBe(8);
  });
});

/**
 * The cluster client against fake replicas: small TCP servers that verify each signed
 * frame with a real week 8 verifier and answer from a script. They stand in for the
 * week 11 replica's wire behaviour (the peer under test), not for any of our own code.
 * The claims: a leader hint is followed at once, a timeout is retried elsewhere with the
 * same request id in a fresh envelope, a definite refusal ends it, a deposed leader's
 * answer is fenced, and the budget ends the rest.
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { FrameDecoder, encodeFrame } from '../../lib/framing.ts';
import { canonicalBytes, parseStrictJson } from '../../lib/hashing.ts';
import { KV_MSG_TYPE, MAX_KV_FRAME_BYTES, kvPayload, sendKvFrame } from '../../lib/kv.ts';
import { EnvelopeVerifier, KeyRing, NODE_BACKEND, NonceCache, encodeSignedMessage, formatKeyId, makeKeyRecord, signEnvelopeSync, type SignedEnvelope } from '../../lib/signing.ts';
import { ClusterClient, parseNodeAddress, type ClusterClientOptions } from './node_cluster_client.ts';

const secret = NODE_BACKEND.importSeed(new Uint8Array(32).fill(7));
const keyId = formatKeyId('client', 1);
const signer = { keyId, backend: NODE_BACKEND, secret };
const keys = KeyRing.createSync(NODE_BACKEND, [makeKeyRecord(keyId, secret.publicKey, Date.now() - 60_000)]);

/** What a fake node received in one frame. */
interface Received {
  readonly node: string;
  readonly signed: boolean;
  readonly envelope: SignedEnvelope | null;
  readonly command: Record<string, unknown>;
}

/** A scripted answer: a reply object, or a misbehaviour. */
type Answer = Record<string, unknown> | 'hang' | 'close' | Uint8Array;
type Script = (node: string, nth: number, command: Record<string, unknown>) => Answer;

interface FakeCluster {
  readonly addresses: Record<string, string>;
  readonly received: Received[];
  /** Connections each node accepted. */
  readonly accepted: Map<string, number>;
  close(): Promise<void>;
}

const opened: FakeCluster[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cluster) => cluster.close()));
});

/** Starts one fake replica per name, on ephemeral ports; every node shares one replay cache, as one client's nonces must be fresh cluster-wide. */
async function fakeCluster(names: readonly string[], script: Script): Promise<FakeCluster> {
  const verifier = new EnvelopeVerifier({ keys, replay: new NonceCache(), clock: systemClock });
  const received: Received[] = [];
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const addresses: Record<string, string> = {};
  const counts = new Map<string, number>();
  const accepted = new Map<string, number>();
  for (const name of names) {
    const server = createServer((socket) => {
      accepted.set(name, (accepted.get(name) ?? 0) + 1);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      const decoder = new FrameDecoder({ maxFrameBytes: MAX_KV_FRAME_BYTES });
      socket.on('data', async (chunk: Uint8Array) => {
        const [frame] = decoder.push(chunk);
        if (frame === undefined) return;
        const signed = frame.includes(0x0a);
        let envelope: SignedEnvelope | null = null;
        let payload = frame;
        if (signed) {
          try {
            ({ envelope, payload } = await verifier.verify(frame));
          } catch (error) {
            socket.write(encodeFrame(canonicalBytes({ ok: false, request_id: null, code: (error as { code: string }).code, message: 'refused', term: 1, node: name })));
            return;
          }
        }
        const command = parseStrictJson(payload) as Record<string, unknown>;
        received.push({ node: name, signed, envelope, command });
        const nth = (counts.get(name) ?? 0) + 1;
        counts.set(name, nth);
        const answer = script(name, nth, command);
        if (answer === 'hang') return;
        if (answer === 'close') socket.destroy();
        else socket.write(encodeFrame(answer instanceof Uint8Array ? answer : canonicalBytes(answer))); // kept open, as a replica does
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    addresses[name] = `127.0.0.1:${(server.address() as { port: number }).port}`;
    servers.push(server);
  }
  const cluster: FakeCluster = {
    addresses, received, accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
  opened.push(cluster);
  return cluster;
}

function client(cluster: FakeCluster, options: Partial<ClusterClientOptions> = {}): ClusterClient {
  return new ClusterClient({
    nodes: Object.values(cluster.addresses), signer, attemptTimeoutMs: 1000, connectTimeoutMs: 2000, // a hang costs a second; a loaded machine still answers in time
    sleep: async () => {}, random: () => 0.5, ...options,
  });
}

function ok(command: Record<string, unknown>, node: string, term: number): Record<string, unknown> {
  return { ok: true, op: command['op'], request_id: command['request_id'], key: command['key'], value: command['value'], version: 1, term, value_hash: 'h', lsn: 1, node };
}

const put = { op: 'put', request_id: 'req-42', key: 'k', value: 'v' } as const;

describe('ClusterClient', () => {
  it('sends one request after another on one kept connection, and opens a new one after a failure', async () => {
    const cluster = await fakeCluster(['n1'], (node, nth, command) => (nth === 3 ? 'close' : ok(command, node, 1)));
    const c = client(cluster);
    for (const id of ['a1', 'a2']) expect((await c.send({ ...put, request_id: id })).reply).toMatchObject({ ok: true });
    expect(cluster.accepted.get('n1')).toBe(1);
    const third = await c.send({ ...put, request_id: 'a3' }); // the node drops it, the retry reconnects
    expect(third.reply).toMatchObject({ ok: true });
    expect(third.trace.map((t) => t.code)).toEqual(['E_NET_CLOSED', null]);
    expect(cluster.accepted.get('n1')).toBe(2);
    c.close();
  });

  it('follows E_RAFT_NOT_LEADER to the hinted node at once and gets the answer there', async () => {
    let cluster: FakeCluster;
    cluster = await fakeCluster(['n1', 'n2', 'n3'], (node, _nth, command) => node === 'n3'
      ? ok(command, 'n3', 2)
      : { ok: false, request_id: command['request_id'], code: 'E_RAFT_NOT_LEADER', message: 'not leader', leader: 'n3', leader_addr: cluster.addresses['n3'], term: 2, node });
    const result = await client(cluster).send(put);
    expect(result.reply).toMatchObject({ ok: true, node: 'n3', term: 2, request_id: 'req-42' });
    expect(result.trace.map((t) => [t.replier, t.code, t.decision.action])).toEqual([['n1', 'E_RAFT_NOT_LEADER', 'retry'], ['n3', null, 'stop']]);
    expect(result.trace[0]?.decision).toMatchObject({ delayMs: 0, reason: 'leader_hint' });
  });

  it('retries a timeout at the next node with the same request id in a fresh signed envelope', async () => {
    const cluster = await fakeCluster(['n1', 'n2'], (node, _nth, command) => (node === 'n1' ? 'hang' : ok(command, 'n2', 1)));
    const result = await client(cluster).send(put);
    expect(result.reply).toMatchObject({ ok: true, node: 'n2' });
    expect(result.trace.map((t) => t.code)).toEqual(['E_NET_TIMEOUT', null]);
    const [first, second] = cluster.received;
    expect([first?.command['request_id'], second?.command['request_id'], first?.envelope?.request_id, second?.envelope?.request_id]).toEqual(['req-42', 'req-42', 'req-42', 'req-42']);
    expect(second?.command).toEqual(first?.command);
    expect(first?.envelope?.nonce).not.toBe(second?.envelope?.nonce); // the shared replay cache accepted both
  });

  it('negative control: the fake nodes refuse a resent envelope with E_REPLAY, so fresh envelopes are what the retry test sees', async () => {
    const cluster = await fakeCluster(['n1', 'n2'], (node, _nth, command) => ok(command, node, 1));
    const payload = kvPayload(put);
    const frame = encodeSignedMessage(signEnvelopeSync({ msgType: KV_MSG_TYPE, requestId: put.request_id, payload }, signer, { clock: systemClock }), payload);
    const port = (name: string) => parseNodeAddress(cluster.addresses[name] as string).port;
    expect(await sendKvFrame(port('n1'), frame)).toMatchObject({ ok: true });
    expect(await sendKvFrame(port('n2'), frame)).toMatchObject({ ok: false, code: 'E_REPLAY' });
  });

  it('gives up at once on a definite refusal and returns it as the answer', async () => {
    const cluster = await fakeCluster(['n1', 'n2'], (node, _nth, command) =>
      ({ ok: false, op: 'put', request_id: command['request_id'], key: 'k', code: 'E_KV_VERSION_CONFLICT', message: 'conflict', version: 3, term: 1, node }));
    const result = await client(cluster).send({ ...put, if_version: 1 });
    expect(result.reply).toMatchObject({ ok: false, code: 'E_KV_VERSION_CONFLICT' });
    expect(result.error).toBeNull();
    expect(cluster.received).toHaveLength(1);
  });

  it('fences the answer of a deposed leader that reports a term older than one already seen', async () => {
    let cluster: FakeCluster;
    cluster = await fakeCluster(['n1', 'n2', 'n3'], (node, nth, command) => {
      if (node === 'n1' && nth === 1) return { ok: false, request_id: command['request_id'], code: 'E_RAFT_NOT_LEADER', message: 'not leader', leader: 'n2', leader_addr: cluster.addresses['n2'], term: 4, node };
      if (node === 'n2' && nth === 1) return ok(command, 'n2', 4);
      if (node === 'n2') return 'hang'; //        the new leader is slow on the second request
      if (node === 'n3') return { ...ok(command, 'n3', 3), node_term: 3 }; // n3 was leader in term 3 and still answers
      return { ...ok(command, 'n1', 5), node_term: 5 }; //                     n1 has won term 5
    });
    const c = client(cluster);
    expect((await c.send(put)).reply).toMatchObject({ node: 'n2', term: 4 });
    const second = await c.send({ ...put, request_id: 'req-43' });
    expect(second.trace.map((t) => [t.replier, t.term, t.code])).toEqual([[null, null, 'E_NET_TIMEOUT'], ['n3', 3, 'E_FENCED_STALE_TERM'], ['n1', 5, null]]);
    expect(second.reply).toMatchObject({ ok: true, node: 'n1', term: 5 });
    expect(c.highestTerm).toBe(5);
  });

  it('fences a stale redirect and does not follow its hint to the old leader', async () => {
    let cluster: FakeCluster;
    cluster = await fakeCluster(['n1', 'n2', 'n3'], (node, nth, command) => {
      const notLeader = (term: number, hint: string) =>
        ({ ok: false, request_id: command['request_id'], code: 'E_RAFT_NOT_LEADER', message: 'not leader', leader: hint, leader_addr: cluster.addresses[hint], term, node });
      if (node === 'n1' && nth === 1) return notLeader(6, 'n2'); // term 6 seen
      if (node === 'n2') return notLeader(5, 'n1'); //              n2 lags in term 5 and names the old leader
      return { ...ok(command, node, 6), node_term: 6 };
    });
    const result = await client(cluster).send(put);
    expect(result.trace.map((t) => [t.replier, t.code, t.decision.action === 'retry' ? t.decision.node : null]))
      .toEqual([['n1', 'E_RAFT_NOT_LEADER', cluster.addresses['n2']], ['n2', 'E_FENCED_STALE_TERM', cluster.addresses['n3']], ['n3', null, null]]);
  });

  it('accepts a retry answered from dedupe whose entry term is older than terms seen since', async () => {
    // The write committed in term 2; its answer was lost; a new leader of term 4 returns the first answer.
    const cluster = await fakeCluster(['n1', 'n2'], (node, nth, command) => (node === 'n1' && nth === 1
      ? { ok: false, request_id: command['request_id'], code: 'E_RAFT_UNCERTAIN', message: 'leadership lost', term: 4, node }
      : ok(command, node, 2)));
    const result = await client(cluster).send(put);
    expect(result.trace.map((t) => t.code)).toEqual(['E_RAFT_UNCERTAIN', null]);
    expect(result.reply).toMatchObject({ ok: true, term: 2 });
  });

  it('sends a get unsigned, naming it with a request id for the trace', async () => {
    const cluster = await fakeCluster(['n1'], (node, _nth, command) => ({ ok: true, op: 'get', key: command['key'], value: 'v', version: 1, term: 1, value_hash: 'h', node }));
    const result = await client(cluster, { ids: { next: () => 'get-1' } }).send({ op: 'get', key: 'k' });
    expect(result.reply).toMatchObject({ ok: true, value: 'v' });
    expect(cluster.received[0]).toMatchObject({ signed: false, command: { op: 'get', key: 'k', request_id: 'get-1' } });
  });

  it('stops with E_CLIENT_REPLY_MALFORMED when a reply lacks its term', async () => {
    const cluster = await fakeCluster(['n1', 'n2'], () => ({ ok: true, op: 'put', node: 'n1' }));
    const result = await client(cluster).send(put);
    expect(result.error?.code).toBe('E_CLIENT_REPLY_MALFORMED');
    expect(cluster.received).toHaveLength(1);
  });

  it('gives up with E_CLIENT_RETRIES_EXHAUSTED, marked definite, when every node refuses the connection', async () => {
    const cluster = await fakeCluster(['n1', 'n2'], () => 'close');
    const dead = Object.values(cluster.addresses);
    await cluster.close();
    const result = await client(cluster, { nodes: dead, policy: { maxAttempts: 3, maxTotalMs: 60_000, baseDelayMs: 1, maxDelayMs: 2, maxHintHops: 1 } }).send(put);
    expect(result.error?.code).toBe('E_CLIENT_RETRIES_EXHAUSTED');
    expect(result.trace.map((t) => t.code)).toEqual(['E_NET_REFUSED', 'E_NET_REFUSED', 'E_NET_REFUSED']);
    expect(result.trace.at(-1)?.decision).toMatchObject({ action: 'stop', definite: true });
  });

  it('gives up with E_CLIENT_RETRIES_EXHAUSTED, not the last redirect, when no node knows a leader', async () => {
    const cluster = await fakeCluster(['n1', 'n2'], (node, _nth, command) =>
      ({ ok: false, request_id: command['request_id'], code: 'E_RAFT_NOT_LEADER', message: 'election under way', leader: null, leader_addr: null, term: 7, node }));
    const result = await client(cluster, { policy: { maxAttempts: 3, maxTotalMs: 60_000, baseDelayMs: 1, maxDelayMs: 2, maxHintHops: 1 } }).send(put);
    expect(result.reply).toBeNull();
    expect(result.error?.code).toBe('E_CLIENT_RETRIES_EXHAUSTED');
    expect(result.trace.map((t) => t.replier)).toEqual(['n1', 'n2', 'n1']);
    expect(result.trace.at(-1)?.decision).toMatchObject({ definite: true }); // every node refused before appending
  });

  it('retries a connection closed before the answer as indefinite, and gives up indefinite when it keeps happening', async () => {
    const cluster = await fakeCluster(['n1', 'n2'], () => 'close');
    const result = await client(cluster, { policy: { maxAttempts: 2, maxTotalMs: 60_000, baseDelayMs: 1, maxDelayMs: 2, maxHintHops: 1 } }).send(put);
    expect(result.trace.map((t) => t.code)).toEqual(['E_NET_CLOSED', 'E_NET_CLOSED']);
    expect(result.error?.code).toBe('E_CLIENT_RETRIES_EXHAUSTED');
    expect(result.trace.at(-1)?.decision).toMatchObject({ definite: false });
  });

  it('parses host:port addresses and refuses anything else with RangeError', () => {
    expect(parseNodeAddress('127.0.0.1:7001')).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(parseNodeAddress('[::1]:7001')).toEqual({ host: '::1', port: 7001 });
    for (const bad of ['localhost', ':80', 'h:0', 'h:70000']) expect(() => parseNodeAddress(bad), bad).toThrow(RangeError);
  });
});

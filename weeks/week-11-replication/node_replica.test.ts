/**
 * Tests of the replica in one process (three `Replica`s on loopback): a leader is elected,
 * a signed put through it is applied on every node, a follower redirects with
 * `E_RAFT_NOT_LEADER` and the leader's client address, reads go through the log, an
 * unsigned write is refused as in week 9, a retried request id gets its first answer, a
 * restarted node catches up from a compacted log, and a drain answers a late request
 * `E_RAFT_SHUTTING_DOWN` and one that can no longer commit `E_RAFT_UNCERTAIN`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { encodeFrame, FrameDecoder } from '../../lib/framing.ts';
import { kvPayload, MAX_KV_FRAME_BYTES, sendKvFrame, type KvRequest } from '../../lib/kv.ts';
import { encodeSignedMessage, loadSigner, NODE_BACKEND, signEnvelopeSync, type SyncSigner } from '../../lib/signing.ts';
import { makeWorkspace, thrownCode } from '../../lib/testing.ts';
import { Replica } from './node_replica.ts';
import { nodeOf, readClusterConfig, replicaOptions, writeCluster, type WrittenCluster } from './node_replica_main.ts';
import { statusRequest, type StatusReply } from './replica_protocol.ts';

const workspace = makeWorkspace('week11-replica');
let cluster: WrittenCluster;
let client: SyncSigner;
const replicas = new Map<string, Replica>();

async function startNode(id: string): Promise<Replica> {
  const replica = await Replica.start(await replicaOptions(cluster.config, id));
  replicas.set(id, replica);
  return replica;
}

beforeAll(async () => {
  cluster = await writeCluster(workspace.fresh('cluster'), { nodes: 3, tuning: { snapshot_every: 20 } });
  client = await loadSigner(cluster.clientKeyDir, 'client', NODE_BACKEND, systemClock) as SyncSigner;
  for (const node of cluster.config.nodes) await startNode(node.id);
});
afterAll(async () => {
  for (const replica of replicas.values()) await replica.close({ graceMs: 100 });
  workspace.remove();
});

function signed(request: KvRequest & { request_id: string }): Uint8Array {
  const payload = kvPayload(request);
  return encodeSignedMessage(signEnvelopeSync({ msgType: 'kv', requestId: request.request_id, payload }, client, { clock: systemClock }), payload);
}
function portOf(id: string): number {
  return replicas.get(id)?.clientPort as number;
}
async function send(id: string, frame: Uint8Array): Promise<Record<string, unknown>> {
  return await sendKvFrame(portOf(id), frame) as unknown as Record<string, unknown>;
}
async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
/** One connection, many requests: answers come back in request order. */
async function persistentClient(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new FrameDecoder({ maxFrameBytes: MAX_KV_FRAME_BYTES });
  const waiting: ((reply: Record<string, unknown>) => void)[] = [];
  socket.on('data', (chunk: Uint8Array) => {
    for (const frame of decoder.push(chunk)) waiting.shift()?.(JSON.parse(new TextDecoder().decode(frame)) as Record<string, unknown>);
  });
  socket.on('error', () => {});
  return {
    request(frame: Uint8Array): Promise<Record<string, unknown>> {
      socket.write(encodeFrame(frame, MAX_KV_FRAME_BYTES));
      return new Promise((resolve) => waiting.push(resolve));
    },
    close: () => socket.destroy(),
  };
}
async function statuses(): Promise<StatusReply[]> {
  return Promise.all([...replicas.keys()].map(async (id) => await send(id, statusRequest()) as unknown as StatusReply));
}
async function leader(): Promise<string> {
  return until(async () => {
    const all = await statuses();
    const leaders = all.filter((s) => s.role === 'leader');
    return leaders.length === 1 && all.every((s) => s.leader === leaders[0]?.node) ? leaders[0]?.node : undefined;
  }, 'one leader every node agrees on');
}
async function converged(): Promise<StatusReply[]> {
  return until(async () => {
    const all = await statuses();
    return all.every((s) => s.state_hash === all[0]?.state_hash && s.applied_index === all[0]?.applied_index) ? all : undefined;
  }, 'identical state hashes');
}

describe('Replica (three in one process)', () => {
  it('elects one leader that applies a signed put on every node', async () => {
    const id = await leader();
    const reply = await send(id, signed({ op: 'put', request_id: 'w-1', key: 'color', value: 'blue' }));
    expect(reply).toMatchObject({ ok: true, op: 'put', key: 'color', version: 1, node: id });
    const all = await converged();
    expect(all.map((s) => s.node).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('redirects a follower\'s write with E_RAFT_NOT_LEADER and the leader\'s client address', async () => {
    const id = await leader();
    const follower = [...replicas.keys()].find((n) => n !== id) as string;
    const reply = await send(follower, signed({ op: 'put', request_id: 'w-2', key: 'color', value: 'red' }));
    expect(reply).toMatchObject({ ok: false, code: 'E_RAFT_NOT_LEADER', request_id: 'w-2', leader: id, leader_addr: `127.0.0.1:${portOf(id)}`, node: follower });
    expect(typeof reply['term']).toBe('number');
  });

  it('answers a get through the log and refuses an unsigned put with week 9\'s E_SIG_MISSING', async () => {
    const id = await leader();
    const read = await send(id, kvPayload({ op: 'get', key: 'color' }));
    expect(read).toMatchObject({ ok: true, op: 'get', key: 'color', value: 'blue', node: id });
    const unsigned = await send(id, kvPayload({ op: 'put', request_id: 'w-3', key: 'color', value: 'green' }));
    expect(unsigned).toMatchObject({ ok: false, code: 'E_SIG_MISSING' });
  });

  it('answers a retried request id with its first answer (dedupe through the log)', async () => {
    const id = await leader();
    const first = await send(id, signed({ op: 'put', request_id: 'w-4', key: 'size', value: 'L' }));
    const retry = await send(id, signed({ op: 'put', request_id: 'w-4', key: 'size', value: 'L' }));
    expect(retry).toEqual(first);
  });

  it('catches a restarted follower up from a compacted log and converges on one state hash', async () => {
    const id = await leader();
    const follower = [...replicas.keys()].find((n) => n !== id) as string;
    await replicas.get(follower)?.close({ graceMs: 100 });
    replicas.delete(follower);
    for (let i = 0; i < 60; i++) {
      const reply = await send(id, signed({ op: 'put', request_id: `c-${i}`, key: `k${i % 7}`, value: `v${i}` }));
      expect(reply['ok']).toBe(true);
    }
    await startNode(follower);
    const all = await converged();
    expect(all.find((s) => s.node === follower)?.applied_index).toBeGreaterThanOrEqual(60);
  });

  it('drains: a request arriving during close is refused E_RAFT_SHUTTING_DOWN, one in flight gets E_RAFT_UNCERTAIN', async () => {
    const id = await leader();
    for (const other of [...replicas.keys()].filter((n) => n !== id)) {
      await replicas.get(other)?.close({ graceMs: 100 });
      replicas.delete(other);
    }
    // Without followers the put cannot commit; the leader steps down only after an election timeout.
    const connection = await persistentClient(portOf(id));
    const put = connection.request(signed({ op: 'put', request_id: 'd-1', key: 'k', value: 'v' }));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the put is proposed and pending
    const replica = replicas.get(id) as Replica;
    replicas.delete(id);
    const closing = replica.close({ graceMs: 5000 });
    const late = connection.request(kvPayload({ op: 'get', key: 'k' }));
    expect(await put).toMatchObject({ ok: false, code: 'E_RAFT_UNCERTAIN', request_id: 'd-1', node: id });
    expect(await late).toMatchObject({ ok: false, code: 'E_RAFT_SHUTTING_DOWN', node: id });
    await closing;
    connection.close();
  });
});

describe('cluster config', () => {
  it('refuses a config that is not a cluster with E_CLUSTER_CONFIG_INVALID', async () => {
    const good = JSON.parse(readFileSync(cluster.path, 'utf8')) as Record<string, unknown> & { nodes: Record<string, unknown>[] };
    const cases: unknown[] = [
      'not json',
      { ...good, version: 2 },
      { ...good, tick_ms: 0 },
      { ...good, nodes: [] },
      { ...good, nodes: [good.nodes[0], good.nodes[0]] },
      { ...good, nodes: [{ ...good.nodes[0], id: 'N1' }] },
      { ...good, nodes: [{ ...good.nodes[0], peer_port: 70000 }] },
    ];
    for (const [i, value] of cases.entries()) {
      const path = join(workspace.dir, `bad-${i}.json`);
      writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
      expect(thrownCode(() => readClusterConfig(path)), `case ${i}`).toBe('E_CLUSTER_CONFIG_INVALID');
    }
    expect(thrownCode(() => nodeOf(readClusterConfig(cluster.path), 'n9'))).toBe('E_CLUSTER_CONFIG_INVALID');
  });
});

/**
 * Bounded memory on a replica: its client port and its peer port, each flooded over one
 * connection that never reads, must keep the process's RSS within a stated bound of its
 * idle size, and the cluster must still answer a polite client afterwards. Before week
 * 9's backpressure reached the client port, every pipelined request was proposed at once
 * and held until committed, however many the client sent. (On this machine the old leader
 * kept up with this flood, because it verifies each frame before reading the next chunk,
 * so this test guards the bound rather than reproducing a failure.)
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../lib/framing.ts';
import { floodUnread, MAX_KV_FRAME_BYTES } from '../../lib/kv.ts';
import { makeWorkspace } from '../../lib/testing.ts';
import { ProcessCluster } from './node_process_cluster.ts';

/** The stated bound: a flooded replica may grow by at most this much over its RSS before the flood. */
const BOUND_KIB = 64 * 1024;
/** Each flood: 160 MiB, several times the bound. */
const FLOOD_BYTES = 160 * 1024 * 1024;

const workspace = makeWorkspace('replica-flood');
let kit: ProcessCluster;
beforeAll(async () => {
  kit = await ProcessCluster.start(workspace.fresh('cluster'), { nodes: 3, tuning: { snapshot_every: 64 } });
}, 60_000);
afterAll(async () => {
  await kit?.stop();
  workspace.remove();
});

describe('a replica flooded with unread pipelined requests', () => {
  it('keeps the leader within 64 MiB of its idle RSS on the client port and still commits a polite write', async () => {
    expect(await kit.write('warm-up', 'flood', 'a')).toMatchObject({ ok: true });
    const id = await kit.leader();
    const value = 'v'.repeat(30 * 1024);
    const flood = await floodUnread({
      port: kit.clientPort(id),
      pid: kit.pid(id),
      totalBytes: FLOOD_BYTES,
      request: (i) => encodeFrame(kit.signed({ op: 'put', request_id: `flood-${i}`, key: 'flood', value }), MAX_KV_FRAME_BYTES),
    });
    try {
      const grownKiB = flood.peakKiB - flood.baselineKiB;
      expect(grownKiB, `RSS ${flood.baselineKiB} → ${flood.peakKiB} KiB after ${flood.sentBytes} bytes`).toBeLessThan(BOUND_KIB);
      expect(await kit.write('polite', 'after', 'b')).toMatchObject({ ok: true });
    } finally {
      flood.socket.destroy();
    }
  }, 180_000);

  it('keeps a follower within 64 MiB of its idle RSS on the peer port and it still converges', async () => {
    const leader = await kit.leader();
    const id = kit.ids.find((n) => n !== leader) as string;
    // Well-formed frames that fail verification (a client's key speaks for no node): each is read, refused and dropped.
    const junk = encodeFrame(kit.signed({ op: 'put', request_id: 'peer-junk', key: 'x', value: 'v'.repeat(30 * 1024) }), MAX_KV_FRAME_BYTES);
    const flood = await floodUnread({ port: kit.peerPort(id), pid: kit.pid(id), totalBytes: FLOOD_BYTES, request: () => junk });
    try {
      const grownKiB = flood.peakKiB - flood.baselineKiB;
      expect(grownKiB, `RSS ${flood.baselineKiB} → ${flood.peakKiB} KiB after ${flood.sentBytes} bytes`).toBeLessThan(BOUND_KIB);
      expect(await kit.write('polite-2', 'after', 'c')).toMatchObject({ ok: true });
      await kit.converged();
    } finally {
      flood.socket.destroy();
    }
  }, 180_000);
});

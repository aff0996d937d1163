/**
 * The launcher's refusals, each with its code: no leader and no convergence within the
 * time given (nothing answers on the cluster's ports), and a node that exits before it
 * listens (its client port is taken).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCluster } from '../../lib/replication.ts';
import { makeWorkspace } from '../../lib/testing.ts';
import { RunningCluster, waitForConvergence, waitForLeader } from './node_launcher.ts';

const workspace = makeWorkspace('cluster-launcher');
afterAll(() => workspace.remove());

/** The code a promise rejects with, or undefined when it resolves. */
async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(() => undefined, (error: unknown) => (error as { code?: string }).code);
}

describe('RunningCluster refusals', () => {
  it('reports E_CLUSTER_NO_LEADER and E_CLUSTER_DIVERGED when no node answers within the time given', async () => {
    const { config } = await writeCluster(workspace.fresh('silent'), { nodes: 3 });
    expect(await codeOf(waitForLeader(config, 300))).toBe('E_CLUSTER_NO_LEADER');
    expect(await codeOf(waitForConvergence(config, 300))).toBe('E_CLUSTER_DIVERGED');
  });

  it('refuses to start with E_CLUSTER_NODE_EXITED when a node cannot take its client port', async () => {
    const dir = workspace.fresh('taken');
    const { config } = await writeCluster(dir, { nodes: 3 });
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(config.nodes[0]!.client_port, config.nodes[0]!.host, resolve));
    try {
      expect(await codeOf(RunningCluster.launch({ dir, startTimeoutMs: 15_000 }))).toBe('E_CLUSTER_NODE_EXITED');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);
});

/**
 * The `cluster` suite (weeks 11–12): a 3-node CivicTrust cluster on loopback beside a
 * 3-member etcd 3.4 doing the same durable, majority-committed 100-byte puts, in one run.
 *
 * | figure | subject | peer / limit | target |
 * |---|---|---|---|
 * | sequential put p50 | one client, one put at a time, through `ClusterClient` (signed) | etcd, `POST /v3/kv/put` on a kept-alive connection | ≤ 1.0× |
 * | sequential put p99 | the same | the same | — |
 * | 16 clients: puts/s | 16 concurrent clients | etcd, 16 concurrent requests | — |
 * | 64 clients: puts/s | 64 concurrent clients | etcd, 64 concurrent requests | ≥ 2.0× |
 * | 64 clients: machine CPU per put | the same, every process's CPU time (`/proc/stat`) per put | etcd, the same | — |
 * | failover | SIGKILL the leader, time until the next put is acknowledged | etcd, the same | — |
 * | failover vs budget | the same | limit: the 1.0 s failover budget | ≤ 1.0× |
 *
 * Each side is started once and reused by every trial; a failover trial restarts the
 * member it killed before the next one. Our puts go through everything a client of the
 * real system pays for: a week 8 signature per request, the replica's verification, the
 * replicated log, an fdatasync on a majority and week 12's dedupe table. Every put must be
 * acknowledged `ok` (a check, not a timing). Both sides keep the two cores busy at 64
 * clients, so throughput there is CPU time per put turned upside down: the CPU figure
 * (bench process included, clients and all) says how much of the machine each put costs.
 * Without an `etcd` binary
 * (`apt-get install etcd-server`) the etcd figures are left out and the suite says so.
 * @module
 */
import { join } from 'node:path';
import { RunningCluster, openClusterClient, waitForConvergence, waitForLeader } from '../../cluster/mod.ts';
import type { ClusterClient } from '../../../lib/election.ts';
import { EtcdCluster, etcdAvailable } from '../etcd_peer.ts';
import type { Figure, Suite, SuiteContext, Trial, Workload } from '../harness.ts';
import { seededRandom, seededText } from '../random.ts';

/** Bytes in every value put. */
const VALUE_BYTES = 100;

/** One put through some client; resolves when the cluster acknowledged it, throws when it did not. */
type Put = (client: number, key: string, value: string, probe?: boolean) => Promise<void>;

/** A side of the comparison: how to put, how to kill its leader and how to heal after. */
interface Side {
  readonly put: Put;
  /** SIGKILLs the leader; returns a function that restarts it. */
  killLeader(): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

/** Our cluster: three week 12 replica processes and a pool of clients. */
async function startOurs(ctx: SuiteContext, clients: number): Promise<Side> {
  const cluster = await RunningCluster.launch({ dir: join(ctx.tmpDir, 'civictrust'), nodes: 3, progress: (line) => ctx.progress(line) });
  await waitForLeader(cluster.config);
  const pool: ClusterClient[] = [];
  for (let i = 0; i < clients; i++) pool.push(await openClusterClient(cluster.config));
  return {
    async put(client, key, value) {
      const { reply, error } = await (pool[client % pool.length] as ClusterClient).send({ op: 'put', request_id: `${key}-${client}`, key, value });
      ctx.check(reply?.ok === true, `CivicTrust put ${key}: ${error?.code ?? JSON.stringify(reply)}`);
    },
    async killLeader() {
      const leader = await waitForLeader(cluster.config);
      await cluster.kill(leader, 'SIGKILL');
      return async () => {
        await cluster.startNode(leader);
        await waitForConvergence(cluster.config);
      };
    },
    async stop() {
      for (const client of pool) client.close();
      await cluster.stop();
    },
  };
}

/** etcd: three members, puts spread over them as clients of a real deployment would. */
async function startEtcd(ctx: SuiteContext): Promise<Side> {
  const etcd = await EtcdCluster.start(join(ctx.tmpDir, 'etcd'));
  return {
    async put(client, key, value, probe) {
      const live = etcd.live;
      // A failover probe gives up soon: while etcd has no leader a put hangs, and the probe retries.
      await etcd.put(live[client % live.length] as number, key, value, probe === true ? 250 : 5000);
    },
    async killLeader() {
      const leader = await etcd.leader();
      etcd.kill(leader);
      return async () => {
        await etcd.restart(leader);
      };
    },
    stop: () => etcd.stop(),
  };
}

/** `ops` puts by `clients` concurrent clients, each put's latency recorded. */
function putWorkload(side: LazySide, clients: number, ops: number, values: readonly string[], tag: string): Workload {
  let trial = 0;
  return {
    label: `${side.label}${clients === 1 ? '' : ` ×${clients}`}`,
    async prepare(): Promise<Trial> {
      const s = await side.get();
      const round = trial++;
      const latencies: number[] = [];
      return {
        async run() {
          let next = 0;
          await Promise.all(Array.from({ length: clients }, async (_, c) => {
            while (next < ops) {
              const i = next++;
              const start = performance.now();
              await s.put(c, `${tag}-${round}-${i}`, values[i % values.length] as string);
              latencies.push((performance.now() - start) / 1000);
            }
          }));
        },
        latencies: () => latencies,
      };
    },
  };
}

/** SIGKILL the leader, then put until one is acknowledged; restart the killed member afterwards (untimed). */
function failoverWorkload(side: LazySide, value: string): Workload {
  let trial = 0;
  return {
    label: `${side.label} kill -9 leader`,
    async prepare(): Promise<Trial> {
      const s = await side.get();
      const round = trial++;
      let heal: (() => Promise<void>) | null = null;
      return {
        async run() {
          heal = await s.killLeader();
          for (let attempt = 0; ; attempt++) {
            try {
              await s.put(attempt, `failover-${round}`, value, true);
              return;
            } catch {
              // etcd answers with an error while it has no leader; ours retries inside the client
            }
          }
        },
        async finish() {
          await heal?.();
        },
      };
    },
  };
}

/** A fixed time budget, as the limit a failover is held to. */
function budgetWorkload(seconds: number): Workload {
  return {
    label: `${seconds} s failover budget`,
    prepare: () => ({ run: () => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000)) }),
  };
}

/** A side started on first use (a suite run that skips its figures never starts it). */
interface LazySide {
  readonly label: string;
  get(): Promise<Side>;
}

/** The sides started by this run, stopped by the teardown. */
let started: Promise<Side>[] = [];

function lazily(label: string, start: () => Promise<Side>): LazySide {
  let side: Promise<Side> | undefined;
  return {
    label,
    get() {
      if (side === undefined) {
        side = start();
        started.push(side);
      }
      return side;
    },
  };
}

/** The `cluster` suite. */
export const CLUSTER_SUITE: Suite = {
  name: 'cluster',
  title: '3-node replicated durable puts: CivicTrust cluster vs etcd 3.4 on loopback',
  figures(ctx): Figure[] {
    const random = seededRandom(ctx.seed);
    const values = Array.from({ length: 64 }, () => seededText(random, VALUE_BYTES));
    const sequential = ctx.short ? 20 : 400;
    const concurrent = ctx.short ? 64 : 4000;
    const ours = lazily('CivicTrust 3 nodes', () => startOurs(ctx, 64));
    const failover = failoverWorkload(ours, values[0] as string);
    const figures: Figure[] = [
      { name: 'failover vs the 1.0 s budget', metric: 'latency', unit: 'failover', ops: 1,
        subject: failover, peer: budgetWorkload(1), relation: 'limit', target: { atMost: 1 } },
    ];
    if (!etcdAvailable()) {
      ctx.progress('etcd is not installed (apt-get install etcd-server): reporting CivicTrust against its limits only');
      return [
        { name: 'sequential put p50 vs 64 clients\' p50', metric: 'p50', unit: 'put', ops: sequential,
          subject: putWorkload(ours, 1, sequential, values, 'seq'), peer: putWorkload(ours, 64, concurrent, values, 'c64'), relation: 'limit' },
        ...figures,
      ];
    }
    const etcd = lazily('etcd 3.4 3 members', () => startEtcd(ctx));
    return [
      { name: 'sequential put p50', metric: 'p50', unit: 'put', ops: sequential,
        subject: putWorkload(ours, 1, sequential, values, 'seq'), peer: putWorkload(etcd, 1, sequential, values, 'seq'), relation: 'peer', target: { atMost: 1 } },
      { name: 'sequential put p99', metric: 'p99', unit: 'put', ops: sequential,
        subject: putWorkload(ours, 1, sequential, values, 'seq99'), peer: putWorkload(etcd, 1, sequential, values, 'seq99'), relation: 'peer' },
      { name: '16 clients: puts/s', metric: 'throughput', unit: 'put', ops: concurrent,
        subject: putWorkload(ours, 16, concurrent, values, 'c16'), peer: putWorkload(etcd, 16, concurrent, values, 'c16'), relation: 'peer' },
      { name: '64 clients: puts/s', metric: 'throughput', unit: 'put', ops: concurrent,
        subject: putWorkload(ours, 64, concurrent, values, 'c64'), peer: putWorkload(etcd, 64, concurrent, values, 'c64'), relation: 'peer', target: { atLeast: 2 } },
      { name: '64 clients: machine CPU per put', metric: 'cpu', unit: 'put', ops: concurrent,
        subject: putWorkload(ours, 64, concurrent, values, 'cpu64'), peer: putWorkload(etcd, 64, concurrent, values, 'cpu64'), relation: 'peer' },
      { name: 'failover: kill -9 leader to next ack', metric: 'latency', unit: 'failover', ops: 1,
        subject: failover, peer: failoverWorkload(etcd, values[0] as string), relation: 'peer' },
      ...figures,
    ];
  },
  async teardown() {
    const sides = started;
    started = [];
    await Promise.allSettled(sides.map(async (side) => (await side).stop()));
  },
};

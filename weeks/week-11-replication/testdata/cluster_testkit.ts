/**
 * A test kit for real replica clusters: N `node_replica_main.ts` processes, each behind its
 * own in-process {@link FaultProxy}, driven over their client ports with week 8 signed KV
 * frames. It kills (SIGKILL) and restarts processes, partitions and heals proxies, writes
 * through whoever leads (following redirects, retrying uncertain answers under the same
 * request id) and polls `{"op":"status"}` until every state hash agrees.
 *
 * It lives under `testdata/` because it is Node-only test scaffolding, not part of the
 * week's surface: the house rules keep `node:` imports out of every other non-`node_*`
 * module, and a leading-underscore helper would count as one. `gate.test.ts` uses it;
 * `node_replica_main.test.ts` has the same helpers inline and could switch to this kit.
 *
 * Every wait has a generous deadline and no assertion reads the wall clock; {@link
 * ProcessCluster.stop} kills every process it started and closes every proxy.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../../lib/clock.ts';
import { kvPayload, sendKvFrame, type KvRequest } from '../../../lib/kv.ts';
import { encodeSignedMessage, loadSigner, NODE_BACKEND, signEnvelopeSync, type SyncSigner } from '../../../lib/signing.ts';
import { TSX_LOADER } from '../../../lib/testing.ts';
import { FaultProxy, nodeProxyRoutes } from '../node_fault_proxy.ts';
import { writeCluster, type WriteClusterOptions, type WrittenCluster } from '../node_replica_main.ts';
import { statusRequest, type StatusReply } from '../replica_protocol.ts';

const MAIN = fileURLToPath(new URL('../node_replica_main.ts', import.meta.url));

/** One running replica process. */
interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

/** Polls `probe` every 25 ms until it yields a value; throws after `timeoutMs` naming `what`. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 25));
  }
}

/** A cluster of real replica processes behind fault proxies. */
export class ProcessCluster {
  /** The written cluster: config file, config and the client key directory. */
  readonly cluster: WrittenCluster;
  /** Every node id, in voter order. */
  readonly ids: readonly string[];
  readonly #client: SyncSigner;
  readonly #processes = new Map<string, Running>();
  readonly #proxies = new Map<string, FaultProxy>();

  private constructor(cluster: WrittenCluster, client: SyncSigner) {
    this.cluster = cluster;
    this.#client = client;
    this.ids = cluster.config.nodes.map((n) => n.id);
  }

  /** Writes a cluster config under `dir`, starts one proxy per node, then every process; resolves once all listen. */
  static async start(dir: string, options: Omit<WriteClusterOptions, 'proxies'>): Promise<ProcessCluster> {
    const cluster = await writeCluster(dir, { ...options, proxies: true });
    const client = await loadSigner(cluster.clientKeyDir, 'client', NODE_BACKEND, systemClock) as SyncSigner;
    const kit = new ProcessCluster(cluster, client);
    for (const node of cluster.config.nodes) kit.#proxies.set(node.id, await FaultProxy.start(nodeProxyRoutes(cluster.config, node.id)));
    await Promise.all(kit.ids.map((id) => kit.launch(id)));
    return kit;
  }

  /** The fault proxy in front of `id` (partition/heal cut it off from every peer, both ways). */
  proxy(id: string): FaultProxy {
    const proxy = this.#proxies.get(id);
    if (proxy === undefined) throw new RangeError(`no node ${id}`);
    return proxy;
  }

  /** What `id` has written to stderr since its last start (JSON-lines log). */
  stderr(id: string): string {
    return this.#processes.get(id)?.stderr() ?? '';
  }

  /** Starts the process of `id` and resolves once it prints its `listening` line. */
  async launch(id: string): Promise<void> {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, MAIN, '--config', this.cluster.path, '--id', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    this.#processes.set(id, { child, exited, stderr: () => stderr });
    await new Promise<void>((ok, ko) => {
      const timer = setTimeout(() => ko(new Error(`${id} did not print listening: ${stderr}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/^listening peer=\S+ client=\S+\n/m.test(stdout)) {
          clearTimeout(timer);
          ok();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        ko(new Error(`${id} exited ${code}: ${stderr}`));
      });
    });
  }

  /** Kills `id` with SIGKILL (no drain, no flush) and waits for it to exit. */
  async kill(id: string): Promise<void> {
    const running = this.#processes.get(id);
    if (running === undefined) return;
    running.child.kill('SIGKILL');
    await running.exited;
  }

  /** Sends SIGTERM to every process and returns their exit codes, in id order. */
  async terminate(): Promise<(number | null)[]> {
    const running = this.ids.map((id) => this.#processes.get(id)).filter((p): p is Running => p !== undefined);
    for (const p of running) p.child.kill('SIGTERM');
    return Promise.all(running.map((p) => p.exited));
  }

  /** Kills every process it started and closes every proxy. */
  async stop(): Promise<void> {
    for (const { child } of this.#processes.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([...this.#processes.values()].map((p) => p.exited));
    for (const proxy of this.#proxies.values()) await proxy.close();
  }

  /** A request signed with the cluster's client key, framed for a client port. */
  signed(request: KvRequest & { request_id: string }): Uint8Array {
    const payload = kvPayload(request);
    return encodeSignedMessage(signEnvelopeSync({ msgType: 'kv', requestId: request.request_id, payload }, this.#client, { clock: systemClock }), payload);
  }

  /** Sends one frame to `id`'s client port and returns its JSON reply. */
  async send(id: string, frame: Uint8Array): Promise<Record<string, unknown>> {
    const port = this.cluster.config.nodes.find((n) => n.id === id)?.client_port as number;
    return await sendKvFrame(port, frame) as unknown as Record<string, unknown>;
  }

  /** The `{"op":"status"}` reply of each of `ids`. */
  async status(ids: readonly string[] = this.ids): Promise<StatusReply[]> {
    return Promise.all(ids.map(async (id) => await this.send(id, statusRequest()) as unknown as StatusReply));
  }

  /** Waits until exactly one of `among` leads and all of them follow it in one term. */
  async leader(among: readonly string[] = this.ids): Promise<string> {
    return until(async () => {
      const all = await this.status(among);
      const leaders = all.filter((s) => s.role === 'leader');
      return leaders.length === 1 && all.every((s) => s.leader === leaders[0]?.node && s.term === leaders[0]?.term) ? leaders[0]?.node : undefined;
    }, `one leader among ${among.join(',')}`);
  }

  /** Polls status until every node of `ids` reports the same state hash and applied index; returns those replies. */
  async converged(ids: readonly string[] = this.ids): Promise<StatusReply[]> {
    return until(async () => {
      const all = await this.status(ids);
      return all.every((s) => s.state_hash === all[0]?.state_hash && s.applied_index === all[0]?.applied_index) ? all : undefined;
    }, `identical state hashes on ${ids.join(',')}`);
  }

  /** Puts `key=value` through whoever leads among `among`, retrying an uncertain answer under the same request id until ok. */
  async write(requestId: string, key: string, value: string, among: readonly string[] = this.ids): Promise<Record<string, unknown>> {
    const frame = (): Uint8Array => this.signed({ op: 'put', request_id: requestId, key, value });
    return until(async () => {
      const reply = await this.send(await this.leader(among), frame());
      return reply['ok'] === true ? reply : undefined;
    }, `put ${requestId}`);
  }

  /** `count` puts (`<prefix>-<i>` to keys k0…k12), twenty at a time. */
  async writeMany(prefix: string, count: number, among: readonly string[] = this.ids): Promise<void> {
    for (let i = 0; i < count; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => this.write(`${prefix}-${i + j}`, `k${(i + j) % 13}`, `${prefix}${i + j}`, among)));
    }
  }
}

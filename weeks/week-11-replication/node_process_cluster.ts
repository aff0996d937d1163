/**
 * A test kit for real replica clusters: N replica processes (week 11's
 * `node_replica_main.ts` unless told another entry script), each behind its own in-process
 * {@link FaultProxy}, driven over their client ports with week 8 signed KV frames. It kills
 * (SIGKILL) and restarts processes, partitions and heals proxies, writes through whoever
 * leads (following redirects, retrying uncertain answers under the same request id) and
 * polls `{"op":"status"}` until every state hash agrees.
 *
 * Week 11's gate, its process test and drill, and week 12's gate (with its own entry
 * script) all start their clusters here, so the spawn, wait-for-`listening` and poll logic
 * exists once. It is a `node_*` module because it spawns processes.
 *
 * Every wait has a generous deadline and no assertion reads the wall clock; {@link
 * ProcessCluster.stop} kills every process it started and closes every proxy.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../lib/clock.ts';
import { kvPayload, sendKvFrame, type KvRequest } from '../../lib/kv.ts';
import { encodeSignedMessage, loadSigner, NODE_BACKEND, signEnvelopeSync, type SyncSigner } from '../../lib/signing.ts';
import { TSX_LOADER } from '../../lib/testing.ts';
import { FaultProxy, nodeProxyRoutes } from './node_fault_proxy.ts';
import { writeCluster, type WriteClusterOptions, type WrittenCluster } from './node_replica_main.ts';
import { statusRequest, type StatusReply } from './replica_protocol.ts';

/** Week 11's replica process, the default entry script. */
const REPLICA_MAIN = fileURLToPath(new URL('./node_replica_main.ts', import.meta.url));
/** How long a process may take to print `listening` on a busy machine. */
const LISTEN_TIMEOUT_MS = 30_000;

/** One running replica process. */
interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

/**
 * Polls `probe` every 25 ms until it yields a value (a rejection counts as no value yet);
 * throws after `timeoutMs` naming `what`.
 * @param probe - returns the awaited value, or undefined while it is not there yet
 * @param what - what is awaited, for the timeout error
 * @param timeoutMs - how long to keep polling
 * @returns the first value `probe` yields
 */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 25));
  }
}

/** How {@link ProcessCluster.start} writes the cluster and runs each process. */
export interface ProcessClusterOptions extends Omit<WriteClusterOptions, 'proxies'> {
  /** Absolute path of the process entry script. Default week 11's `node_replica_main.ts`. */
  readonly main?: string;
  /** Extra arguments after `--config <path> --id <id>` (e.g. week 12's `--ttl-ms N`). Default none. */
  readonly args?: readonly string[];
  /** How long {@link ProcessCluster.leader}, {@link ProcessCluster.converged} and {@link ProcessCluster.write} poll. Default 20 000 ms. */
  readonly timeoutMs?: number;
}

/** A cluster of real replica processes behind fault proxies. */
export class ProcessCluster {
  /** The written cluster: config file, config and the client key directory. */
  readonly cluster: WrittenCluster;
  /** Every node id, in voter order. */
  readonly ids: readonly string[];
  /** The cluster's client signing key (what a client such as week 12's `ClusterClient` signs with). */
  readonly signer: SyncSigner;
  readonly #main: string;
  readonly #args: readonly string[];
  readonly #timeoutMs: number;
  readonly #processes = new Map<string, Running>();
  readonly #proxies = new Map<string, FaultProxy>();

  private constructor(cluster: WrittenCluster, signer: SyncSigner, options: ProcessClusterOptions) {
    this.cluster = cluster;
    this.signer = signer;
    this.ids = cluster.config.nodes.map((n) => n.id);
    this.#main = options.main ?? REPLICA_MAIN;
    this.#args = options.args ?? [];
    this.#timeoutMs = options.timeoutMs ?? 20_000;
  }

  /**
   * Writes a cluster config under `dir`, starts one proxy per node, then every process.
   * @param dir - a fresh directory for the config, keys and data
   * @param options - cluster size and tuning, entry script, extra arguments, poll deadline
   * @returns the kit, once every process printed `listening`
   */
  static async start(dir: string, options: ProcessClusterOptions): Promise<ProcessCluster> {
    const { main: _main, args: _args, timeoutMs: _timeoutMs, ...write } = options;
    const cluster = await writeCluster(dir, { ...write, proxies: true });
    const signer = await loadSigner(cluster.clientKeyDir, 'client', NODE_BACKEND, systemClock) as SyncSigner;
    const kit = new ProcessCluster(cluster, signer, options);
    for (const node of cluster.config.nodes) kit.#proxies.set(node.id, await FaultProxy.start(nodeProxyRoutes(cluster.config, node.id)));
    await Promise.all(kit.ids.map((id) => kit.launch(id)));
    return kit;
  }

  /**
   * The fault proxy in front of `id` (partition/heal cut it off from every peer, both ways).
   * @param id - a node id
   * @returns its proxy
   */
  proxy(id: string): FaultProxy {
    const proxy = this.#proxies.get(id);
    if (proxy === undefined) throw new RangeError(`no node ${id}`);
    return proxy;
  }

  /**
   * The client port of `id`.
   * @param id - a node id
   * @returns the port its process serves clients on
   */
  clientPort(id: string): number {
    const node = this.cluster.config.nodes.find((n) => n.id === id);
    if (node === undefined) throw new RangeError(`no node ${id}`);
    return node.client_port;
  }

  /**
   * The peer port of `id`'s own process (behind its proxy's ingress).
   * @param id - a node id
   * @returns the port its process takes peer connections on
   */
  peerPort(id: string): number {
    const node = this.cluster.config.nodes.find((n) => n.id === id);
    if (node === undefined) throw new RangeError(`no node ${id}`);
    return node.peer_port;
  }

  /**
   * The process id of `id`'s running process (to read its memory from `/proc`).
   * @param id - a node id
   * @returns the pid
   * @throws RangeError when `id` has no running process
   */
  pid(id: string): number {
    const pid = this.#processes.get(id)?.child.pid;
    if (pid === undefined) throw new RangeError(`no process for ${id}`);
    return pid;
  }

  /**
   * The `host:port` a client dials for `id`.
   * @param id - a node id
   * @returns `127.0.0.1:<client port>`
   */
  address(id: string): string {
    return `127.0.0.1:${this.clientPort(id)}`;
  }

  /**
   * Every node's client address, in voter order (a client's node list).
   * @returns one `host:port` per node
   */
  addresses(): string[] {
    return this.ids.map((id) => this.address(id));
  }

  /**
   * What `id` has written to stderr since its last start (JSON-lines log).
   * @param id - a node id
   * @returns the captured stderr, empty if it never ran
   */
  stderr(id: string): string {
    return this.#processes.get(id)?.stderr() ?? '';
  }

  /**
   * Starts the process of `id` (again, after a kill).
   * @param id - a node id
   * @returns once it prints its `listening` line; rejects if it exits or stays silent
   */
  async launch(id: string): Promise<void> {
    const argv = ['--import', TSX_LOADER, this.#main, '--config', this.cluster.path, '--id', id, ...this.#args];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    this.#processes.set(id, { child, exited, stderr: () => stderr });
    await new Promise<void>((ok, ko) => {
      const timer = setTimeout(() => ko(new Error(`${id} did not print listening: ${stderr}`)), LISTEN_TIMEOUT_MS);
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

  /**
   * Kills `id` with SIGKILL (no drain, no flush).
   * @param id - a node id
   * @returns once it has exited
   */
  async kill(id: string): Promise<void> {
    const running = this.#processes.get(id);
    if (running === undefined) return;
    running.child.kill('SIGKILL');
    await running.exited;
  }

  /**
   * Sends SIGTERM to every process.
   * @returns their exit codes, in id order
   */
  async terminate(): Promise<(number | null)[]> {
    const running = this.ids.map((id) => this.#processes.get(id)).filter((p): p is Running => p !== undefined);
    for (const p of running) p.child.kill('SIGTERM');
    return Promise.all(running.map((p) => p.exited));
  }

  /**
   * Kills every process it started and closes every proxy.
   * @returns once all have exited and closed
   */
  async stop(): Promise<void> {
    for (const { child } of this.#processes.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([...this.#processes.values()].map((p) => p.exited));
    for (const proxy of this.#proxies.values()) await proxy.close();
  }

  /**
   * A request signed with the cluster's client key, framed for a client port: a fresh
   * envelope (nonce) on every call.
   * @param request - the KV request, with its request id
   * @returns the frame to send
   */
  signed(request: KvRequest & { request_id: string }): Uint8Array {
    const payload = kvPayload(request);
    return encodeSignedMessage(signEnvelopeSync({ msgType: 'kv', requestId: request.request_id, payload }, this.signer, { clock: systemClock }), payload);
  }

  /**
   * Sends one frame to `id`'s client port.
   * @param id - a node id
   * @param frame - a framed request
   * @returns its JSON reply
   */
  async send(id: string, frame: Uint8Array): Promise<Record<string, unknown>> {
    return await sendKvFrame(this.clientPort(id), frame) as unknown as Record<string, unknown>;
  }

  /**
   * Asks each of `ids` for its status.
   * @param ids - the nodes to ask; default all
   * @returns their `{"op":"status"}` replies, in the same order
   */
  async status(ids: readonly string[] = this.ids): Promise<StatusReply[]> {
    return Promise.all(ids.map(async (id) => await this.send(id, statusRequest()) as unknown as StatusReply));
  }

  /**
   * Waits until exactly one of `among` leads and all of them follow it in one term.
   * @param among - the nodes that must agree; default all
   * @returns the leader's status reply (its id and term)
   */
  async leaderStatus(among: readonly string[] = this.ids): Promise<StatusReply> {
    return until(async () => {
      const all = await this.status(among);
      const leaders = all.filter((s) => s.role === 'leader');
      return leaders.length === 1 && all.every((s) => s.leader === leaders[0]?.node && s.term === leaders[0]?.term) ? leaders[0] : undefined;
    }, `one leader among ${among.join(',')}`, this.#timeoutMs);
  }

  /**
   * Waits until exactly one of `among` leads and all of them follow it in one term.
   * @param among - the nodes that must agree; default all
   * @returns the leader's id
   */
  async leader(among: readonly string[] = this.ids): Promise<string> {
    return (await this.leaderStatus(among)).node;
  }

  /**
   * Polls status until every node of `ids` reports the same state hash and applied index.
   * @param ids - the nodes that must agree; default all
   * @returns their status replies, once they agree
   */
  async converged(ids: readonly string[] = this.ids): Promise<StatusReply[]> {
    return until(async () => {
      const all = await this.status(ids);
      return all.every((s) => s.state_hash === all[0]?.state_hash && s.applied_index === all[0]?.applied_index) ? all : undefined;
    }, `identical state hashes on ${ids.join(',')}`, this.#timeoutMs);
  }

  /**
   * Puts `key=value` through whoever leads among `among`, retrying an uncertain answer
   * under the same request id until ok.
   * @param requestId - the request id every retry reuses
   * @param key - the key
   * @param value - the value
   * @param among - the nodes to write through; default all
   * @returns the ok reply
   */
  async write(requestId: string, key: string, value: string, among: readonly string[] = this.ids): Promise<Record<string, unknown>> {
    const frame = (): Uint8Array => this.signed({ op: 'put', request_id: requestId, key, value });
    return until(async () => {
      const reply = await this.send(await this.leader(among), frame());
      return reply['ok'] === true ? reply : undefined;
    }, `put ${requestId}`, this.#timeoutMs);
  }

  /**
   * `count` puts (`<prefix>-<i>` to keys k0…k12), twenty at a time.
   * @param prefix - request id and value prefix
   * @param count - how many puts
   * @param among - the nodes to write through; default all
   * @returns once every put is acknowledged
   */
  async writeMany(prefix: string, count: number, among: readonly string[] = this.ids): Promise<void> {
    for (let i = 0; i < count; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => this.write(`${prefix}-${i + j}`, `k${(i + j) % 13}`, `${prefix}${i + j}`, among)));
    }
  }
}

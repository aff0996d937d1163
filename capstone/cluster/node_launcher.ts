/**
 * The cluster launcher: starts week 12's replica processes (the TTL dedupe table on
 * week 11's Raft replica) for one cluster directory, waits for a leader, and stops them.
 *
 * ```text
 *  <dir>/cluster.json        week 11's config (written on first launch; reused to restart with the data)
 *  <dir>/keys/nodes|clients  node keys and the client key `client` (written with the config)
 *  <dir>/data/<id>/          each node's Raft log and snapshots
 *  <dir>/logs/<id>.log       each node's JSON-lines log (its stderr, appended across restarts)
 *  <dir>/pids.json           {"launcher": pid, "nodes": {"n1": pid, …}} while the launcher runs
 * ```
 *
 * The nodes run in their own process group (`detached`): a Ctrl-C in the terminal reaches
 * the launcher only, which then sends each node one SIGTERM. Were the nodes in the
 * terminal's group, each would get the terminal's SIGINT AND the launcher's SIGTERM, and
 * the second signal, arriving mid-drain, would kill it.
 *
 * The status request and the client for `put`/`get` live here too, so the CLI, the demo
 * and `npm start` talk to a cluster the same way.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { systemClock } from '../../lib/clock.ts';
import { ClusterClient, ELECTION_ERRORS, parseNodeAddress, type ClusterClientOptions } from '../../lib/election.ts';
import { errorFactory } from '../../lib/errors.ts';
import { FRAME_ERRORS, FrameDecoder, connectError, encodeFrame } from '../../lib/framing.ts';
import { parseStrictJson } from '../../lib/hashing.ts';
import { MAX_KV_FRAME_BYTES } from '../../lib/kv.ts';
import {
  FaultProxy, nodeProxyRoutes, readClusterConfig, statusRequest, writeCluster, type ClusterConfig, type StatusReply, type WriteClusterOptions,
} from '../../lib/replication.ts';
import { NODE_BACKEND, loadSigner } from '../../lib/signing.ts';
import { CLUSTER_ERRORS } from './cluster_catalog.ts';
import { agreedLeader, converged, type NodeStatus } from './cluster_status.ts';

const fail = errorFactory(CLUSTER_ERRORS);
const failNetwork = errorFactory(FRAME_ERRORS);
const failReply = errorFactory(ELECTION_ERRORS);

/** The replica process each node runs. */
const ENTRY = fileURLToPath(new URL('./node_replica_entry.ts', import.meta.url));
/** The tsx loader, by absolute URL, so a node starts from any working directory. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/**
 * The tuning of a new cluster, unless the caller gives its own: an election timeout of 40
 * ticks of 10 ms (400–800 ms randomized) instead of week 11's 15 (150–300 ms). A launched
 * cluster shares its machine with its clients, tsx start-ups and whatever else runs there;
 * with the short timeout, a follower whose heartbeats are merely late (the CPU was busy
 * starting a restarted node) campaigns, and without PreVote its higher term unseats a
 * healthy leader again and again. Failover takes a few hundred milliseconds longer.
 */
export const LAUNCH_TUNING: NonNullable<WriteClusterOptions['tuning']> = { election_ticks: 40 };
/** The config file's name in a cluster directory. */
export const CLUSTER_FILE = 'cluster.json';
/** The file naming the launcher's and the nodes' pids while a launcher runs. */
export const PIDS_FILE = 'pids.json';

/** How the launcher exits a child, as Node reports it. */
export interface NodeExit {
  /** The exit status, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: string | null;
}

/** What {@link readPids} returns: who runs a cluster directory. */
export interface ClusterPids {
  /** The launcher's pid. */
  readonly launcher: number;
  /** Each running node's pid, by id. */
  readonly nodes: Readonly<Record<string, number>>;
}

/** Options of {@link RunningCluster.launch}. */
export interface LaunchOptions {
  /** The cluster directory; its `cluster.json` is reused when present, else written. */
  readonly dir: string;
  /** Nodes of a new cluster (ids n1…nN). Default 3; ignored when the directory has a config. */
  readonly nodes?: number;
  /** Give a new cluster a fault proxy per node, run in the launcher. Default false. */
  readonly proxies?: boolean;
  /** Tuning of a new cluster's config (tick, election and heartbeat ticks, snapshot interval, commit timeout); default {@link LAUNCH_TUNING}. */
  readonly tuning?: WriteClusterOptions['tuning'];
  /** The dedupe TTL the nodes run with (`--ttl-ms`); default week 12's. */
  readonly ttlMs?: number;
  /** How long a node may take to print its listening line (tsx compiles on first start). Default 30000. */
  readonly startTimeoutMs?: number;
  /** Progress lines (starting, listening, exits); default none. */
  readonly progress?: (line: string) => void;
}

/** One running node process. */
interface Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<NodeExit>;
  /** Set once the launcher itself signalled it, so its exit is not reported as a crash. */
  stopping: boolean;
}

/** The client addresses (`host:port`) of a config's nodes, in config order. */
export function clientAddresses(config: ClusterConfig): string[] {
  return config.nodes.map((n) => `${n.host}:${n.client_port}`);
}

/**
 * One frame out, one frame back, on a fresh connection, within `timeoutMs`.
 * @throws {@link CivicError} a week 2 network code (`E_NET_REFUSED`, `E_NET_TIMEOUT`, …)
 */
function exchange(address: string, frame: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const { host, port } = parseNodeAddress(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_KV_FRAME_BYTES });
    let connected = false;
    const finish = (outcome: () => void): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {}); // late errors of a socket we are done with
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(failNetwork('E_NET_TIMEOUT', `Cannot get status from ${address}: no answer within ${timeoutMs} ms`))), timeoutMs);
    socket.once('connect', () => {
      connected = true;
      socket.write(encodeFrame(frame, MAX_KV_FRAME_BYTES));
    });
    socket.on('data', (chunk: Uint8Array) => {
      try {
        const [reply] = decoder.push(chunk);
        if (reply !== undefined) finish(() => resolve(reply));
      } catch (error) {
        finish(() => reject(error));
      }
    });
    socket.on('error', (error) => finish(() => reject(connectError(error, { host, port }, connected ? 'io' : 'connect'))));
    socket.on('close', () => finish(() => reject(failNetwork('E_NET_CLOSED', `Cannot get status from ${address}: it closed the connection first`))));
  });
}

/**
 * Asks one node for its status (`{"op":"status"}`).
 * @param address - the node's client address, `host:port`
 * @throws {@link CivicError} a network code, `E_FRAME_OVERSIZE`, or `E_CLIENT_REPLY_MALFORMED` for an answer that is not a status reply
 */
export async function queryStatus(address: string, timeoutMs = 1000): Promise<StatusReply> {
  const reply = parseStrictJson(await exchange(address, statusRequest(), timeoutMs)) as StatusReply;
  if (reply?.ok !== true || typeof reply.node !== 'string' || typeof reply.state_hash !== 'string') {
    throw failReply('E_CLIENT_REPLY_MALFORMED', `Cannot read the status of ${address}: the answer is not a status reply`);
  }
  return reply;
}

/** Asks every node of `config` for its status at once; a node that does not answer is listed with the code why. */
export async function clusterStatus(config: ClusterConfig, timeoutMs = 1000): Promise<NodeStatus[]> {
  return Promise.all(config.nodes.map(async (node, i) => {
    const address = clientAddresses(config)[i] as string;
    try {
      return { id: node.id, address, status: await queryStatus(address, timeoutMs), error: null };
    } catch (error) {
      return { id: node.id, address, status: null, error: (error as { code?: string }).code ?? 'E_INTERNAL' };
    }
  }));
}

/** Polls `probe` every 50 ms until it returns a value, or throws `onTimeout()` after `timeoutMs`. */
async function poll<T>(probe: () => Promise<T | null>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw onTimeout();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until a majority of the config's nodes agree on one leader.
 * @returns the leader's id
 * @throws {@link CivicError} `E_CLUSTER_NO_LEADER` after `timeoutMs`
 */
export function waitForLeader(config: ClusterConfig, timeoutMs = 20_000): Promise<string> {
  return poll(async () => agreedLeader(await clusterStatus(config, 500), config.nodes.length), timeoutMs,
    () => fail('E_CLUSTER_NO_LEADER', `Cannot find a leader: no node was agreed on by a majority of ${config.nodes.length} within ${timeoutMs} ms`));
}

/**
 * Waits until every node answers with the same applied index and state hash.
 * @returns their status replies
 * @throws {@link CivicError} `E_CLUSTER_DIVERGED` when they have not converged after `timeoutMs`
 */
export function waitForConvergence(config: ClusterConfig, timeoutMs = 20_000): Promise<NodeStatus[]> {
  return poll(async () => {
    const statuses = await clusterStatus(config, 500);
    return converged(statuses) ? statuses : null;
  }, timeoutMs, () => fail('E_CLUSTER_DIVERGED', `Cannot see the nodes converge: their applied indexes or state hashes still differ after ${timeoutMs} ms`));
}

/**
 * A {@link ClusterClient} for `config`'s nodes, signing with the cluster's client key `client`.
 * @param options - overrides (policy, timeouts, clock) of the client's defaults
 */
export async function openClusterClient(config: ClusterConfig, options: Partial<Omit<ClusterClientOptions, 'nodes' | 'signer'>> = {}): Promise<ClusterClient> {
  const signer = await loadSigner(config.client_keys, 'client', NODE_BACKEND, systemClock);
  return new ClusterClient({ ...options, nodes: clientAddresses(config), signer });
}

/**
 * Reads the pids a running launcher recorded next to `configPath`.
 * @throws {@link CivicError} `E_CLUSTER_NOT_RUNNING` when none is recorded
 */
export function readPids(configPath: string): ClusterPids {
  const file = join(dirname(configPath), PIDS_FILE);
  if (!existsSync(file)) throw fail('E_CLUSTER_NOT_RUNNING', `Cannot find the cluster's processes: ${file} does not exist (no launcher runs this cluster)`);
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterPids;
}

/** A cluster whose node processes this process started. */
export class RunningCluster {
  readonly #dir: string;
  readonly #config: ClusterConfig;
  readonly #options: LaunchOptions;
  readonly #children = new Map<string, Child>();
  readonly #proxies: FaultProxy[];
  readonly #reused: boolean;
  /** Set by {@link stop} and {@link killAllNow}: the pids file is no longer kept. */
  #stopped = false;

  /** Use {@link RunningCluster.launch}, which starts the processes this object tracks. */
  constructor(dir: string, config: ClusterConfig, options: LaunchOptions, proxies: FaultProxy[], reused: boolean) {
    this.#dir = dir;
    this.#config = config;
    this.#options = options;
    this.#proxies = proxies;
    this.#reused = reused;
  }

  /**
   * Writes (or reuses) the cluster directory, starts the fault proxies when the config
   * has them, and starts every node; does not wait for a leader ({@link waitForLeader}).
   * @throws {@link CivicError} `E_CLUSTER_NODE_EXITED` when a node exits before listening
   *   (every node started is killed first), or week 11's `E_CLUSTER_CONFIG_INVALID`
   */
  static async launch(options: LaunchOptions): Promise<RunningCluster> {
    const path = join(options.dir, CLUSTER_FILE);
    const reused = existsSync(path);
    const config = reused
      ? readClusterConfig(path)
      : (await writeCluster(options.dir, { nodes: options.nodes ?? 3, proxies: options.proxies ?? false, tuning: options.tuning ?? LAUNCH_TUNING })).config;
    mkdirSync(join(options.dir, 'logs'), { recursive: true });
    const proxies: FaultProxy[] = [];
    const cluster = new RunningCluster(options.dir, config, options, proxies, reused);
    try {
      for (const node of config.nodes) if (node.proxy !== null) proxies.push(await FaultProxy.start(nodeProxyRoutes(config, node.id)));
      await Promise.all(config.nodes.map((n) => cluster.startNode(n.id)));
    } catch (error) {
      await cluster.stop({ graceMs: 0 });
      throw error;
    }
    return cluster;
  }

  /** The cluster directory. */
  get dir(): string {
    return this.#dir;
  }

  /** The config file's path. */
  get configPath(): string {
    return join(this.#dir, CLUSTER_FILE);
  }

  /** The cluster config, paths resolved. */
  get config(): ClusterConfig {
    return this.#config;
  }

  /** True when the directory already held a cluster (a restart with its data). */
  get reused(): boolean {
    return this.#reused;
  }

  /** The ids of the nodes whose processes run now. */
  get running(): string[] {
    return [...this.#children.keys()];
  }

  /** Where node `id`'s log goes. */
  logFile(id: string): string {
    return join(this.#dir, 'logs', `${id}.log`);
  }

  /** The pid of node `id`'s process, or undefined when it is not running. */
  pidOf(id: string): number | undefined {
    return this.#children.get(id)?.proc.pid;
  }

  /**
   * Starts node `id` and waits for its listening line.
   * @throws {@link CivicError} `E_CLUSTER_NODE_UNKNOWN` for an id the config does not list,
   *   `E_CLUSTER_NODE_EXITED` when it exits or stays silent before listening
   */
  async startNode(id: string): Promise<void> {
    if (!this.#config.nodes.some((n) => n.id === id)) throw fail('E_CLUSTER_NODE_UNKNOWN', `Cannot start node ${id}: the cluster config does not list it`);
    if (this.#children.has(id)) return;
    const log = openSync(this.logFile(id), 'a');
    const ttl = this.#options.ttlMs === undefined ? [] : ['--ttl-ms', String(this.#options.ttlMs)];
    let proc: ChildProcess;
    try {
      proc = spawn(process.execPath, ['--import', TSX_LOADER, ENTRY, '--config', this.configPath, '--id', id, ...ttl],
        { stdio: ['ignore', 'pipe', log], detached: true });
    } finally {
      closeSync(log); // the child holds its own copy
    }
    const child: Child = {
      proc,
      stopping: false,
      exited: new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))),
    };
    this.#children.set(id, child);
    void child.exited.then((exit) => {
      if (this.#children.get(id) === child) this.#children.delete(id);
      this.#writePids();
      if (!child.stopping) this.#options.progress?.(`node ${id} exited (${exit.signal ?? `exit ${exit.code}`}); its log: ${this.logFile(id)}`);
    });
    const timeoutMs = this.#options.startTimeoutMs ?? 30_000;
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(fail('E_CLUSTER_NODE_EXITED', `Cannot start node ${id}: no listening line within ${timeoutMs} ms; see ${this.logFile(id)}`)), timeoutMs);
        proc.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (/^listening peer=\S+ client=\S+$/m.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
        void child.exited.then((exit) => {
          clearTimeout(timer);
          reject(fail('E_CLUSTER_NODE_EXITED', `Cannot start node ${id}: it exited (${exit.signal ?? `exit ${exit.code}`}) before listening: ${this.#logTail(id)}`));
        });
      });
    } catch (error) {
      child.stopping = true;
      proc.kill('SIGKILL');
      throw error;
    }
    proc.stdout?.resume();
    this.#writePids();
    this.#options.progress?.(`node ${id} listening on ${clientAddresses(this.#config)[this.#config.nodes.findIndex((n) => n.id === id)]} (pid ${proc.pid}), log ${this.logFile(id)}`);
  }

  /**
   * Sends `signal` to node `id` and waits for it to exit.
   * @returns how it exited
   * @throws {@link CivicError} `E_CLUSTER_NOT_RUNNING` when it is not running
   */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<NodeExit> {
    const child = this.#children.get(id);
    if (child === undefined) throw fail('E_CLUSTER_NOT_RUNNING', `Cannot signal node ${id}: it is not running`);
    child.stopping = true;
    child.proc.kill(signal);
    return child.exited;
  }

  /** The status of every node, as {@link clusterStatus}. */
  status(timeoutMs = 1000): Promise<NodeStatus[]> {
    return clusterStatus(this.#config, timeoutMs);
  }

  /**
   * Drains every running node: one SIGTERM each, then waits up to `graceMs` for them to
   * exit (SIGKILL after that); closes the proxies and removes `pids.json`.
   * @returns how each node exited, by id
   */
  async stop(options: { graceMs?: number } = {}): Promise<Map<string, NodeExit>> {
    const graceMs = options.graceMs ?? 15_000;
    this.#stopped = true;
    const children = [...this.#children.entries()];
    for (const [, child] of children) {
      child.stopping = true;
      child.proc.kill(graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
    }
    const exits = new Map<string, NodeExit>();
    await Promise.all(children.map(async ([id, child]) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), graceMs)));
      let exit = await Promise.race([child.exited, late]);
      clearTimeout(timer);
      if (exit === undefined) {
        child.proc.kill('SIGKILL');
        exit = await child.exited;
      }
      exits.set(id, exit);
    }));
    await Promise.all(this.#proxies.map((p) => p.close()));
    rmSync(join(this.#dir, PIDS_FILE), { force: true });
    return exits;
  }

  /** SIGKILLs every node at once without waiting: for a process that is about to exit. */
  killAllNow(): void {
    this.#stopped = true;
    for (const child of this.#children.values()) {
      child.stopping = true;
      child.proc.kill('SIGKILL');
    }
  }

  #writePids(): void {
    if (this.#stopped) return;
    const nodes = Object.fromEntries([...this.#children.entries()].map(([id, c]) => [id, c.proc.pid]));
    writeFileSync(join(this.#dir, PIDS_FILE), `${JSON.stringify({ launcher: process.pid, nodes })}\n`);
  }

  #logTail(id: string): string {
    const text = existsSync(this.logFile(id)) ? readFileSync(this.logFile(id), 'utf8') : '';
    return text.trim().split('\n').slice(-2).join(' / ') || 'its log is empty';
  }
}

/**
 * The replica process, and the cluster config it reads.
 *
 * ```text
 *  node --import tsx weeks/week-11-replication/node_replica_main.ts --config cluster.json --id n1
 *  stdout: listening peer=127.0.0.1:41001 client=127.0.0.1:41002     (once, when ready)
 *  stderr: JSON-lines log (role changes with term and leader)
 *  SIGTERM/SIGINT: drain (refuse new requests, answer those in flight, close storage), exit 0
 * ```
 *
 * The config (paths relative to the config file):
 *
 * ```json
 * { "version": 1, "data_dir": "data", "node_keys": "keys/nodes", "client_keys": "keys/clients",
 *   "tick_ms": 10, "election_ticks": 15, "heartbeat_ticks": 3, "snapshot_every": 100000, "commit_timeout_ms": 5000,
 *   "nodes": [ { "id": "n1", "host": "127.0.0.1", "peer_port": 41001, "client_port": 41002,
 *                "key_dir": "keys/nodes", "proxy": { "port": 41010, "egress": { "n2": 41011, "n3": 41012 } } } ] }
 * ```
 *
 * `node_keys` and `client_keys` are week 8 key directories (or `keyring.json` paths): the
 * public keys a peer message, respectively a signed client command, may be signed with.
 * A node signs with the key named after its id (`<id>-v<N>`) from its `key_dir`. With a
 * `proxy`, traffic into the node's peer port enters at `proxy.port` and the node's own
 * traffic to peer P leaves through `proxy.egress[P]`: one fault proxy cuts the node off in
 * both directions (see `node_fault_proxy.ts`).
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { randomIds, systemClock } from '../../lib/clock.ts';
import { errorFactory, exitCodeOf, formatError, mergeCatalogs } from '../../lib/errors.ts';
import { createLogger, firstSignal, textSink } from '../../lib/framing.ts';
import { parseStrictJson } from '../../lib/hashing.ts';
import { KV_ERRORS } from '../../lib/kv.ts';
import {
  EnvelopeVerifier, generateKey, KeyRing, loadSigner, NODE_BACKEND, NonceCache, readKeyRecords, SIGN_ERRORS, type SyncSigner,
} from '../../lib/signing.ts';
import { WAL_ERRORS } from '../../lib/wal.ts';
import type { PeerAddress } from './node_peer_transport.ts';
import { Replica, type ReplicaOptions, type ReplicatedApp } from './node_replica.ts';
import type { NodeId } from './raft_types.ts';
import { REPLICA_ERRORS } from './replica_catalog.ts';
import { isNodeId } from './replica_protocol.ts';

const fail = errorFactory(REPLICA_ERRORS);

/** A node's fault proxy ports. */
export interface NodeProxyConfig {
  /** Where peers dial this node (forwarded to its `peer_port`). */
  readonly port: number;
  /** Per peer: where this node dials it (forwarded to that peer's entry point). */
  readonly egress: Readonly<Record<NodeId, number>>;
}

/** One node of the cluster config. */
export interface NodeConfig {
  /** The node id (also its signing key's name). */
  readonly id: NodeId;
  /** Host to bind and to be reached at. */
  readonly host: string;
  /** The peer port it listens on. */
  readonly peer_port: number;
  /** The client port it listens on. */
  readonly client_port: number;
  /** The key directory holding its private key `<id>-v<N>.key`. */
  readonly key_dir: string;
  /** Its fault proxy, or null for direct connections. */
  readonly proxy: NodeProxyConfig | null;
}

/** The cluster config file. */
export interface ClusterConfig {
  /** Always 1. */
  readonly version: 1;
  /** Each node stores under `<data_dir>/<id>`. */
  readonly data_dir: string;
  /** The node public keys (key directory or keyring.json). */
  readonly node_keys: string;
  /** The client public keys allowed to sign writes. */
  readonly client_keys: string;
  /** Milliseconds per tick. */
  readonly tick_ms: number;
  /** Election timeout base in ticks. */
  readonly election_ticks: number;
  /** Heartbeat interval in ticks. */
  readonly heartbeat_ticks: number;
  /** Snapshot and compact every this many applied entries. */
  readonly snapshot_every: number;
  /** Proposal deadline before `E_RAFT_UNCERTAIN`. */
  readonly commit_timeout_ms: number;
  /** The nodes, in voter order. */
  readonly nodes: readonly NodeConfig[];
}

function invalid(path: string, why: string): Error {
  return fail('E_CLUSTER_CONFIG_INVALID', `Cannot read cluster config ${path}: ${why}`);
}

function port(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
}

/**
 * Reads and checks a cluster config; relative paths in it are resolved against its directory.
 * @throws CivicError `E_CLUSTER_CONFIG_INVALID` naming the first problem
 */
export function readClusterConfig(path: string): ClusterConfig {
  let raw: unknown;
  try {
    raw = parseStrictJson(readFileSync(path));
  } catch (error) {
    throw invalid(path, error instanceof Error ? error.message : String(error));
  }
  const c = raw as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || c['version'] !== 1 || !Array.isArray(c['nodes'])) throw invalid(path, 'expected {"version": 1, "nodes": [...], ...}');
  for (const name of ['data_dir', 'node_keys', 'client_keys']) if (typeof c[name] !== 'string') throw invalid(path, `${name} must be a path`);
  for (const name of ['tick_ms', 'election_ticks', 'heartbeat_ticks', 'snapshot_every', 'commit_timeout_ms']) {
    if (!Number.isSafeInteger(c[name]) || (c[name] as number) < 1) throw invalid(path, `${name} must be a positive integer`);
  }
  const base = dirname(resolve(path));
  const abs = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const ids = new Set<string>();
  const nodes = (c['nodes'] as unknown[]).map((value): NodeConfig => {
    const n = value as Record<string, unknown>;
    if (typeof n !== 'object' || n === null || typeof n['id'] !== 'string' || !isNodeId(n['id'])) throw invalid(path, 'every node needs an id of a-z 0-9 -');
    const id = n['id'];
    if (ids.has(id)) throw invalid(path, `node ${id} is listed twice`);
    ids.add(id);
    if (typeof n['host'] !== 'string' || !port(n['peer_port']) || !port(n['client_port']) || typeof n['key_dir'] !== 'string') {
      throw invalid(path, `node ${id} needs host, peer_port, client_port and key_dir`);
    }
    const proxy = n['proxy'] as NodeProxyConfig | null | undefined;
    if (proxy !== null && proxy !== undefined && (!port(proxy.port) || typeof proxy.egress !== 'object' || proxy.egress === null)) {
      throw invalid(path, `node ${id} has a proxy without port and egress ports`);
    }
    return { id, host: n['host'], peer_port: n['peer_port'] as number, client_port: n['client_port'] as number, key_dir: abs(n['key_dir']), proxy: proxy ?? null };
  });
  if (nodes.length === 0) throw invalid(path, 'the cluster has no nodes');
  for (const node of nodes) {
    if (node.proxy === null) continue;
    for (const peer of nodes) if (peer.id !== node.id && !port(node.proxy.egress[peer.id])) throw invalid(path, `node ${node.id}'s proxy has no egress port for ${peer.id}`);
  }
  return {
    version: 1, data_dir: abs(c['data_dir'] as string), node_keys: abs(c['node_keys'] as string), client_keys: abs(c['client_keys'] as string),
    tick_ms: c['tick_ms'] as number, election_ticks: c['election_ticks'] as number, heartbeat_ticks: c['heartbeat_ticks'] as number,
    snapshot_every: c['snapshot_every'] as number, commit_timeout_ms: c['commit_timeout_ms'] as number, nodes,
  };
}

/** The config entry of `id`. @throws CivicError `E_CLUSTER_CONFIG_INVALID` when it has none */
export function nodeOf(config: ClusterConfig, id: NodeId): NodeConfig {
  const node = config.nodes.find((n) => n.id === id);
  if (node === undefined) throw fail('E_CLUSTER_CONFIG_INVALID', `Cannot start node ${id}: the cluster config does not list it`);
  return node;
}

/** Where peers reach `node`: its proxy's port, or its peer port. */
export function entryPoint(node: NodeConfig): PeerAddress {
  return { host: node.host, port: node.proxy?.port ?? node.peer_port };
}

/** Where `from` dials `to`: through its own egress proxy when it has one, else `to`'s entry point. */
export function dialAddress(from: NodeConfig, to: NodeConfig): PeerAddress {
  const egress = from.proxy?.egress[to.id];
  return egress === undefined ? entryPoint(to) : { host: from.host, port: egress };
}

/** Everything {@link Replica.start} needs for node `id`, keys loaded. */
export async function replicaOptions(config: ClusterConfig, id: NodeId): Promise<Omit<ReplicaOptions, 'logger'>> {
  const self = nodeOf(config, id);
  const signer = await loadSigner(self.key_dir, id, NODE_BACKEND, systemClock) as SyncSigner;
  const nodeKeys = KeyRing.createSync(NODE_BACKEND, readKeyRecords(config.node_keys));
  const clientKeys = KeyRing.createSync(NODE_BACKEND, readKeyRecords(config.client_keys));
  return {
    id, voters: config.nodes.map((n) => n.id), dataDir: join(config.data_dir, id),
    peerListen: { host: self.host, port: self.peer_port },
    peers: new Map(config.nodes.filter((n) => n.id !== id).map((n) => [n.id, dialAddress(self, n)])),
    clientListen: { host: self.host, port: self.client_port },
    clientAddrs: new Map(config.nodes.map((n) => [n.id, `${n.host}:${n.client_port}`])),
    signer, nodeKeys,
    clientVerifier: new EnvelopeVerifier({ keys: clientKeys, replay: new NonceCache(), clock: systemClock }),
    tickMs: config.tick_ms, electionTicks: config.election_ticks, heartbeatTicks: config.heartbeat_ticks,
    snapshotEvery: config.snapshot_every, commitTimeoutMs: config.commit_timeout_ms,
  };
}

/** Ports the kernel has just handed out (bound to port 0, then released). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((ok, ko) => {
    const server = createServer();
    server.once('error', ko);
    server.listen(0, host, () => ok(server));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  return ports;
}

/** Options of {@link writeCluster}. */
export interface WriteClusterOptions {
  /** How many nodes (ids n1, n2, …). */
  readonly nodes: number;
  /** Give every node a fault proxy. Default false. */
  readonly proxies?: boolean;
  /** Overrides of the tuning fields. */
  readonly tuning?: Partial<Pick<ClusterConfig, 'tick_ms' | 'election_ticks' | 'heartbeat_ticks' | 'snapshot_every' | 'commit_timeout_ms'>>;
  /** Bind host. Default 127.0.0.1. */
  readonly host?: string;
}

/** What {@link writeCluster} made. */
export interface WrittenCluster {
  /** The config file's path. */
  readonly path: string;
  /** The config, paths resolved. */
  readonly config: ClusterConfig;
  /** The key directory of the client key `client-v1`, trusted to sign writes. */
  readonly clientKeyDir: string;
}

/**
 * Writes a cluster into `dir`: node keys (`keys/nodes`), a client key (`keys/clients`,
 * name `client`), and `cluster.json` with free ports, for tests, the launcher and the demo.
 */
export async function writeCluster(dir: string, options: WriteClusterOptions): Promise<WrittenCluster> {
  const host = options.host ?? '127.0.0.1';
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const perNode = options.proxies === true ? 2 + options.nodes : 2;
  const ports = await freePorts(ids.length * perNode, host);
  mkdirSync(dir, { recursive: true });
  for (const id of ids) generateKey(join(dir, 'keys', 'nodes'), id, { clock: systemClock });
  generateKey(join(dir, 'keys', 'clients'), 'client', { clock: systemClock });
  const nodes = ids.map((id, i) => {
    const mine = ports.slice(i * perNode, (i + 1) * perNode);
    const peers = ids.filter((p) => p !== id);
    const proxy = options.proxies === true
      ? { port: mine[2] as number, egress: Object.fromEntries(peers.map((p, j) => [p, mine[3 + j] as number])) }
      : null;
    return { id, host, peer_port: mine[0] as number, client_port: mine[1] as number, key_dir: 'keys/nodes', proxy };
  });
  const file = {
    version: 1, data_dir: 'data', node_keys: 'keys/nodes', client_keys: 'keys/clients',
    tick_ms: 10, election_ticks: 15, heartbeat_ticks: 3, snapshot_every: 100_000, commit_timeout_ms: 5000, ...options.tuning, nodes,
  };
  const path = join(dir, 'cluster.json');
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  return { path, config: readClusterConfig(path), clientKeyDir: join(dir, 'keys', 'clients') };
}

/** What a program built on the replica process chooses (the capstone swaps the application). */
export interface ReplicaProcessOptions {
  /** Makes the application the replica applies committed entries to; default `KvApp` (week 9's state machine). */
  readonly app?: () => ReplicatedApp;
  /** The command line shown in the usage message. */
  readonly usage?: string;
}

/**
 * The replica process: start node `--id` of `--config`, print where it listens, drain on
 * the first SIGTERM or SIGINT.
 * @param argv - the arguments after the script name
 * @param options - the application and the usage line
 * @returns the exit status
 */
export async function runReplicaProcess(argv: readonly string[], options: ReplicaProcessOptions = {}): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: 'string' }, id: { type: 'string' } }, strict: true });
  if (values.config === undefined || values.id === undefined) {
    process.stderr.write(`usage: ${options.usage ?? 'node_replica_main.ts'} --config cluster.json --id <node id>\n`);
    return 2;
  }
  const logger = createLogger({ clock: systemClock, ids: randomIds, sink: textSink((line) => process.stderr.write(line)), fields: { node_id: values.id } });
  const stop = firstSignal(); // listening before anything is bound: no signal is missed
  const config = readClusterConfig(values.config);
  const app = options.app?.();
  const replica = await Replica.start({ ...await replicaOptions(config, values.id), logger, ...(app === undefined ? {} : { app }) });
  process.stdout.write(`listening peer=${nodeOf(config, values.id).host}:${replica.peerPort} client=${nodeOf(config, values.id).host}:${replica.clientPort}\n`);
  const signal = await stop.signal;
  logger.info('draining', { fields: { signal } });
  await replica.close({ graceMs: 5000 });
  logger.info('stopped');
  return 0;
}

/**
 * Runs {@link runReplicaProcess} as the program's main: its status becomes the exit code,
 * and a refusal to start exits with its code's status (a damaged log 8, a bad config 2,
 * a key file's mode 5).
 * @param argv - the arguments after the script name
 * @param options - as for {@link runReplicaProcess}
 */
export function replicaProcessMain(argv: readonly string[], options: ReplicaProcessOptions = {}): void {
  runReplicaProcess(argv, options).then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`${formatError(error)}\n`);
    process.exitCode = exitCodeOf(error, mergeCatalogs(REPLICA_ERRORS, WAL_ERRORS, KV_ERRORS, SIGN_ERRORS));
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) replicaProcessMain(process.argv.slice(2));

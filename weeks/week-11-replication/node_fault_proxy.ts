/**
 * A fault-injecting TCP proxy (Node adapter) for partition and delay drills between real
 * cluster processes.
 *
 * A {@link FaultProxy} owns one or more routes (listen port → target address) that share
 * one fault state, so one proxy per node covers every path into and out of that node:
 *
 * ```text
 *           ┌──────────── proxy of n2 ────────────┐
 *  n1 ─────▶│ ingress :P   ─────────────────────▶ │──▶ n2 peer port
 *  n2 ─────▶│ egress n1 :E1 ──▶ n1's entry point  │
 *  n2 ─────▶│ egress n3 :E3 ──▶ n3's entry point  │
 *           └─────────────────────────────────────┘
 *   partition: every byte on every route is dropped (new connections too), heal: cut the
 *   connections that lost bytes (their streams no longer start at a frame boundary) and
 *   forward again; delay ms: every chunk waits `ms` before it is forwarded, order kept.
 * ```
 *
 * A partition drops bytes rather than resetting connections: the sender's writes succeed
 * into the void, as across a real network split, and only the missing answers tell it.
 *
 * Control: in process ({@link FaultProxy.partition}, {@link FaultProxy.delay},
 * {@link FaultProxy.heal}), or as a process:
 *
 * ```text
 *  node --import tsx weeks/week-11-replication/node_fault_proxy.ts --route 127.0.0.1:7000=127.0.0.1:7001 [--route …]
 *  node --import tsx weeks/week-11-replication/node_fault_proxy.ts --config cluster.json --id n2
 *  stdout: "proxy ready listening=HOST:PORT,…" once listening; then one line per command on stdin:
 *  stdin:  partition | delay <ms> | heal | status     →  stdout: {"ok":true,"partitioned":…,"delay_ms":…}
 * ```
 * @module
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { errorFactory, formatError, isCivicError } from '../../lib/errors.ts';
import type { PeerAddress } from './node_peer_transport.ts';
import { dialAddress, entryPoint, nodeOf, readClusterConfig, type ClusterConfig } from './node_replica_main.ts';
import type { NodeId } from './raft_types.ts';
import { REPLICA_ERRORS } from './replica_catalog.ts';

const fail = errorFactory(REPLICA_ERRORS);

/** One forwarding route. */
export interface ProxyRoute {
  /** Where the proxy listens. */
  readonly listen: PeerAddress;
  /** Where it forwards. */
  readonly target: PeerAddress;
}

/** What the proxy is doing now. */
export interface ProxyState {
  /** True while every byte is dropped. */
  readonly partitioned: boolean;
  /** The delay added to every chunk, ms. */
  readonly delay_ms: number;
  /** Open client-side connections across all routes. */
  readonly connections: number;
  /** Bytes dropped by partitions since start. */
  readonly dropped_bytes: number;
}

/** One proxied connection: the client side, the target side, and whether it lost bytes. */
interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  damaged: boolean;
  released: number;
}

/** A TCP proxy with run-time faults shared by all its routes. */
export class FaultProxy {
  readonly #servers: Server[] = [];
  readonly #pairs = new Set<Pair>();
  #partitioned = false;
  #delayMs = 0;
  #droppedBytes = 0;

  private constructor() {}

  /** Listens on every route's port and starts forwarding. */
  static async start(routes: readonly ProxyRoute[]): Promise<FaultProxy> {
    const proxy = new FaultProxy();
    for (const route of routes) {
      const server = createServer((client) => proxy.#accept(client, route.target));
      await new Promise<void>((ok, ko) => {
        server.once('error', ko);
        server.listen(route.listen.port, route.listen.host, () => {
          server.off('error', ko);
          ok();
        });
      });
      proxy.#servers.push(server);
    }
    return proxy;
  }

  /** The ports listened on, in route order. */
  get ports(): number[] {
    return this.#servers.map((s) => (s.address() as { port: number }).port);
  }

  /** What the proxy is doing. */
  get state(): ProxyState {
    return { partitioned: this.#partitioned, delay_ms: this.#delayMs, connections: this.#pairs.size, dropped_bytes: this.#droppedBytes };
  }

  // #region proxy-partition
  /** Drops every byte on every route, in both directions, until {@link heal}. */
  partition(): void {
    this.#partitioned = true;
  }

  /** Delays every chunk by `ms` from now on (0 removes the delay). */
  delay(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw fail('E_PROXY_COMMAND_INVALID', `Cannot delay by ${ms} ms: expected a non-negative integer`);
    this.#delayMs = ms;
  }

  /**
   * Ends the partition and the delay. Connections that lost bytes are cut: their byte
   * streams no longer start at a frame boundary, so both ends redial and start clean.
   */
  heal(): void {
    this.#partitioned = false;
    this.#delayMs = 0;
    for (const pair of this.#pairs) {
      if (!pair.damaged) continue;
      pair.client.destroy();
      pair.upstream.destroy();
    }
  }

  /** Forwards one direction of a pair, dropping or delaying by the current faults. */
  #pipe(pair: Pair, from: Socket, to: Socket): void {
    from.on('data', (chunk: Uint8Array) => {
      if (this.#partitioned) {
        pair.damaged = true;
        this.#droppedBytes += chunk.length;
        return;
      }
      if (this.#delayMs === 0 && pair.released <= Date.now()) {
        to.write(chunk);
        return;
      }
      // Never overtake an earlier delayed chunk: release times only grow.
      pair.released = Math.max(Date.now() + this.#delayMs, pair.released);
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, pair.released - Date.now());
    });
  }
  // #endregion proxy-partition

  #accept(client: Socket, target: PeerAddress): void {
    const upstream = connect({ host: target.host, port: target.port });
    const pair: Pair = { client, upstream, damaged: false, released: 0 };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const close = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
    this.#pipe(pair, client, upstream);
    this.#pipe(pair, upstream, client);
  }

  /**
   * Runs one control command: `partition`, `delay <ms>`, `heal` or `status`.
   * @returns the state after it
   * @throws CivicError `E_PROXY_COMMAND_INVALID` for anything else
   */
  command(line: string): ProxyState {
    const [verb, arg, extra] = line.trim().split(/\s+/);
    if (verb === 'partition' && arg === undefined) this.partition();
    else if (verb === 'heal' && arg === undefined) this.heal();
    else if (verb === 'delay' && arg !== undefined && extra === undefined && /^\d{1,7}$/.test(arg)) this.delay(Number(arg));
    else if (verb !== 'status' || arg !== undefined) throw fail('E_PROXY_COMMAND_INVALID', `Cannot run proxy command ${JSON.stringify(line.trim())}: expected partition, delay <ms>, heal or status`);
    return this.state;
  }

  /** Stops listening and cuts every connection. */
  async close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    await Promise.all(this.#servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  }
}

/**
 * The routes of node `id`'s proxy in a cluster config: its ingress (to its peer port) and
 * one egress per peer (to that peer's entry point).
 * @throws CivicError `E_CLUSTER_CONFIG_INVALID` when the node has no proxy in the config
 */
export function nodeProxyRoutes(config: ClusterConfig, id: NodeId): ProxyRoute[] {
  const node = nodeOf(config, id);
  if (node.proxy === null) throw fail('E_CLUSTER_CONFIG_INVALID', `Cannot proxy node ${id}: the cluster config gives it no proxy`);
  const routes: ProxyRoute[] = [{ listen: entryPoint(node), target: { host: node.host, port: node.peer_port } }];
  for (const peer of config.nodes) {
    if (peer.id === id) continue;
    routes.push({ listen: dialAddress(node, peer), target: entryPoint(peer) });
  }
  return routes;
}

function parseAddress(text: string): PeerAddress {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  if (match === null) throw fail('E_PROXY_COMMAND_INVALID', `Cannot read address ${JSON.stringify(text)}: expected host:port`);
  return { host: match[1] as string, port: Number(match[2]) };
}

/** The process: start the routes, print `proxy ready`, obey stdin commands until it closes or a signal. */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { route: { type: 'string', multiple: true }, config: { type: 'string' }, id: { type: 'string' } }, strict: true });
  let routes: ProxyRoute[];
  if (values.config !== undefined && values.id !== undefined) {
    routes = nodeProxyRoutes(readClusterConfig(values.config), values.id);
  } else {
    routes = (values.route ?? []).map((spec) => {
      const [listen, target] = spec.split('=');
      return { listen: parseAddress(listen ?? ''), target: parseAddress(target ?? '') };
    });
  }
  if (routes.length === 0) {
    process.stderr.write('usage: node_fault_proxy.ts (--route HOST:PORT=HOST:PORT ... | --config cluster.json --id ID)\n');
    return 2;
  }
  const proxy = await FaultProxy.start(routes);
  process.stdout.write(`proxy ready listening=${routes.map((r, i) => `${r.listen.host}:${proxy.ports[i]}`).join(',')}\n`);
  const lines = createInterface({ input: process.stdin });
  const stop = new Promise<void>((ok) => {
    lines.once('close', ok);
    process.once('SIGTERM', ok);
    process.once('SIGINT', ok);
  });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    try {
      process.stdout.write(`${JSON.stringify({ ok: true, ...proxy.command(line) })}\n`);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ ok: false, code: isCivicError(error) ? error.code : 'E_INTERNAL', message: error instanceof Error ? error.message : String(error) })}\n`);
    }
  });
  await stop;
  lines.close();
  await proxy.close();
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`${formatError(error)}\n`);
    process.exitCode = 1;
  });
}

/**
 * etcd as a benchmark peer: a 3-member etcd cluster on loopback, started from the Debian
 * package's `etcd` binary (`apt-get install etcd-server`, 3.4), and the one request the
 * cluster benchmark sends it — `POST /v3/kv/put` on the JSON gateway, the same 100-byte
 * value CivicTrust's cluster gets.
 *
 * etcd fsyncs its WAL before it acknowledges a put, replicates through Raft and commits on
 * a majority: the same promise our cluster makes, which is what makes it a fair peer.
 * Where the binary is missing the benchmark says so and reports our figures alone.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The etcd binary used, overridable with `ETCD_BIN`. */
const ETCD_BIN = process.env['ETCD_BIN'] ?? 'etcd';

/** True when an `etcd` binary answers `--version`. */
export function etcdAvailable(): boolean {
  const probe = spawnSync(ETCD_BIN, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && /etcd Version/.test(probe.stdout);
}

/** A free loopback TCP port (bound, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One member of the etcd cluster. */
interface Member {
  readonly name: string;
  readonly clientPort: number;
  /** The arguments it was started with (`--initial-cluster-state new`). */
  readonly args: readonly string[];
  process: ChildProcess | null;
}

/** A running 3-member etcd cluster on loopback. */
export class EtcdCluster {
  readonly #members: Member[];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 128 });

  private constructor(members: Member[]) {
    this.#members = members;
  }

  /**
   * Starts three members under `dir` and waits until a put succeeds.
   * @param dir - a scratch directory for the members' data
   * @param options - `ready`: how long to wait for the first put (default 20 s)
   */
  static async start(dir: string, options: { readonly readyMs?: number } = {}): Promise<EtcdCluster> {
    const names = ['e1', 'e2', 'e3'];
    const ports = await Promise.all(names.flatMap(() => [freePort(), freePort()]));
    const members = names.map((name, i) => ({ name, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! }));
    const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
    const cluster = new EtcdCluster(members.map((m) => {
      const data = join(dir, m.name);
      mkdirSync(data, { recursive: true });
      const args = [
        '--name', m.name, '--data-dir', data,
        '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
        '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
        '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', `bench-${process.pid}`,
        '--log-level', 'error', '--logger', 'zap',
      ];
      return { name: m.name, clientPort: m.clientPort, args, process: spawn(ETCD_BIN, args, { stdio: 'ignore' }) };
    }));
    const deadline = Date.now() + (options.readyMs ?? 20_000);
    for (;;) {
      try {
        await cluster.put(0, 'ready', 'x');
        return cluster;
      } catch (error) {
        if (Date.now() > deadline) {
          await cluster.stop();
          throw new Error(`Cannot start etcd: no put succeeded within ${options.readyMs ?? 20_000} ms (${String(error)})`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The members still running, by index. */
  get live(): number[] {
    return this.#members.flatMap((m, i) => (m.process === null ? [] : [i]));
  }

  /**
   * `POST /v3/kv/put` to member `i`; resolves when etcd has committed it.
   * @param i - the member to send to
   * @param key - the key
   * @param value - the value
   * @param timeoutMs - give up after this long (default 2000)
   */
  put(i: number, key: string, value: string, timeoutMs = 2000): Promise<void> {
    const body = JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') });
    return this.#post(i, '/v3/kv/put', body, timeoutMs).then(() => undefined);
  }

  /**
   * Starts member `i` again on its data directory (after {@link kill}) and waits until it
   * takes a put.
   * @param i - the member
   */
  async restart(i: number): Promise<void> {
    const member = this.#members[i]!;
    if (member.process !== null) return;
    const args = member.args.map((arg) => (arg === 'new' ? 'existing' : arg));
    member.process = spawn(ETCD_BIN, args, { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await this.put(i, 'rejoined', 'x');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`Cannot restart etcd member ${member.name}: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The index of the member that is leader now, or -1. */
  async leader(): Promise<number> {
    for (const i of this.live) {
      try {
        const status = JSON.parse(await this.#post(i, '/v3/maintenance/status', '{}')) as { leader?: string; header?: { member_id?: string } };
        if (status.leader !== undefined && status.leader === status.header?.member_id) return i;
      } catch {
        // a member that does not answer is not the leader we can use
      }
    }
    return -1;
  }

  /**
   * SIGKILLs member `i` (the failover figure kills the leader).
   * @param i - the member
   */
  kill(i: number): void {
    this.#members[i]!.process?.kill('SIGKILL');
    this.#members[i]!.process = null;
  }

  /** Kills every member and closes the client's sockets. */
  async stop(): Promise<void> {
    for (const i of this.live) this.kill(i);
    this.#agent.destroy();
    await new Promise((r) => setTimeout(r, 50));
  }

  #post(i: number, path: string, body: string, timeoutMs = 2000): Promise<string> {
    const port = this.#members[i]!.clientPort;
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: this.#agent, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`etcd ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`etcd ${path}: timeout`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/**
 * The `framing` suite: week 2's framed echo over loopback against the smallest raw
 * `node:net` echo, both servers running as separate processes in the same run.
 *
 * | figure | subject | limit |
 * |---|---|---|
 * | round trip 64 B p50 / p99, 4 KiB p99 | `EchoConnection.request`, one at a time, to `civictrust echo serve` | write the bytes to `raw_echo_server.mjs`, wait for as many back |
 * | pipelined 64 B / 4 KiB | 64 requests in flight on one `EchoConnection` | 64 messages in flight on one raw socket |
 * | pipelined 64 B, logged | the same, to a server that appends a JSON record per request to a file | the raw echo |
 *
 * The framed server runs with `--log-level warn` (no per-request record) except in the
 * `logged` figure, which shows what one JSON line per request costs. The raw peer does
 * no framing, no parsing, no logging and no timeouts, so the ratio is the price of all
 * of them. Every reply is checked after the clock stops: framed replies must equal
 * their requests, and the raw byte stream must equal what was sent. The round-trip
 * figures are percentiles of the per-request latencies (p50 and p99), the median over
 * trials of each trial's percentile.
 * @module
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EchoConnection, startServerProcess, type ServerProcess } from '../../../lib/framing.ts';
import type { Figure, Suite, SuiteContext, Trial, Workload } from '../harness.ts';
import { seededBytes, seededRandom } from '../random.ts';

/** The raw echo server script. */
const RAW_SERVER = fileURLToPath(new URL('./raw_echo_server.mjs', import.meta.url));

/** Requests in flight in the pipelined figures, on both sides. */
export const WINDOW = 64;

/** Distinct bodies cycled through, so a reply delivered to the wrong request is caught. */
const BODIES = 16;

/** The three server processes of a run. */
interface Servers {
  readonly framed: ServerProcess;
  readonly logged: ServerProcess;
  readonly raw: ServerProcess;
}

let servers: Servers | undefined;

/** `64 B`, `4 KiB`. */
function sizeLabel(size: number): string {
  return size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
}

/** Same bytes, compared as memory. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/** Opens a raw socket and resolves once connected. */
function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** The seeded request bodies of one figure. */
function bodiesOf(ctx: SuiteContext, size: number): Uint8Array[] {
  const random = seededRandom(ctx.seed + size);
  return Array.from({ length: BODIES }, () => seededBytes(random, size));
}

// #region round-trip
/** Seconds since `started`, a `process.hrtime.bigint()` reading. */
function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** One request at a time: the subject and its raw limit, each trial reporting every round trip's latency. */
function roundTrip(ctx: SuiteContext, size: number, ops: number, port: () => { framed: number; raw: number }) {
  const bodies = bodiesOf(ctx, size);
  const subject: Workload = {
    label: 'framed echo',
    async prepare(): Promise<Trial> {
      const connection = await EchoConnection.open({ host: '127.0.0.1', port: port().framed });
      const replies: Uint8Array[] = [];
      const latencies: number[] = [];
      return {
        async run() {
          for (let i = 0; i < ops; i++) {
            const started = process.hrtime.bigint();
            replies.push(await connection.request(`rt-${i}`, bodies[i % BODIES] as Uint8Array));
            latencies.push(secondsSince(started));
          }
        },
        latencies: () => latencies,
        finish() {
          connection.close();
          ctx.check(replies.every((reply, i) => same(reply, bodies[i % BODIES] as Uint8Array)), 'every framed reply equals its request');
        },
      };
    },
  };
  const peer: Workload = {
    label: 'raw net echo',
    async prepare(): Promise<Trial> {
      const socket = await rawSocket(port().raw);
      const received: Buffer[] = [];
      const latencies: number[] = [];
      let waiting = 0;
      let wake: () => void = () => {};
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        waiting -= chunk.length;
        if (waiting <= 0) wake();
      });
      return {
        async run() {
          for (let i = 0; i < ops; i++) {
            const body = bodies[i % BODIES] as Uint8Array;
            const started = process.hrtime.bigint();
            await new Promise<void>((resolve) => {
              wake = resolve;
              waiting += body.length;
              socket.write(body);
            });
            latencies.push(secondsSince(started));
          }
        },
        latencies: () => latencies,
        finish() {
          socket.destroy();
          const expected = Buffer.concat(Array.from({ length: ops }, (_, i) => bodies[i % BODIES] as Uint8Array));
          ctx.check(Buffer.concat(received).equals(expected), 'the raw echo returned exactly the bytes sent');
        },
      };
    },
  };
  return { subject, peer };
}
// #endregion round-trip

// #region pipelined
/** {@link WINDOW} requests in flight: the subject and its raw limit. */
function pipelined(ctx: SuiteContext, size: number, ops: number, port: () => { framed: number; raw: number }, logged = false) {
  const bodies = bodiesOf(ctx, size);
  const subject: Workload = {
    label: logged ? 'framed echo + log' : 'framed echo',
    async prepare(): Promise<Trial> {
      const connection = await EchoConnection.open({ host: '127.0.0.1', port: port().framed });
      const replies: Uint8Array[] = new Array(ops);
      let next = 0;
      const worker = async () => {
        while (next < ops) {
          const i = next++;
          replies[i] = await connection.request(`p-${i}`, bodies[i % BODIES] as Uint8Array);
        }
      };
      return {
        async run() {
          await Promise.all(Array.from({ length: WINDOW }, worker));
        },
        finish() {
          connection.close();
          ctx.check(replies.every((reply, i) => same(reply, bodies[i % BODIES] as Uint8Array)), 'every framed reply equals its request');
        },
      };
    },
  };
  const peer: Workload = {
    label: 'raw net echo',
    async prepare(): Promise<Trial> {
      const socket = await rawSocket(port().raw);
      const received: Buffer[] = [];
      return {
        run() {
          // A message counts as answered once as many bytes as it held have come back.
          return new Promise<void>((resolve) => {
            let sent = 0;
            let receivedBytes = 0;
            let answered = 0;
            let answeredBytes = 0;
            const pump = () => {
              while (sent < ops && sent - answered < WINDOW) {
                const body = bodies[sent % BODIES] as Uint8Array;
                socket.write(body);
                sent++;
              }
            };
            socket.on('data', (chunk: Buffer) => {
              received.push(chunk);
              receivedBytes += chunk.length;
              while (answered < sent && answeredBytes + size <= receivedBytes) {
                answeredBytes += size;
                answered++;
              }
              if (answered === ops) resolve();
              else pump();
            });
            pump();
          });
        },
        finish() {
          socket.destroy();
          const expected = Buffer.concat(Array.from({ length: ops }, (_, i) => bodies[i % BODIES] as Uint8Array));
          ctx.check(Buffer.concat(received).equals(expected), 'the raw echo returned exactly the bytes sent');
        },
      };
    },
  };
  return { subject, peer };
}
// #endregion pipelined

/** The `framing` suite. */
export const FRAMING_SUITE: Suite = {
  name: 'framing',
  title: 'week 2 framed echo over loopback vs a raw node:net echo',
  async figures(ctx: SuiteContext): Promise<readonly Figure[]> {
    ctx.progress('starting the framed, logged and raw echo servers');
    const quiet = ['--log-level', 'warn', '--idle-timeout-ms', '600000'];
    const [framed, logged, raw] = await Promise.all([
      startServerProcess(quiet),
      startServerProcess(['--log', join(ctx.tmpDir, 'server.log'), '--idle-timeout-ms', '600000']),
      startServerProcess([], { entry: RAW_SERVER }),
    ]);
    servers = { framed, logged, raw };
    const ports = () => ({ framed: framed.port, raw: raw.port });
    const loggedPorts = () => ({ framed: logged.port, raw: raw.port });
    const rtOps = ctx.short ? 20 : 2000;
    const small = ctx.short ? 200 : 20_000;
    const large = ctx.short ? 50 : 5000;
    return [
      { name: `round trip ${sizeLabel(64)}`, metric: 'p50', unit: 'rt', ops: rtOps, bytesPerOp: 64, ...roundTrip(ctx, 64, rtOps, ports), relation: 'limit' },
      { name: `round trip ${sizeLabel(64)}, tail`, metric: 'p99', unit: 'rt', ops: rtOps, bytesPerOp: 64, ...roundTrip(ctx, 64, rtOps, ports), relation: 'limit' },
      { name: `round trip ${sizeLabel(4096)}, tail`, metric: 'p99', unit: 'rt', ops: rtOps, bytesPerOp: 4096, ...roundTrip(ctx, 4096, rtOps, ports), relation: 'limit' },
      {
        name: `pipelined ${sizeLabel(64)} ×${WINDOW}`, metric: 'throughput', unit: 'frame', ops: small, bytesPerOp: 64,
        ...pipelined(ctx, 64, small, ports), relation: 'limit', target: { atLeast: 0.8 },
      },
      {
        name: `pipelined ${sizeLabel(4096)} ×${WINDOW}`, metric: 'throughput', unit: 'frame', ops: large, bytesPerOp: 4096,
        ...pipelined(ctx, 4096, large, ports), relation: 'limit', target: { atLeast: 0.8 },
      },
      {
        name: `pipelined ${sizeLabel(64)} ×${WINDOW}, logged`, metric: 'throughput', unit: 'frame', ops: small, bytesPerOp: 64,
        ...pipelined(ctx, 64, small, loggedPorts, true), relation: 'limit',
      },
    ];
  },
  async teardown() {
    const running = servers;
    servers = undefined;
    if (running !== undefined) await Promise.all([running.framed.stop(), running.logged.stop(), running.raw.stop()]);
  },
};

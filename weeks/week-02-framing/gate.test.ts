/**
 * The week 2 gate: one or more tests per criterion of the gate table, each named
 * `[2.k] <claim>`, plus negative controls that show each check can fail.
 * `npm run gate -- week-2` maps them to the criteria.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { counterIds } from '../../lib/clock.ts';
import { EXIT } from '../../lib/errors.ts';
import { errorCodeOf, runCliProcess, type CliResult } from '../../lib/testing.ts';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES_LIMIT } from './frame.ts';
import { frameMessage, parseMessage } from './message.ts';
import { EchoServer } from './node_echo_server.ts';
import { RawPeer, startServerProcess, waitForRecords, type LoggedRecord } from './node_test_support.ts';
import { backoffDelay, seededRandom } from './retry.ts';
import { createLogger, memorySink } from './structured_log.ts';
import { makeWorkspace } from '../../lib/testing.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const MAIN = join(here, 'node_main.ts');
const workspace = makeWorkspace('week2');
const fresh = workspace.fresh;
afterAll(() => workspace.remove());
const text = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Runs week 2's CLI as a real process, as another user when `uid` is given (root only). */
const civictrust = (args: readonly string[], options: { uid?: number } = {}): Promise<CliResult> =>
  runCliProcess(args, options.uid === undefined
    ? { entry: MAIN }
    : { uid: options.uid, spec: { module: new URL('./node_echo_cli.ts', import.meta.url), name: 'WEEK2_CLI' } });

/** Records of a JSON-lines log file. */
function readRecords(path: string): LoggedRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as LoggedRecord);
}

/** A throwaway in-test TCP server that misbehaves as told, counting connections. */
async function fakeServer(onConnection: (socket: Socket) => void): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: bound by the kernel, then released. */
async function closedPort(): Promise<number> {
  const server = await fakeServer(() => {});
  await server.close();
  return server.port;
}

/** The `frame begun` records of a server running with --log-level debug. */
const begun = (records: readonly LoggedRecord[]) => records.filter((r) => r.msg === 'frame begun');

describe('week-02 · stream-safe framing over TCP', () => {
  // ---------------------------------------------------------------------------------
  // [2.1] the failure drill

  it('[2.1] failure drill: clients that hang up or are killed mid-frame leave the server serving others, each logged with E_FRAME_TRUNCATED', () => {
    const run = spawnSync(process.execPath, [join(here, 'drill.mjs'), '--json'], { encoding: 'utf8' });
    const report = JSON.parse(run.stdout) as { pass: boolean; steps: { name: string; pass: boolean; got: string }[] };
    expect(report.steps.filter((s) => !s.pass)).toEqual([]);
    expect(report.steps.map((s) => s.name)).toEqual(expect.arrayContaining([
      'a client process is killed after sending half a frame',
      'the server process is still running',
      'the steady connection still gets echoes',
      'a new client process gets its echo',
      'each mid-frame hang-up is logged with E_FRAME_TRUNCATED',
    ]));
    expect(run.status).toBe(0);
  });

  it('[2.1] negative control: a server that assumes peers finish their frames crashes, and the same drill fails it', () => {
    const naive = join(here, 'testdata', 'naive_echo_server.mjs');
    const run = spawnSync(process.execPath, [join(here, 'drill.mjs'), '--json', '--server', naive], { encoding: 'utf8' });
    const report = JSON.parse(run.stdout) as { pass: boolean; steps: { name: string; pass: boolean }[] };
    expect(report.pass).toBe(false);
    expect(report.steps.filter((s) => !s.pass).map((s) => s.name)).toEqual(expect.arrayContaining([
      'the server process is still running',
      'the steady connection still gets echoes',
    ]));
    expect(run.status).toBe(1);
  });

  it('[2.1] the close record names the bytes that arrived and the bytes announced', async () => {
    const memory = memorySink();
    const logger = createLogger({ clock: { now: () => Date.now() }, ids: counterIds('s'), sink: memory.sink });
    const server = await EchoServer.listen({ port: 0, logger });
    try {
      const peer = await RawPeer.open(server.address.port);
      peer.end(new Uint8Array([0, 0, 0x03, 0xe8, ...new Uint8Array(100)])); // 1000 announced, 100 sent
      await peer.closed;
      await sleep(50);
      const closed = memory.records.find((r) => r.msg === 'connection closed');
      expect(closed).toMatchObject({ level: 'warn', fields: { result: 'closed', reason: 'peer_closed_mid_frame', error_code: 'E_FRAME_TRUNCATED' } });
      expect(closed?.fields?.detail).toBe('Cannot decode frame: stream ended after 100 of 1000 payload bytes');
    } finally {
      await server.close({ reason: 'test', graceMs: 100 });
    }
  });

  // ---------------------------------------------------------------------------------
  // [2.2] framing under fragmentation, and the size limit

  // #region fragmentation-property
  it('[2.2] frames split at arbitrary chunk boundaries decode to exactly the frames sent (property)', () => {
    const payloads = fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }); // empty payloads included
    fc.assert(fc.property(payloads, fc.array(fc.nat(), { maxLength: 30 }), (sent, cutSeeds) => {
      const stream = new Uint8Array(sent.flatMap((p) => [...encodeFrame(p)]));
      const cuts = [...new Set(cutSeeds.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const decoder = new FrameDecoder();
      const got: Uint8Array[] = [];
      let start = 0;
      for (const end of [...cuts, stream.length]) {
        got.push(...decoder.push(stream.subarray(start, end)));
        start = end;
      }
      decoder.end(); // the stream ended at a frame boundary: no E_FRAME_TRUNCATED
      expect(got).toEqual(sent);
    }), { seed: 0x2_2, numRuns: 500 });
  });

  it('[2.2] every single split point, and one byte at a time, give the same frames', () => {
    const sent = [text('a'), new Uint8Array(0), text('hello, frames'), new Uint8Array(300).fill(7), text('z')];
    const stream = new Uint8Array(sent.flatMap((p) => [...encodeFrame(p)]));
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const decoder = new FrameDecoder();
      expect([...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))], `cut at ${cut}`).toEqual(sent);
    }
    const decoder = new FrameDecoder();
    const byteByByte = Array.from(stream, (byte) => decoder.push(new Uint8Array([byte]))).flat();
    expect(byteByByte).toEqual(sent);
  });
  // #endregion fragmentation-property

  it('[2.2] over a real socket, a request written one byte per write gets its echo', async () => {
    const memory = memorySink();
    const logger = createLogger({ clock: { now: () => Date.now() }, ids: counterIds('s'), sink: memory.sink });
    const server = await EchoServer.listen({ port: 0, logger });
    try {
      const peer = await RawPeer.open(server.address.port);
      const frame = frameMessage({ type: 'echo', requestId: 'drip-1', body: text('one byte at a time') });
      for (const byte of frame) {
        await peer.write(new Uint8Array([byte]));
        await new Promise((resolve) => setImmediate(resolve)); // let each byte go out on its own
      }
      expect(parseMessage(await peer.readFrame())).toMatchObject({ type: 'echo_reply', requestId: 'drip-1', body: text('one byte at a time') });
      peer.destroy();
    } finally {
      await server.close({ reason: 'test', graceMs: 100 });
    }
  });

  // #region no-allocation
  /**
   * Feeds a decoder only the 4 header bytes of a frame announcing 0xFFFFFFFF bytes,
   * through a counting allocator, and lists what went wrong.
   */
  function refusesBeforeAllocating(makeDecoder: (allocate: (n: number) => Uint8Array) => { push(chunk: Uint8Array): Uint8Array[] }): string[] {
    const allocations: number[] = [];
    const decoder = makeDecoder((n) => {
      allocations.push(n);
      return new Uint8Array(Math.min(n, 16)); // never really allocate 4 GiB, even for a broken decoder
    });
    const problems: string[] = [];
    const before = process.memoryUsage().arrayBuffers;
    try {
      decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
      problems.push('the header was accepted');
    } catch (error) {
      if ((error as { code?: string }).code !== 'E_FRAME_OVERSIZE') problems.push(`threw ${String(error)}`);
    }
    if (allocations.length > 0) problems.push(`allocated ${allocations.join(', ')} bytes`);
    const grown = process.memoryUsage().arrayBuffers - before;
    if (grown > 1024 * 1024) problems.push(`array buffers grew by ${grown} bytes`);
    return problems;
  }

  it('[2.2] a length of 0xFFFFFFFF is refused with E_FRAME_OVERSIZE from the 4 header bytes alone, allocating nothing', () => {
    expect(refusesBeforeAllocating((allocate) => new FrameDecoder({ allocate }))).toEqual([]);
    // Even a decoder configured for the largest length a header can state allocates only what arrives to fill it.
    expect(refusesBeforeAllocating((allocate) => new FrameDecoder({ allocate, maxFrameBytes: MAX_FRAME_BYTES_LIMIT - 1 }))).toEqual([]);
  });

  it('[2.2] negative control: a decoder that allocates the announced length before checking it is caught', () => {
    const allocateThenCheck = (allocate: (n: number) => Uint8Array) => ({
      push(chunk: Uint8Array): Uint8Array[] {
        const length = new DataView(chunk.buffer, chunk.byteOffset).getUint32(0);
        const payload = allocate(length); // the bug: the attacker's number sizes memory first
        if (length > 1024 * 1024) throw Object.assign(new Error('too big'), { code: 'E_FRAME_OVERSIZE' });
        return [payload];
      },
    });
    expect(refusesBeforeAllocating(allocateThenCheck)).toEqual(['allocated 4294967295 bytes']);
  });
  // #endregion no-allocation

  it('[2.2] the real server answers a 0xFFFFFFFF header with E_FRAME_OVERSIZE at once and keeps serving', async () => {
    const log = fresh('oversize.log');
    const server = await startServerProcess(['--log', log]);
    try {
      const peer = await RawPeer.open(server.port);
      await peer.write(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
      expect(parseMessage(await peer.readFrame())).toMatchObject({ type: 'error', errorCode: 'E_FRAME_OVERSIZE' });
      await peer.closed;
      const ok = await civictrust(['echo', 'send', '--port', String(server.port), 'after the oversize header']);
      expect([ok.code, ok.stdout]).toEqual([EXIT.ok, 'after the oversize header\n']);
      const records = await waitForRecords(log, (rs) => rs.some((r) => r.reason === 'oversize_frame'));
      expect(records.find((r) => r.reason === 'oversize_frame')).toMatchObject({ error_code: 'E_FRAME_OVERSIZE', level: 'warn' });
    } finally {
      await server.stop();
    }
  });

  // ---------------------------------------------------------------------------------
  // [2.3] server lifecycle: startup failures, SIGTERM, timeouts

  // #region startup-failures
  it('[2.3] startup failures exit with a stable code: port in use 7, privileged port 5, foreign address 2', async () => {
    const taken = await fakeServer(() => {});
    const isRoot = process.getuid?.() === 0;
    const lowPortsOpen = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 1;
    try {
      const [inUse, privileged, foreign] = await Promise.all([
        civictrust(['echo', 'serve', '--port', String(taken.port)]),
        lowPortsOpen && !isRoot ? Promise.resolve(undefined) : civictrust(['echo', 'serve', '--port', '1'], isRoot ? { uid: 65534 } : {}),
        civictrust(['echo', 'serve', '--host', '203.0.113.7', '--port', '0']), // TEST-NET-3: never ours
      ]);
      expect([inUse.code, errorCodeOf(inUse.stderr), inUse.stdout]).toEqual([EXIT.unavailable, 'E_NET_ADDR_IN_USE', '']);
      if (privileged !== undefined) expect([privileged.code, errorCodeOf(privileged.stderr)]).toEqual([EXIT.permission, 'E_NET_PERMISSION']);
      expect([foreign.code, errorCodeOf(foreign.stderr)]).toEqual([EXIT.usage, 'E_NET_BAD_ADDRESS']);
      expect(inUse.stderr).toContain('hint: Stop the other process, choose another --port, or use --port 0');
      expect(inUse.stderr).toMatch(/"msg":"server failed to start".*"error_code":"E_NET_ADDR_IN_USE"/);
    } finally {
      await taken.close();
    }
  });
  // #endregion startup-failures

  // #region sigterm
  it('[2.3] SIGTERM stops accepting, lets a half-received frame finish and get its reply, cuts a stalled one at the grace period, exits 0', async () => {
    const log = fresh('sigterm.log');
    const server = await startServerProcess(['--log', log, '--log-level', 'debug', '--grace-ms', '1500']);
    const idle = await RawPeer.open(server.port);
    const inFlight = await RawPeer.open(server.port);
    const stalled = await RawPeer.open(server.port);
    const request = frameMessage({ type: 'echo', requestId: 'gate-in-flight', body: new Uint8Array(1000).fill(0x69) });
    await inFlight.write(request.subarray(0, 300));
    await stalled.write(request.subarray(0, 10));
    await waitForRecords(log, (rs) => begun(rs).length === 2); // the server holds both partial frames

    process.kill(server.pid, 'SIGTERM');
    await waitForRecords(log, (rs) => rs.some((r) => r.msg === 'server stopping'));
    await expect(RawPeer.open(server.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' }); // no new connections
    await idle.closed; // closed at once: it was at a frame boundary
    await inFlight.write(request.subarray(300));
    expect(parseMessage(await inFlight.readFrame())).toMatchObject({ type: 'echo_reply', requestId: 'gate-in-flight' });
    await inFlight.closed;

    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const records = readRecords(log);
    const closes = records.filter((r) => r.msg === 'connection closed').map((r) => [r.conn, r.reason]);
    expect(closes).toEqual(expect.arrayContaining([['c1', 'shutdown'], ['c2', 'shutdown'], ['c3', 'shutdown_grace_expired']]));
    expect(records.find((r) => r.request_id === 'gate-in-flight')).toMatchObject({ msg: 'echo', result: 'ok' });
    expect(records.at(-1)).toMatchObject({ msg: 'server stopped', reason: 'sigterm', drained: 2, forced: 1 });
    expect(stalled.isClosed).toBe(true);
  });
  // #endregion sigterm

  // #region timeouts
  it('[2.3] an idle connection and a stalled frame are closed after their timeouts, and the log says which', async () => {
    const log = fresh('timeouts.log');
    // The read limit is the shorter one here: a frame that begins must bring its deadline forward.
    const server = await startServerProcess(['--log', log, '--idle-timeout-ms', '900', '--read-timeout-ms', '300']);
    try {
      const opened = Date.now();
      const idle = await RawPeer.open(server.port);
      const stalled = await RawPeer.open(server.port);
      await stalled.write(new Uint8Array([0, 0, 0, 100, 1, 2, 3])); // 3 of 100 payload bytes, then silence
      const dribbler = await RawPeer.open(server.port);
      await dribbler.write(new Uint8Array([0, 0, 1, 0])); // a frame of 256 bytes…
      const dribble = (async () => { //                      …sent a byte every 50 ms: never idle, never done in time
        for (let i = 0; i < 60 && !dribbler.isClosed; i += 1) {
          await sleep(50);
          await dribbler.write(new Uint8Array([0x64])).catch(() => {});
        }
      })();
      let stalledAt = 0;
      void stalled.closed.then(() => (stalledAt = Date.now() - opened));
      await Promise.all([idle.closed, stalled.closed, dribbler.closed]);
      const idleAt = Date.now() - opened;
      expect(idleAt).toBeGreaterThanOrEqual(880); // not before the idle limit…
      expect(stalledAt).toBeLessThan(idleAt - 300); // …while the stalled frame went at its read limit, well before
      await dribble;
      const records = await waitForRecords(log, (rs) => rs.filter((r) => r.msg === 'connection closed').length === 3);
      const byConn = Object.fromEntries(records.filter((r) => r.msg === 'connection closed').map((r) => [r.conn, r]));
      expect(byConn.c1).toMatchObject({ level: 'warn', result: 'closed', reason: 'idle_timeout' });
      expect(byConn.c2).toMatchObject({ level: 'warn', result: 'closed', reason: 'read_timeout', error_code: 'E_NET_TIMEOUT', pending_bytes: 7 });
      expect(byConn.c3).toMatchObject({ reason: 'read_timeout', error_code: 'E_NET_TIMEOUT' });
      expect(byConn.c3?.pending_bytes).toBeGreaterThan(4); // it kept sending, and was cut all the same
    } finally {
      await server.stop();
    }
  });

  it('[2.3] negative control: keep-alive frames hold a connection open well past the idle timeout', async () => {
    const server = await startServerProcess(['--idle-timeout-ms', '300']);
    try {
      const peer = await RawPeer.open(server.port);
      for (let i = 0; i < 10; i += 1) { // 1 s of keep-alives, 100 ms apart
        await peer.write(new Uint8Array(4));
        await sleep(100);
      }
      expect(peer.isClosed).toBe(false);
      await peer.write(frameMessage({ type: 'echo', requestId: 'kept-alive', body: text('still open') }));
      expect(parseMessage(await peer.readFrame())).toMatchObject({ type: 'echo_reply', requestId: 'kept-alive' });
      peer.destroy();
    } finally {
      await server.stop();
    }
  });
  // #endregion timeouts

  // ---------------------------------------------------------------------------------
  // [2.4] client retries and request ids

  // #region retry-refused
  it('[2.4] a refused connection is retried with backoff, then fails with the definite E_NET_REFUSED (exit 7)', async () => {
    const log = fresh('refused-client.log');
    const r = await civictrust(['echo', 'send', '--port', String(await closedPort()), '--request-id', 'gate-refused', '--log', log, 'hello']);
    expect([r.code, errorCodeOf(r.stderr)]).toEqual([EXIT.unavailable, 'E_NET_REFUSED']);
    expect(r.stderr).toMatch(/\(4 attempts in \d+ ms, stopped: attempts_exhausted\)/);
    const attempts = readRecords(log).map((rec) => [rec.request_id, rec.attempt, rec.result, rec.error_code, rec.reason]);
    expect(attempts).toEqual([
      ['gate-refused', 1, 'retry', 'E_NET_REFUSED', 'definite_transport'],
      ['gate-refused', 2, 'retry', 'E_NET_REFUSED', 'definite_transport'],
      ['gate-refused', 3, 'retry', 'E_NET_REFUSED', 'definite_transport'],
      ['gate-refused', 4, 'error', 'E_NET_REFUSED', 'attempts_exhausted'],
    ]);
    const delays = readRecords(log).flatMap((rec) => (rec.delay_ms === undefined ? [] : [rec.delay_ms as number]));
    delays.forEach((ms, i) => expect(ms).toBeLessThan(50 * 2 ** i)); // full jitter under a doubling ceiling
  });
  // #endregion retry-refused

  // #region retry-table
  it('[2.4] protocol errors are never retried; an unclear failure is retried only for an idempotent request', async () => {
    const oversize = await fakeServer((socket) => socket.once('data', () => socket.write(new Uint8Array([0xff, 0xff, 0xff, 0xff]))));
    const hangUp = await fakeServer((socket) => socket.once('data', () => socket.destroy())); // got it, then gone
    try {
      const send = (port: number, idempotent: string) => civictrust(['echo', 'send', '--port', String(port), '--idempotent', idempotent, 'x']);
      const [protocol, unsafe, safe] = [await send(oversize.port, 'yes'), await send(hangUp.port, 'no'), await send(hangUp.port, 'yes')];
      expect([protocol.code, errorCodeOf(protocol.stderr), oversize.connections()]).toEqual([EXIT.data, 'E_FRAME_OVERSIZE', 1]);
      expect(protocol.stderr).toContain('stopped: protocol_error');
      expect([unsafe.code, errorCodeOf(unsafe.stderr)]).toEqual([EXIT.unavailable, 'E_NET_CLOSED']);
      expect(unsafe.stderr).toContain('(1 attempt in');
      expect(unsafe.stderr).toContain('stopped: indefinite_not_idempotent');
      expect([safe.code, errorCodeOf(safe.stderr)]).toEqual([EXIT.unavailable, 'E_NET_CLOSED']);
      expect(safe.stderr).toContain('(4 attempts in');
      expect(hangUp.connections()).toBe(1 + 4);
    } finally {
      await Promise.all([oversize.close(), hangUp.close()]);
    }
  });
  // #endregion retry-table

  it('[2.4] backoff waits are full jitter: uniform below a doubling, capped ceiling (seeded property)', () => {
    const policy = { baseDelayMs: 50, maxDelayMs: 1000 };
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 30 }), (seed, retry) => {
      const delay = backoffDelay(retry, policy, seededRandom(seed));
      return delay >= 0 && delay < Math.min(1000, 50 * 2 ** (retry - 1));
    }), { seed: 0x2_4 });
    // Over many draws the waits cover the whole interval, not a slice near its top.
    const random = seededRandom(99);
    const waits = Array.from({ length: 2000 }, () => backoffDelay(4, policy, random));
    expect(Math.min(...waits)).toBeLessThan(40);
    expect(Math.max(...waits)).toBeGreaterThan(360);
  });

  // #region request-id-both-logs
  it('[2.4] each request id appears in both the client log and the server log', async () => {
    const serverLog = fresh('server.log');
    const clientLog = fresh('client.log');
    const server = await startServerProcess(['--log', serverLog, '--node-id', 'gate-server']);
    try {
      const port = String(server.port);
      const client = ['echo', 'send', '--port', port, '--log', clientLog, '--node-id', 'gate-client'];
      const [named, drawn] = await Promise.all([
        civictrust([...client, '--request-id', 'gate-req-1', 'first']), // the caller names the id
        civictrust([...client, '--json', 'second']), //                   the client draws one
      ]);
      expect([named.code, drawn.code]).toEqual([EXIT.ok, EXIT.ok]);
      const ids = ['gate-req-1', (JSON.parse(drawn.stdout) as { request_id: string }).request_id];
      await waitForRecords(serverLog, (rs) => rs.filter((r) => r.msg === 'echo').length === 2);
      // week 1's `log search --request-id` finds each request in each log…
      const searches = ids.flatMap((id) => [serverLog, clientLog].map((file) => civictrust(['log', 'search', '-f', file, '--request-id', id, '--json'])));
      // …and, as a negative control, an id that was never sent in neither (search exits 1).
      const [absent, ...found] = await Promise.all([civictrust(['log', 'search', '-f', serverLog, '--request-id', 'never-sent']), ...searches]);
      found.forEach((result, i) => {
        const id = ids[Math.floor(i / 2)];
        const record = JSON.parse(result.stdout) as LoggedRecord;
        const common = { request_id: id, msg: 'echo', result: 'ok', latency_ms: expect.any(Number) };
        expect(record).toMatchObject(i % 2 === 0 ? { ...common, node_id: 'gate-server' } : { ...common, node_id: 'gate-client', attempt: 1 });
      });
      expect(absent.code).toBe(EXIT.negative);
    } finally {
      await server.stop();
    }
  });
  // #endregion request-id-both-logs
});

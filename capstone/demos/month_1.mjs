#!/usr/bin/env node
/**
 * Month 1 demo ("Byte Wrangler"): what weeks 1–4 built, shown on real processes.
 *
 * One `civictrust server run` child process (the week-3 frame server with its week-4
 * `/healthz` listener, logging JSON lines to a file) is driven from this script:
 *
 *   1. start it on ephemeral ports and read the address it prints;
 *   2. probe `/healthz` with the week-4 HTTP client under a chosen request id, and find
 *      that id again in the server's log;
 *   3. load it with N concurrent echo clients (week 2) for three payload sizes and
 *      measure latency percentiles, throughput and success rate;
 *   4. SIGKILL it in the middle of a load phase, classify what the clients saw with
 *      week 2's retry rule, restart it on the same ports, wait for `/healthz`, and
 *      measure the outage and the recovery;
 *   5. write the figures as JSON and as a markdown table, and stop every child process.
 *
 * Every step prints `ok` or `FAIL`; the exit status is 0 only when every check passed.
 * Only 127.0.0.1 is used; every loop and wait has a deadline.
 *
 *   npm run demo -- month-1              about 45 s (10 s per load phase)
 *   npm run demo -- month-1 --quick      about 12 s (2 s per load phase)
 *   npm run demo -- month-1 --json       the report on stdout, everything else on stderr
 * @module
 */
import { $, fs, os, path } from 'zx';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { counterIds, systemClock } from '../../lib/clock.ts';
import { EXIT } from '../../lib/errors.ts';
import { EchoClient, backoffDelay, classifyFailure, failureKind, seededRandom } from '../../lib/framing.ts';
import { REQUEST_ID_HEADER, headerValue, httpOutcomeRecord, httpRequest } from '../../lib/http.ts';
import { formatRecord } from '../../lib/logger.ts';
import { LatencyHistogram } from '../../lib/server.ts';
import { TSX_LOADER } from '../../lib/testing.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const DEFAULT_ENTRY = path.join(ROOT, 'capstone/bin/civictrust.mjs');
const HOST = '127.0.0.1';
const KIB = 1024;
/** The payload sizes of the baseline, smallest first. */
const SIZES = [64, 4 * KIB, 64 * KIB];
/** The payload size of the failure phase. */
const FAILURE_SIZE = 4 * KIB;
/** How long a starting server may take to print its address (tsx compiles on first start). */
const START_TIMEOUT_MS = 30_000;
/** How long the demo waits for `/healthz` to come back after the restart. */
const RECOVERY_TIMEOUT_MS = 30_000;
/** Each client sends one request at a time and never retries inside the client: every failure is seen. */
const NO_RETRY = { maxAttempts: 1, maxTotalMs: 10_000, baseDelayMs: 1, maxDelayMs: 1 };
/** The pause after a failed request: week 2's full-jitter backoff, so 50 clients do not hammer a dead port. */
const FAILURE_BACKOFF = { baseDelayMs: 10, maxDelayMs: 200 };
/** Generous per-request deadlines: the demo measures, it does not race. */
const CLIENT_DEADLINES = { connectTimeoutMs: 2_000, replyTimeoutMs: 10_000 };
const PROBE_TIMEOUTS = { connectMs: 1_000, readMs: 2_000, totalMs: 3_000 };

const USAGE = `Usage: npm run demo -- month-1 [flags]

Month 1 demo: the framed echo server as a real process, probed over HTTP, loaded by
concurrent clients at three payload sizes, then SIGKILLed mid-load and restarted on
the same port. Prints each step with an ok/FAIL verdict, a metrics table, and writes
month-1-report.json and month-1-report.md. Exits 0 when every check passed, 1 when
one failed, 2 for bad flags.

Flags:
      --quick         2 s per load phase (about 12 s in all) instead of 10 s (about 45 s)
      --seconds N     seconds per load phase (1-600); the failure phase takes about as long
      --clients N     concurrent echo clients (1-500, default 50)
      --seed N        seeds the payload bytes and the backoff jitter (default 1)
      --out DIR       where server.log and the reports go, replacing those of an earlier
                      run (default a new temp directory, kept for inspection)
      --server FILE   the CLI entry to start (default capstone/bin/civictrust.mjs); it gets
                      server run --port P --health-port H --log PATH --json
      --json          print the report as JSON on stdout; steps and progress go to stderr
  -h, --help          show this help
`;

/** Thrown for a bad flag; `main` turns it into `error[E_DEMO_USAGE]` and exit 2. */
class UsageError extends Error {}

/** Reads a whole number flag within bounds. */
function intFlag(values, name, fallback, min, max) {
  const text = values[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`Cannot use --${name} ${JSON.stringify(text)}: it must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Parses the command line into the demo's configuration. */
function configure(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        seconds: { type: 'string' },
        clients: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        server: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(`Cannot parse the flags: ${error.message}`);
  }
  const v = parsed.values;
  const seconds = intFlag(v, 'seconds', v.quick ? 2 : 10, 1, 600);
  return {
    help: v.help,
    json: v.json,
    quick: v.quick,
    seconds,
    clients: intFlag(v, 'clients', 50, 1, 500),
    seed: intFlag(v, 'seed', 1, 0, 2 ** 31 - 1),
    out: v.out === undefined ? undefined : path.resolve(v.out),
    entry: v.server === undefined ? DEFAULT_ENTRY : path.resolve(v.server),
    warmupMs: v.quick ? 250 : 500,
    // The failure phase: load before the kill, then a recovery window once /healthz is back.
    preKillMs: Math.max(1_000, Math.round(seconds * 500)),
    recoveryMs: Math.max(2_000, Math.round(seconds * 500)),
  };
}

// ---------------------------------------------------------------------------------
// Small helpers: time, numbers, output.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const round = (value, digits = 3) => (value === undefined || value === null ? null : Number(value.toFixed(digits)));
const sizeLabel = (bytes) => (bytes >= KIB ? `${bytes / KIB} KiB` : `${bytes} B`);
const ms = (value) => (value === null || value === undefined ? '-' : value.toFixed(2));
/** A success rate that never rounds a failure away: 100 % only when nothing failed. */
function percent(ok, total) {
  if (total === 0) return 'n/a';
  if (ok === total) return '100 %';
  return `${(Math.floor((ok / total) * 100_000) / 1000).toFixed(3)} %`;
}

/** A markdown table: header row, alignment row, body rows. */
function markdownTable(header, align, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/** Deterministic payload bytes, so a run can be repeated exactly. */
function payload(bytes, seed) {
  const random = seededRandom(seed * 7919 + bytes);
  const body = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 1) body[i] = Math.floor(random() * 256);
  return body;
}

// ---------------------------------------------------------------------------------
// The server as a child process, started through zx.

/**
 * Starts `civictrust server run` and waits for the one JSON line it prints once bound.
 * @returns the process, what it printed, and a promise of how it ended
 */
async function startServer(ctx, { port, healthPort }) {
  const args = ['server', 'run', '--port', String(port), '--health-port', String(healthPort), '--log', ctx.log, '--json'];
  const started = now();
  const loader = /\.m?ts$/.test(ctx.entry) ? ['--import', TSX_LOADER] : []; // a TypeScript entry given with --server
  const proc = $({ cwd: ROOT, quiet: true, nothrow: true })`${process.execPath} ${loader} ${ctx.entry} ${args}`;
  const server = { proc, pid: proc.pid, args, info: undefined, stderr: '' };
  ctx.live.add(server);
  proc.stderr.on('data', (chunk) => (server.stderr += chunk));
  server.exited = proc.then((output) => {
    ctx.live.delete(server);
    return { code: output.exitCode, signal: output.signal };
  });
  server.info = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server printed no address within ${START_TIMEOUT_MS} ms; stderr: ${server.stderr.trim()}`)), START_TIMEOUT_MS);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, end)));
      } catch {
        reject(new Error(`the server printed ${JSON.stringify(out.slice(0, end))}, not one JSON object (is --json supported?)`));
      }
    });
    server.exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${exit.signal ?? `exit ${exit.code}`}) before listening: ${server.stderr.trim().split('\n').slice(0, 2).join(' / ')}`));
    });
  });
  server.startMs = now() - started;
  // The pid the server reports is the process to signal (zx may run it under a shell).
  if (Number.isInteger(server.info.pid)) server.pid = server.info.pid;
  return server;
}

/** The shell-style command line of a server start, with the workspace shortened to $WORK. */
function displayCommand(ctx, args) {
  const entry = path.relative(ROOT, ctx.entry) || ctx.entry;
  const loader = /\.m?ts$/.test(ctx.entry) ? ['--import', 'tsx'] : [];
  return ['node', ...loader, entry, ...args].join(' ').replaceAll(ctx.work, '$WORK');
}

/** Sends `signal` to the server; false when it was already gone. */
function signalServer(server, signal) {
  try {
    process.kill(server.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Stops every server still running, at once and without waiting (also used on exit). */
function killAll(ctx) {
  for (const server of ctx.live) {
    signalServer(server, 'SIGKILL');
    if (server.proc.pid !== undefined && server.proc.pid !== server.pid) {
      try {
        process.kill(server.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Waits for an exit, or gives up after `timeoutMs` and returns undefined. */
async function exitWithin(server, timeoutMs) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  const exit = await Promise.race([server.exited, timeout]);
  clearTimeout(timer);
  return exit;
}

// ---------------------------------------------------------------------------------
// The server's JSON-lines log.

/** Reads the log's complete lines; a line that is not JSON is counted, not fatal. */
function readServerLog(file) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const records = [];
  let unreadable = 0;
  for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    if (line === '') continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      unreadable += 1;
    }
  }
  return { records, unreadable };
}

/** Polls the log until a record with `requestId` appears, or the deadline passes. */
async function findLogged(file, requestId, timeoutMs = 10_000) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const found = readServerLog(file).records.find((r) => r.request_id === requestId);
    if (found !== undefined || now() > deadline) return found;
    await sleep(50);
  }
}

/** A flat JSON-lines record as week 1's human one-line form. */
function humanRecord(flat) {
  const { ts, id, level, msg, request_id: requestId, ...fields } = flat;
  return formatRecord({ ts, id, level, msg, ...(requestId === undefined ? {} : { request_id: requestId }), fields });
}

// ---------------------------------------------------------------------------------
// Load: N clients, each one request at a time (a closed loop), until stopped.

/**
 * Starts `clients` closed-loop echo clients against `port`. Every finished request
 * is passed to `observe` with its start and end time; a failure carries its error.
 * After a failure the client waits a full-jitter backoff before its next request.
 * @returns `stop()`, which ends the loops and resolves once every client has closed
 */
function startLoad({ port, clients, body, seed, tag, observe }) {
  let stopping = false;
  async function client(index) {
    const random = seededRandom(seed * 100_003 + index);
    const echo = new EchoClient({
      host: HOST, port, ...CLIENT_DEADLINES, retry: NO_RETRY, clock: systemClock,
      ids: counterIds(`m1-${tag}-c${String(index).padStart(3, '0')}`),
    });
    let streak = 0;
    try {
      while (!stopping) {
        const startMs = now();
        try {
          await echo.send(body, { idempotent: false });
          observe({ startMs, endMs: now(), ok: true });
          streak = 0;
        } catch (error) {
          observe({ startMs, endMs: now(), ok: false, error });
          streak += 1;
          await sleep(backoffDelay(Math.min(streak, 8), FAILURE_BACKOFF, random));
        }
      }
    } finally {
      echo.close();
    }
  }
  const running = Array.from({ length: clients }, (_, i) => client(i));
  return {
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
  };
}

/** Prints a progress line every second while `work` runs. */
async function withTicker(ctx, describe, work) {
  const started = now();
  const ticker = setInterval(() => ctx.progress(describe(Math.round((now() - started) / 1000))), 1000);
  try {
    return await work();
  } finally {
    clearInterval(ticker);
  }
}

/** The summary of a set of finished requests. */
function summarize(events, bytes, windowMs) {
  const histogram = new LatencyHistogram();
  let ok = 0;
  for (const event of events) {
    if (!event.ok) continue;
    ok += 1;
    histogram.record(event.endMs - event.startMs);
  }
  const seconds = windowMs / 1000;
  return {
    payloadBytes: bytes,
    payload: sizeLabel(bytes),
    requests: events.length,
    ok,
    failed: events.length - ok,
    successRate: events.length === 0 ? 0 : round(ok / events.length, 6),
    seconds: round(seconds),
    requestsPerSecond: round(ok / seconds, 1),
    megabytesPerSecond: round((ok * bytes) / seconds / 1e6, 3),
    p50Ms: round(histogram.percentile(50)),
    p95Ms: round(histogram.percentile(95)),
    p99Ms: round(histogram.percentile(99)),
    maxMs: round(histogram.count === 0 ? undefined : histogram.max),
  };
}

/** Counts failures by code, with week 2's verdicts on each. */
function classify(events) {
  const byCode = new Map();
  for (const event of events) {
    if (event.ok) continue;
    const error = event.error;
    const code = typeof error?.code === 'string' ? error.code : 'unknown';
    const row = byCode.get(code) ?? {
      code,
      kind: failureKind(error),
      definite: error?.definite === true,
      retryIfNotIdempotent: classifyFailure(error, { idempotent: false }).reason,
      retryIfIdempotent: classifyFailure(error, { idempotent: true }).reason,
      count: 0,
      example: String(error?.message ?? error).split('\n')[0],
    };
    row.count += 1;
    byCode.set(code, row);
  }
  return [...byCode.values()].sort((a, b) => Number(b.definite) - Number(a.definite) || b.count - a.count);
}

// ---------------------------------------------------------------------------------
// The steps.

/** Step 1: the server as a real process. */
async function stepStart(ctx) {
  ctx.heading(1, 'Start the server as a real child process');
  ctx.say(`   $ ${displayCommand(ctx, ['server', 'run', '--port', '0', '--health-port', '0', '--log', ctx.log, '--json'])}`);
  let server;
  try {
    server = await startServer(ctx, { port: 0, healthPort: 0 });
  } catch (error) {
    ctx.check(1, 'the server starts and prints its address and health URL', false, error.message);
    return undefined;
  }
  ctx.say(`   ${JSON.stringify(server.info)}`);
  const info = server.info;
  const good = Number.isInteger(info.port) && info.port > 0 && typeof info.health === 'string' && info.health.startsWith(`http://${HOST}:`);
  ctx.check(1, 'the server printed its address and its /healthz URL', good,
    good ? `pid ${info.pid}, echo on ${info.listening}, health on ${info.health}, ready in ${Math.round(server.startMs)} ms` : `got ${JSON.stringify(info)}`);
  ctx.report.server = { command: displayCommand(ctx, server.args), pid: info.pid, port: info.port, health: info.health, startMs: Math.round(server.startMs) };
  return good ? server : undefined;
}

/** Step 2 (and again after the restart): one probe, and its request id found in the server's log. */
async function stepHealth(ctx, server, requestId, step) {
  const clientLog = [];
  let exchange;
  const started = now();
  try {
    exchange = await httpRequest(server.info.health, { requestId, timeouts: PROBE_TIMEOUTS });
  } catch (error) {
    clientLog.push(httpOutcomeRecord({
      requestId, method: 'GET', url: server.info.health, latencyMs: now() - started,
      error: { code: error.code ?? 'unknown', message: error.message, transient: error.transient === true, definite: error.definite === true },
    }, { clock: systemClock, ids: counterIds('m1-client-log') }));
    ctx.check(step, `GET /healthz answers 200 (request id ${requestId})`, false, `${error.code ?? 'error'}: ${error.message}`);
    return { requestId, pass: false };
  }
  const latencyMs = now() - started;
  clientLog.push(httpOutcomeRecord({ requestId, method: 'GET', url: server.info.health, latencyMs, status: exchange.status, bodyBytes: exchange.body.length },
    { clock: systemClock, ids: counterIds('m1-client-log') }));
  const echoed = headerValue(exchange.headers, REQUEST_ID_HEADER);
  const body = new TextDecoder().decode(exchange.body).trim();
  ctx.check(step, `GET /healthz answers 200 (request id ${requestId})`, exchange.status === 200 && echoed === requestId,
    `status ${exchange.status} in ${latencyMs.toFixed(1)} ms, ${REQUEST_ID_HEADER}: ${echoed ?? '(none)'}, body ${body}`);
  const logged = await findLogged(ctx.log, requestId);
  ctx.say(`   client log: ${formatRecord(clientLog[0])}`);
  if (logged !== undefined) ctx.say(`   server log: ${humanRecord(logged)}`);
  ctx.check(step, `the server's log holds a record with request_id ${requestId}`, logged !== undefined,
    logged === undefined ? `no such record in ${ctx.log}` : `"${logged.msg}" status=${logged.status} node_id=${logged.node_id}`);
  return { requestId, status: exchange.status, latencyMs: round(latencyMs), echoedRequestId: echoed ?? null, body, serverRecord: logged ?? null, pass: exchange.status === 200 && logged !== undefined };
}

/** Step 3: the baseline, one load phase per payload size. */
async function stepLoad(ctx, server) {
  ctx.heading(3, `Load: ${ctx.config.clients} concurrent clients, one request at a time each, ${ctx.config.seconds} s per payload size`);
  const rows = [];
  for (const bytes of SIZES) {
    const body = payload(bytes, ctx.config.seed);
    const events = [];
    let measureFrom = Infinity;
    let seen = 0;
    let failed = 0;
    const load = startLoad({
      port: server.info.port, clients: ctx.config.clients, body, seed: ctx.config.seed, tag: `${bytes}b`,
      observe(event) {
        if (event.startMs < measureFrom) return; // warm-up: connections opening, code compiling
        events.push(event);
        seen += 1;
        if (!event.ok) failed += 1;
      },
    });
    const window = await withTicker(ctx, (t) => `${sizeLabel(bytes)}: t=${t}s ${seen - failed} ok, ${failed} failed`, async () => {
      await sleep(ctx.config.warmupMs);
      measureFrom = now();
      await sleep(ctx.config.seconds * 1000);
      await load.stop();
      return now() - measureFrom;
    });
    const row = summarize(events, bytes, window);
    row.failures = classify(events);
    rows.push(row);
    ctx.check(3, `${sizeLabel(bytes)}: every echo came back byte for byte`, row.requests > 0 && row.failed === 0,
      `${row.ok}/${row.requests} ok (${percent(row.ok, row.requests)}), ${Math.round(row.requestsPerSecond)} req/s, ${row.megabytesPerSecond.toFixed(2)} MB/s, p50 ${ms(row.p50Ms)} ms, p95 ${ms(row.p95Ms)} ms`
      + (row.failed === 0 ? '' : `; failures: ${row.failures.map((f) => `${f.code}×${f.count}`).join(', ')}`));
  }
  ctx.report.load = rows;
  ctx.say('');
  ctx.say(indent(baselineTable(ctx)));
}

/** Step 4: SIGKILL in the middle of a load phase, restart on the same ports, recover. */
async function stepFailure(ctx, server) {
  const { clients, seed, preKillMs, recoveryMs } = ctx.config;
  ctx.heading(4, `Induced failure: SIGKILL the server under load (${clients} clients, ${sizeLabel(FAILURE_SIZE)}), restart it on the same port`);
  const events = [];
  const load = startLoad({
    port: server.info.port, clients, body: payload(FAILURE_SIZE, seed), seed: seed + 1, tag: 'fail',
    observe: (event) => events.push(event),
  });
  const failure = { payloadBytes: FAILURE_SIZE, clients, port: server.info.port };
  ctx.report.failure = failure;
  let restarted;
  let healthy;
  const poller = { stop: false };
  try {
    await withTicker(ctx, (t) => `before the kill: t=${t}s ${events.filter((e) => e.ok).length} ok`, () => sleep(preKillMs));
    const before = [...events];
    const beforeOk = before.filter((e) => e.ok).length;
    ctx.check(4, 'traffic flows before the kill', before.length > 0 && beforeOk === before.length,
      `${beforeOk}/${before.length} ok (${percent(beforeOk, before.length)}) in ${(preKillMs / 1000).toFixed(1)} s`);
    failure.before = { requests: before.length, ok: beforeOk, successRate: before.length === 0 ? 0 : round(beforeOk / before.length, 6) };

    // The kill. Everything after is timed from this instant.
    const killAt = now();
    signalServer(server, 'SIGKILL');
    ctx.say(`   kill -KILL ${server.pid} (${clients} clients mid-loop)`);
    const exit = await exitWithin(server, 10_000);
    const goneMs = now() - killAt;
    const killed = exit !== undefined && (exit.signal === 'SIGKILL' || exit.code === 128 + 9);
    ctx.check(4, 'SIGKILL ends the server process', killed,
      exit === undefined ? 'still running 10 s later' : `${exit.signal ?? `exit ${exit.code}`} after ${goneMs.toFixed(1)} ms`);
    failure.kill = { pid: server.pid, exit: exit ?? null, goneMs: round(goneMs) };

    // A prober that knows nothing of the restart: it polls /healthz until it answers 200.
    const probes = [];
    const healthyPromise = (async () => {
      const ids = counterIds('demo-health-wait');
      const deadline = killAt + RECOVERY_TIMEOUT_MS;
      while (!poller.stop && now() < deadline) {
        const requestId = ids.next();
        const sent = now();
        try {
          const answer = await httpRequest(server.info.health, { requestId, timeouts: PROBE_TIMEOUTS });
          probes.push({ requestId, atMs: round(sent - killAt), status: answer.status });
          if (answer.status === 200) return { atMs: now() - killAt, requestId };
        } catch (error) {
          probes.push({ requestId, atMs: round(sent - killAt), code: error.code ?? 'unknown', definite: error.definite === true });
        }
        await sleep(100);
      }
      return undefined;
    })();

    // The restart, as a supervisor would do it: the same command, the same ports.
    const healthPort = Number(new URL(server.info.health).port);
    ctx.say(`   $ ${displayCommand(ctx, ['server', 'run', '--port', String(server.info.port), '--health-port', String(healthPort), '--log', ctx.log, '--json'])}`);
    try {
      restarted = await startServer(ctx, { port: server.info.port, healthPort });
    } catch (error) {
      ctx.check(4, 'the server restarts on the same port', false, error.message);
      return undefined;
    }
    const listeningMs = now() - killAt;
    ctx.say(`   ${JSON.stringify(restarted.info)}`);
    ctx.check(4, 'the server restarts on the same port', restarted.info.port === server.info.port && restarted.info.health === server.info.health,
      `pid ${restarted.info.pid} listening on ${restarted.info.listening} ${listeningMs.toFixed(0)} ms after the kill`);

    healthy = await healthyPromise;
    const refused = probes.filter((p) => p.code !== undefined);
    ctx.check(4, '/healthz answers 200 again', healthy !== undefined,
      healthy === undefined ? `no 200 within ${RECOVERY_TIMEOUT_MS} ms; probes: ${JSON.stringify(probes.slice(-3))}`
        : `${healthy.atMs.toFixed(0)} ms after the kill, probe ${healthy.requestId}; ${refused.length} earlier probe(s) failed: ${summarizeCodes(refused)}`);
    failure.restart = { pid: restarted.info.pid, port: restarted.info.port, listeningMs: round(listeningMs), healthyMs: round(healthy?.atMs), probes };
    if (healthy === undefined) return restarted;

    const healthyAt = killAt + healthy.atMs;
    await withTicker(ctx, (t) => `after /healthz 200: t=${t}s ${events.filter((e) => e.startMs >= healthyAt && e.ok).length} ok`, () => sleep(recoveryMs));
    await load.stop();

    // What the clients saw.
    const failures = events.filter((e) => !e.ok);
    const rows = classify(failures);
    failure.failures = { total: failures.length, definite: failures.filter((e) => e.error?.definite === true).length, byCode: rows };
    failure.failures.indefinite = failure.failures.total - failure.failures.definite;
    ctx.say(`   the clients' failures, by week 2's retry rule (failureKind, definite, classifyFailure):`);
    ctx.say(indent(failureTable(rows)));
    const early = failures.filter((e) => e.endMs < killAt);
    ctx.check(4, 'no request failed before the kill', early.length === 0, early.length === 0 ? '' : `${early.length} failed before it`);
    const nonTransport = rows.filter((r) => r.kind !== 'transport');
    ctx.check(4, 'every failure is a transport failure, classified definite or indefinite', failures.length > 0 && nonTransport.length === 0,
      `${failures.length} failures: ${failure.failures.definite} definite (never reached a server: safe to resend), ${failure.failures.indefinite} indefinite (may have been processed)`
      + (nonTransport.length === 0 ? '' : `; not transport: ${nonTransport.map((r) => r.code).join(', ')}`));

    const firstOk = events.filter((e) => e.ok && e.startMs >= killAt).reduce((min, e) => Math.min(min, e.endMs), Infinity);
    const outageMs = firstOk - killAt;
    ctx.check(4, 'the outage window is measured (SIGKILL → first successful echo)', Number.isFinite(outageMs),
      Number.isFinite(outageMs) ? `${outageMs.toFixed(0)} ms` : 'no echo succeeded after the kill');
    failure.outageMs = round(Number.isFinite(outageMs) ? outageMs : undefined);

    const after = events.filter((e) => e.startMs >= healthyAt);
    const recovery = summarize(after, FAILURE_SIZE, now() - healthyAt);
    failure.recovery = recovery;
    ctx.check(4, 'traffic recovers: every request sent after /healthz 200 succeeds', recovery.requests > 0 && recovery.failed === 0,
      `${recovery.ok}/${recovery.requests} ok (${percent(recovery.ok, recovery.requests)}), ${Math.round(recovery.requestsPerSecond)} req/s, p50 ${ms(recovery.p50Ms)} ms, p95 ${ms(recovery.p95Ms)} ms`);
    ctx.say('');
    ctx.say(indent(outageTable(ctx)));
    return restarted;
  } finally {
    poller.stop = true;
    await load.stop();
  }
}

/** Step 5: stop cleanly, read the log back, write the reports. */
async function stepFinish(ctx, server) {
  ctx.heading(5, 'Stop, read the server log back, write the reports');
  if (server !== undefined) {
    signalServer(server, 'SIGTERM');
    const exit = await exitWithin(server, 15_000);
    ctx.check(5, 'SIGTERM stops the restarted server with exit 0', exit !== undefined && exit.code === 0,
      exit === undefined ? 'still running 15 s later' : `exit ${exit.code ?? exit.signal}`);
  }
  const { records, unreadable } = readServerLog(ctx.log);
  const count = (msg) => records.filter((r) => r.msg === msg).length;
  const errors = records.filter((r) => r.level === 'error');
  const summary = {
    records: records.length, unreadableLines: unreadable, errors: errors.length,
    serverListening: count('server listening'), serverStopped: count('server stopped'), httpRequests: count('http request'),
  };
  ctx.report.serverLog = { path: ctx.log, ...summary };
  ctx.check(5, 'the server log reads back whole, with no error record', unreadable === 0 && errors.length === 0 && records.length > 0,
    `${records.length} records, ${unreadable} unreadable lines, ${errors.length} at error level` + (errors.length === 0 ? '' : `: ${errors.slice(0, 2).map((r) => r.msg).join('; ')}`));
  const expectedStops = server === undefined ? 0 : 1;
  ctx.check(5, 'the log shows two starts and one clean stop (the killed process never logged one)',
    summary.serverListening === 2 && summary.serverStopped === expectedStops,
    `"server listening" ×${summary.serverListening}, "server stopped" ×${summary.serverStopped}, "http request" ×${summary.httpRequests}`);
}

// ---------------------------------------------------------------------------------
// Tables.

const indent = (text) => text.replace(/^/gm, '   ');

function baselineTable(ctx) {
  return markdownTable(
    ['payload', 'requests', 'success', 'req/s', 'MB/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    (ctx.report.load ?? []).map((r) => [r.payload, String(r.requests), percent(r.ok, r.requests), String(Math.round(r.requestsPerSecond)),
      r.megabytesPerSecond.toFixed(2), ms(r.p50Ms), ms(r.p95Ms), ms(r.p99Ms), ms(r.maxMs)]),
  );
}

function failureTable(rows) {
  return markdownTable(
    ['error code', 'count', 'kind', 'definite', 'not idempotent: retry?', 'idempotent: retry?'],
    ['l', 'r', 'l', 'l', 'l', 'l'],
    rows.map((r) => [r.code, String(r.count), r.kind, r.definite ? 'yes' : 'no', r.retryIfNotIdempotent, r.retryIfIdempotent]),
  );
}

function outageTable(ctx) {
  const f = ctx.report.failure ?? {};
  const value = (v, unit = ' ms') => (v === undefined || v === null ? '-' : `${Math.round(v)}${unit}`);
  return markdownTable(['induced failure (SIGKILL at t = 0)', 'value'], ['l', 'r'], [
    ['success before the kill', f.before === undefined ? '-' : `${percent(f.before.ok, f.before.requests)} of ${f.before.requests}`],
    ['process gone', value(f.kill?.goneMs)],
    [`restarted server listening on the same port (${f.port})`, value(f.restart?.listeningMs)],
    ['/healthz answers 200 again', value(f.restart?.healthyMs)],
    ['**outage window**: first successful echo', value(f.outageMs)],
    ['client failures (definite / indefinite)', f.failures === undefined ? '-' : `${f.failures.total} (${f.failures.definite} / ${f.failures.indefinite})`],
    ['success after /healthz 200', f.recovery === undefined ? '-' : `${percent(f.recovery.ok, f.recovery.requests)} of ${f.recovery.requests}`],
  ]);
}

function summarizeCodes(items) {
  const counts = new Map();
  for (const item of items) counts.set(item.code, (counts.get(item.code) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].map(([code, n]) => `${code}×${n}`).join(', ');
}

/** The markdown report: the two tables and the checks. */
function markdownReport(ctx) {
  const r = ctx.report;
  const c = r.config;
  return [
    `# Month 1 demo report`,
    '',
    `${r.startedAt} · ${r.pass ? 'PASS' : 'FAIL'} · ${r.checks.filter((x) => x.pass).length}/${r.checks.length} checks · ${(r.durationMs / 1000).toFixed(1)} s · `
      + `node ${c.node} on ${c.cpus} CPU(s) · ${c.clients} clients · ${c.seconds} s per phase · seed ${c.seed}`,
    '',
    `## Baseline: ${c.clients} closed-loop echo clients on 127.0.0.1`,
    '',
    baselineTable(ctx),
    '',
    `## Induced failure: SIGKILL under load (${sizeLabel(FAILURE_SIZE)} payloads)`,
    '',
    outageTable(ctx),
    '',
    failureTable(r.failure?.failures?.byCode ?? []),
    '',
    '## Checks',
    '',
    ...r.checks.map((x) => `- ${x.pass ? 'ok' : '**FAIL**'} [${x.step}] ${x.name}${x.detail === '' ? '' : ` — ${x.detail}`}`),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------

/**
 * Runs the demo.
 * @param argv - the flags after `month-1`
 * @returns the exit status: 0 when every check passed, 1 when one failed, 2 for bad flags
 */
export async function main(argv) {
  let config;
  try {
    config = configure(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error[E_DEMO_USAGE]: ${error.message}\nhint: Run \`npm run demo -- month-1 --help\` for the flags\n`);
    return EXIT.usage;
  }
  if (config.help) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }

  const started = now();
  if (config.out !== undefined) await fs.ensureDir(config.out);
  const work = config.out ?? await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-month1-'));
  const out = work;
  await fs.remove(path.join(work, 'server.log')); // a log left by an earlier run in --out would skew the log checks
  const human = config.json ? process.stderr : process.stdout;
  const ctx = {
    config,
    entry: config.entry,
    work,
    log: path.join(work, 'server.log'),
    live: new Set(),
    report: {
      demo: 'month-1',
      title: 'Byte Wrangler',
      startedAt: new Date().toISOString(),
      pass: false,
      durationMs: 0,
      config: {
        clients: config.clients, seconds: config.seconds, quick: config.quick, seed: config.seed, payloadBytes: SIZES, failurePayloadBytes: FAILURE_SIZE,
        warmupMs: config.warmupMs, preKillMs: config.preKillMs, recoveryMs: config.recoveryMs,
        node: process.version, cpus: os.cpus().length, entry: path.relative(ROOT, config.entry) || config.entry,
      },
      checks: [],
    },
    say: (line) => human.write(`${line}\n`),
    progress: (line) => process.stderr.write(`   … ${line}\n`),
    heading(n, title) {
      this.say(`\n${n}. ${title}`);
    },
    check(step, name, pass, detail = '') {
      this.report.checks.push({ step, name, pass, detail });
      this.say(`   ${pass ? 'ok  ' : 'FAIL'} ${name}${detail === '' ? '' : ` — ${detail}`}`);
    },
  };

  // Children die with the demo, however it ends.
  const onExit = () => killAll(ctx);
  const onSignal = (signal) => {
    killAll(ctx);
    process.stderr.write(`month-1: stopped by ${signal}; child processes killed\n`);
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  ctx.say(`CivicTrust · Month 1 demo (Byte Wrangler): weeks 1–4 on real processes and sockets`);
  ctx.say(`config: ${config.clients} clients, ${config.seconds} s per load phase, payloads ${SIZES.map(sizeLabel).join(' / ')}, seed ${config.seed}; node ${process.version}, ${os.cpus().length} CPU(s)`);
  ctx.say(`workspace: ${work}`);

  try {
    const first = await stepStart(ctx);
    if (first !== undefined) {
      ctx.heading(2, 'Health check, traced end to end by request id');
      ctx.report.health = await stepHealth(ctx, first, 'demo-health-1', 2);
      await stepLoad(ctx, first);
      const restarted = await stepFailure(ctx, first);
      if (restarted !== undefined && ctx.report.failure?.restart?.healthyMs !== null) {
        ctx.say('   the restarted server, probed and traced the same way:');
        ctx.report.healthAfterRestart = await stepHealth(ctx, restarted, 'demo-health-2', 4);
      }
      await stepFinish(ctx, restarted);
    }
  } catch (error) {
    ctx.check(0, 'the demo ran to the end', false, String(error?.stack ?? error).split('\n').slice(0, 3).join(' / '));
  } finally {
    killAll(ctx);
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const report = ctx.report;
  report.pass = report.checks.length > 0 && report.checks.every((c) => c.pass);
  report.durationMs = Math.round(now() - started);
  report.files = { json: path.join(out, 'month-1-report.json'), markdown: path.join(out, 'month-1-report.md'), serverLog: ctx.log };
  await fs.writeFile(report.files.json, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(report.files.markdown, markdownReport(ctx));
  ctx.say(`   reports: ${report.files.json}`);
  ctx.say(`            ${report.files.markdown}`);
  ctx.say(`   server log: ${ctx.log}`);

  const passed = report.checks.filter((c) => c.pass).length;
  ctx.say(`\n${report.pass ? 'PASS' : 'FAIL'}: month-1 demo, ${passed}/${report.checks.length} checks passed in ${(report.durationMs / 1000).toFixed(1)} s`);
  if (config.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.pass ? EXIT.ok : EXIT.negative;
}

// Run directly (`node --import tsx capstone/demos/month_1.mjs --quick`) as well as through run.mjs.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

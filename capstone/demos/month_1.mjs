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
import { fs, os, path } from 'zx';
import { counterIds, systemClock } from '../../lib/clock.ts';
import { EchoClient, backoffDelay, classifyFailure, failureKind, seededRandom } from '../../lib/framing.ts';
import { REQUEST_ID_HEADER, headerValue, httpOutcomeRecord, httpRequest } from '../../lib/http.ts';
import { formatRecord } from '../../lib/logger.ts';
import { LatencyHistogram } from '../../lib/server.ts';
import { TSX_LOADER } from '../../lib/testing.ts';
import {
  DEFAULT_ENTRY, HOST, ROOT, codesText, configureOrExit, countCodes, checksSection, exitWithin, headline, indent, intFlag, markdownTable,
  ms, newReport, now, parseFlags, payload, percent, readJsonLines, reporting, round, runIfEntry, runSteps, settle, signalChild, sleep,
  startChild, verdict, withTicker,
} from './demo_kit.mjs';

const KIB = 1024;
/** The payload sizes of the baseline, smallest first. */
const SIZES = [64, 4 * KIB, 64 * KIB];
/** The payload size of the failure phase. */
const FAILURE_SIZE = 4 * KIB;
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

/** Parses the command line into the demo's configuration. */
function configure(argv) {
  const v = parseFlags(argv, {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    clients: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    server: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
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

const sizeLabel = (bytes) => (bytes >= KIB ? `${bytes / KIB} KiB` : `${bytes} B`);

// ---------------------------------------------------------------------------------
// The server as a child process, started through zx.

/**
 * Starts `civictrust server run` and waits for the one JSON line it prints once bound.
 * @returns the child (see `startChild`), with the server arguments as `args`
 */
async function startServer(ctx, { port, healthPort }) {
  const args = ['server', 'run', '--port', String(port), '--health-port', String(healthPort), '--log', ctx.log, '--json'];
  const loader = /\.m?ts$/.test(ctx.entry) ? ['--import', TSX_LOADER] : []; // a TypeScript entry given with --server
  const server = await startChild(ctx, [...loader, ctx.entry, ...args], { what: 'server', notJsonHint: ' (is --json supported?)' });
  server.args = args;
  return server;
}

/** The shell-style command line of a server start, with the workspace shortened to $WORK. */
function displayCommand(ctx, args) {
  const entry = path.relative(ROOT, ctx.entry) || ctx.entry;
  const loader = /\.m?ts$/.test(ctx.entry) ? ['--import', 'tsx'] : [];
  return ['node', ...loader, entry, ...args].join(' ').replaceAll(ctx.work, '$WORK');
}

// ---------------------------------------------------------------------------------
// The server's JSON-lines log.

/** Polls the log until a record with `requestId` appears, or the deadline passes. */
async function findLogged(file, requestId, timeoutMs = 10_000) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const found = readJsonLines(file).records.find((r) => r.request_id === requestId);
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
    signalChild(server, 'SIGKILL');
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
    signalChild(server, 'SIGTERM');
    const exit = await exitWithin(server, 15_000);
    ctx.check(5, 'SIGTERM stops the restarted server with exit 0', exit !== undefined && exit.code === 0,
      exit === undefined ? 'still running 15 s later' : `exit ${exit.code ?? exit.signal}`);
  }
  const { records, unreadable } = readJsonLines(ctx.log);
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
  return codesText(countCodes(items.map((item) => item.code)));
}

/** The markdown report: the two tables and the checks. */
function markdownReport(ctx) {
  const r = ctx.report;
  const c = r.config;
  return [
    `# Month 1 demo report`,
    '',
    headline(r, `node ${c.node} on ${c.cpus} CPU(s) · ${c.clients} clients · ${c.seconds} s per phase · seed ${c.seed}`),
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
    ...checksSection(r),
  ].join('\n');
}

// ---------------------------------------------------------------------------------

/**
 * Runs the demo.
 * @param argv - the flags after `month-1`
 * @returns the exit status: 0 when every check passed, 1 when one failed, 2 for bad flags
 */
export async function main(argv) {
  const { config, exit } = configureOrExit('month-1', argv, configure, USAGE);
  if (config === undefined) return exit;

  const started = now();
  if (config.out !== undefined) await fs.ensureDir(config.out);
  const work = config.out ?? await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-month1-'));
  const out = work;
  await fs.remove(path.join(work, 'server.log')); // a log left by an earlier run in --out would skew the log checks
  const report = newReport('month-1', 'Byte Wrangler', {
    clients: config.clients, seconds: config.seconds, quick: config.quick, seed: config.seed, payloadBytes: SIZES, failurePayloadBytes: FAILURE_SIZE,
    warmupMs: config.warmupMs, preKillMs: config.preKillMs, recoveryMs: config.recoveryMs,
    node: process.version, cpus: os.cpus().length, entry: path.relative(ROOT, config.entry) || config.entry,
  });
  const ctx = {
    config,
    entry: config.entry,
    work,
    log: path.join(work, 'server.log'),
    live: new Set(),
    report,
    ...reporting(config, report),
  };

  ctx.say(`CivicTrust · Month 1 demo (Byte Wrangler): weeks 1–4 on real processes and sockets`);
  ctx.say(`config: ${config.clients} clients, ${config.seconds} s per load phase, payloads ${SIZES.map(sizeLabel).join(' / ')}, seed ${config.seed}; node ${process.version}, ${os.cpus().length} CPU(s)`);
  ctx.say(`workspace: ${work}`);

  // Children die with the demo, however it ends.
  await runSteps(ctx, 'month-1', async () => {
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
  });

  settle(report, started);
  report.files = { json: path.join(out, 'month-1-report.json'), markdown: path.join(out, 'month-1-report.md'), serverLog: ctx.log };
  await fs.writeFile(report.files.json, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(report.files.markdown, markdownReport(ctx));
  ctx.say(`   reports: ${report.files.json}`);
  ctx.say(`            ${report.files.markdown}`);
  ctx.say(`   server log: ${ctx.log}`);
  return verdict(ctx, 'month-1');
}

// Run directly (`node --import tsx capstone/demos/month_1.mjs --quick`) as well as through run.mjs.
await runIfEntry(import.meta.url, main);

#!/usr/bin/env node
// Week 3 soak drill: many clients against one real server for a stated time.
//
// A `civictrust server run` process logs a `server stats` record every interval. N
// echo clients run closed loops against it (send, check the reply byte for byte,
// pause --think-ms, repeat; reconnect every --reconnect-every requests, so the
// connection lifecycle is exercised all run long). Every interval the drill prints a
// progress line and keeps that interval's p50/p95/p99 latency, error rate and the
// server's own figures (RSS, heap, event-loop delay, connections, open descriptors).
// At the end it stops the server with SIGTERM and writes soak.json and soak.svg.
//
// It passes when the run's error rate is at most --error-rate-cap (and so is every
// interval with at least 1000 requests), no interval answers nothing, the server's
// descriptors return to their baseline once the clients are gone, its event-loop
// delay stays under 200 ms at p99, it refused no state-machine event, and SIGTERM
// ends it with exit 0.
//
//   node weeks/week-03-event-loop/soak.mjs --seconds 10             CI's short run
//   node weeks/week-03-event-loop/soak.mjs --minutes 30             the real one
//   options: --clients N (50) --interval-ms N --think-ms N (5) --reconnect-every N (500)
//            --error-rate-cap F (0.001) --seed N --out DIR --json --server FILE
import { fs, os, path } from 'zx';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

register(); // the drill drives the week's TypeScript clients and report code directly
const { startServerProcess } = await import('../../lib/framing.ts');
const { runEchoLoad, countFds, settleFds } = await import('./node_load.ts');
const { closeInterval, judgeSoak } = await import('./soak_report.ts');
const { renderSoakSvg } = await import('./soak_chart.ts');

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string' }, minutes: { type: 'string' }, clients: { type: 'string', default: '50' },
    'interval-ms': { type: 'string' }, 'think-ms': { type: 'string', default: '5' }, 'reconnect-every': { type: 'string', default: '500' },
    'error-rate-cap': { type: 'string', default: '0.001' }, seed: { type: 'string', default: '3' }, out: { type: 'string' },
    json: { type: 'boolean', default: false }, server: { type: 'string' },
  },
});
const number = (name, value, min) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`soak: --${name} must be a number of at least ${min}, got ${value}\n`);
    process.exit(2);
  }
  return n;
};
const durationMs = flags.minutes !== undefined ? number('minutes', flags.minutes, 0.05) * 60_000 : number('seconds', flags.seconds ?? '60', 1) * 1000;
const config = {
  durationS: durationMs / 1000,
  clients: number('clients', flags.clients, 1),
  intervalMs: number('interval-ms', flags['interval-ms'] ?? String(Math.max(1000, Math.round(durationMs / 60 / 1000) * 1000)), 100),
  thinkMs: number('think-ms', flags['think-ms'], 0),
  reconnectEvery: number('reconnect-every', flags['reconnect-every'], 0),
  errorRateCap: number('error-rate-cap', flags['error-rate-cap'], 0),
  loopDelayCapMs: 200,
  seed: number('seed', flags.seed, 0),
  bodyBytes: { min: 16, max: 1024 },
};
const entry = flags.server === undefined ? path.join(here, 'node_main.ts') : path.resolve(flags.server);
const progress = (line) => { if (!flags.json) process.stderr.write(`soak: ${line}\n`); };
const out = flags.out === undefined ? await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-soak-')) : path.resolve(flags.out);
await fs.ensureDir(out);
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-soak-log-'));
const log = path.join(scratch, 'server.log');

/** Reads the records appended to the log since the last call (whole lines only). */
let offset = 0;
let carry = '';
function newRecords() {
  if (!fs.existsSync(log)) return [];
  const text = fs.readFileSync(log, 'utf8');
  const fresh = carry + text.slice(offset);
  offset = text.length;
  const cut = fresh.lastIndexOf('\n') + 1;
  carry = fresh.slice(cut);
  return fresh.slice(0, cut).split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

const args = ['server', 'run', '--port', '0', '--log', log, '--stats-interval-ms', String(config.intervalMs),
  '--max-clients', String(config.clients + 100), '--node-id', 'soak-server'];
const server = await startServerProcess(args, { entry });
const startedAt = new Date().toISOString();
progress(`server pid ${server.pid} on port ${server.port}; ${config.clients} clients for ${config.durationS} s, intervals of ${config.intervalMs} ms, seed ${config.seed}`);
const fdsBefore = await settleFds(server.pid, () => false, 300);

const intervals = [];
let lastStats;
let records = [];
const ms = (v) => (v === null ? '-' : `${v.toFixed(2)}ms`);
const load = await runEchoLoad({
  port: server.port, clients: config.clients, durationMs, thinkMs: config.thinkMs, bodyBytes: config.bodyBytes,
  seed: config.seed, timeoutMs: 2000, reconnectEvery: config.reconnectEvery, intervalMs: config.intervalMs,
  onInterval(span, latencies, errorCodes) {
    const fresh = newRecords();
    records.push(...fresh.filter((r) => r.msg !== 'server stats' && r.level !== 'info'));
    lastStats = fresh.filter((r) => r.msg === 'server stats').at(-1) ?? lastStats;
    let fds;
    try { fds = countFds(server.pid); } catch { fds = undefined; }
    const sample = lastStats === undefined ? undefined : {
      connections: lastStats.connections, fds, rssBytes: lastStats.rss_bytes, heapUsedBytes: lastStats.heap_used_bytes,
      loopDelayP99Ms: lastStats.loop_delay_p99_ms, loopDelayMaxMs: lastStats.loop_delay_max_ms,
    };
    const interval = closeInterval({ startS: Math.round(span.startMs) / 1000, endS: Math.round(span.endMs) / 1000 }, latencies, errorCodes, sample);
    intervals.push(interval);
    const rate = interval.ok + interval.errors === 0 ? 0 : (interval.ok + interval.errors) / ((span.endMs - span.startMs) / 1000);
    progress(`t=${interval.endS.toFixed(0)}s ok=${interval.ok} (${rate.toFixed(0)}/s) p50=${ms(interval.p50Ms)} p95=${ms(interval.p95Ms)} `
      + `errors=${interval.errors} (${(interval.errorRate * 100).toFixed(3)}%)`
      + (sample === undefined ? '' : ` server: rss=${(sample.rssBytes / 2 ** 20).toFixed(1)}MiB conns=${sample.connections} fds=${fds ?? '?'} loop_p99=${sample.loopDelayP99Ms}ms`));
  },
});

// Once the clients are gone, the server's descriptors must come back to where they started.
const fdsAfter = await settleFds(server.pid, (n) => n <= fdsBefore, 5000);
const exit = await Promise.race([server.stop('SIGTERM'), new Promise((resolve) => setTimeout(resolve, 15_000).unref()).then(() => ({ code: 'no exit within 15 s' }))]);
await server.stop('SIGKILL'); // no-op once it has exited
const tail = newRecords();
records.push(...tail.filter((r) => r.msg !== 'server stats' && r.level !== 'info'));
const stopped = tail.find((r) => r.msg === 'server stopped');
await fs.remove(scratch);

const verdict = judgeSoak(intervals, { errorRateCap: config.errorRateCap, minRequests: 1000 });
if (fdsAfter > fdsBefore) verdict.problems.push(`the server holds ${fdsAfter} descriptors after the run, ${fdsBefore} before it`);
if (exit.code !== 0) verdict.problems.push(`SIGTERM ended the server with ${exit.code ?? exit.signal}, not exit 0`);
if (stopped === undefined) verdict.problems.push('the server logged no "server stopped" record');
else {
  if (stopped.refused_events !== 0) verdict.problems.push(`the state machine refused ${stopped.refused_events} events`);
  if (stopped.loop_delay_p99_ms >= config.loopDelayCapMs) verdict.problems.push(`event-loop delay p99 ${stopped.loop_delay_p99_ms} ms is not under ${config.loopDelayCapMs} ms`);
}
verdict.pass = verdict.problems.length === 0;

const latencies = load.latencies;
const round = (v) => (v === undefined ? null : Math.round(v * 1000) / 1000);
const report = {
  drill: 'week-03 soak',
  startedAt,
  config,
  totals: {
    ok: verdict.ok, errors: verdict.errors, errorRate: verdict.errorRate, errorCodes: load.errorCodes, connections: load.connections,
    p50Ms: round(latencies.percentile(50)), p95Ms: round(latencies.percentile(95)), p99Ms: round(latencies.percentile(99)), maxMs: round(latencies.max),
  },
  server: {
    fdsBefore, fdsAfter, exit: exit.code ?? exit.signal,
    ...(stopped === undefined ? {} : {
      accepted: stopped.accepted, requests: stopped.requests, refusedEvents: stopped.refused_events, maxQueuedBytes: stopped.max_queued_bytes,
      loopDelayP50Ms: stopped.loop_delay_p50_ms, loopDelayP99Ms: stopped.loop_delay_p99_ms, loopDelayMaxMs: stopped.loop_delay_max_ms,
    }),
    warnings: records.length,
  },
  verdict: { pass: verdict.pass, problems: verdict.problems },
  intervals,
};
const minutes = config.durationS >= 120 ? `${(config.durationS / 60).toFixed(0)} min` : `${config.durationS} s`;
const title = `soak: ${config.clients} clients, ${minutes}, ${verdict.ok} requests, error rate ${(verdict.errorRate * 100).toFixed(3)} % (cap ${(config.errorRateCap * 100).toFixed(1)} %)`;
await fs.writeFile(path.join(out, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
await fs.writeFile(path.join(out, 'soak.svg'), renderSoakSvg(intervals, { title, errorRateCap: config.errorRateCap }));
progress(`report ${path.join(out, 'soak.json')}, chart ${path.join(out, 'soak.svg')}`);

if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  const t = report.totals;
  process.stdout.write(`${verdict.pass ? 'PASS' : 'FAIL'}: ${title}; p50 ${t.p50Ms} ms, p95 ${t.p95Ms} ms, p99 ${t.p99Ms} ms; `
    + `server loop delay p99 ${report.server.loopDelayP99Ms ?? '?'} ms; fds ${fdsBefore} → ${fdsAfter}\n`);
  for (const problem of verdict.problems) process.stdout.write(`  problem: ${problem}\n`);
}
process.exitCode = verdict.pass ? 0 : 1;

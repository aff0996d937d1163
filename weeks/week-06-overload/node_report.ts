/**
 * The backpressure report: a real run of `overload serve` under four load phases
 * (warm-up, normal, ten times normal, recovery), measured from the client side
 * (throughput, latency percentiles, errors by code per interval) and from the server
 * side (its own `server stats` records: RSS, loop delay, ladder level), written as
 * JSON and drawn as an SVG with week 3's soak chart.
 *
 *   node --import tsx weeks/week-06-overload/node_report.ts [--out DIR] [--seconds N]
 *
 * Writes `backpressure.json` and `backpressure.svg` into `--out` (default this week's
 * `testdata/`) and prints the per-phase table. Exit 1 when the error rate of the normal
 * phase is over the cap.
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServerProcess, waitForRecords } from '../../lib/framing.ts';
import { renderSoakSvg } from '../../lib/server.ts';
import { runTaskLoad, type LoadInterval } from './node_load.ts';

// #region report-config
/** The error-rate cap at target load: at most 1 request in 100 may fail at the normal rate. */
const ERROR_RATE_CAP = 0.01;
/** The run: 2 workers, 5 ms CPU tasks (about 400/s of capacity), half of them high priority. */
const CONFIG = { workers: 2, task: 'spin', arg: 5, clients: 4, highShare: 0.5, timeoutMs: 1000, intervalMs: 500, seed: 6 } as const;
/** The target load, and the overload: ten times it. */
const NORMAL_RATE = 60;
const OVERLOAD_RATE = 600;
// #endregion report-config

const { values } = parseArgs({ options: { out: { type: 'string' }, seconds: { type: 'string' } } });
const here = fileURLToPath(new URL('.', import.meta.url));
const out = values.out ?? join(here, 'testdata');
const seconds = Number(values.seconds ?? 4);
mkdirSync(out, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'civictrust-report6-'));
const log = join(scratch, 'server.log');

process.stderr.write(`report: starting overload serve (${CONFIG.workers} workers); seed ${CONFIG.seed}\n`);
const server = await startServerProcess(
  ['overload', 'serve', '--port', '0', '--workers', String(CONFIG.workers), '--log', log, '--stats-interval-ms', '250'],
  { entry: join(here, 'node_main.ts') },
);
const startedWallMs = Date.now();
let report;
try {
  report = await runTaskLoad({
    port: server.port, clients: CONFIG.clients, task: CONFIG.task, arg: CONFIG.arg, highShare: CONFIG.highShare,
    timeoutMs: CONFIG.timeoutMs, intervalMs: CONFIG.intervalMs, seed: CONFIG.seed,
    phases: [
      { name: 'warm-up', ratePerSec: NORMAL_RATE, seconds: 1 },
      { name: 'normal', ratePerSec: NORMAL_RATE, seconds },
      { name: 'overload', ratePerSec: OVERLOAD_RATE, seconds },
      { name: 'recovery', ratePerSec: NORMAL_RATE, seconds },
    ],
    onInterval: (i) => process.stderr.write(`report: ${i.endS.toFixed(1)} s ${i.phase} ok ${i.ok} errors ${i.errors}\n`),
  });
} finally {
  await server.stop('SIGTERM');
}

// The server's own view, joined by time: the last stats record at or before each interval's end.
const records = (await waitForRecords(log, () => true)).filter((r) => r.msg === 'server stats');
rmSync(scratch, { recursive: true, force: true });
const atMs = (r: Readonly<Record<string, unknown>>) => Date.parse(r.ts as string) - startedWallMs;
const intervals = report.intervals.map((interval): LoadInterval & { ladder?: string } => {
  const sample = records.filter((r) => atMs(r) <= interval.endS * 1000).at(-1);
  if (sample === undefined) return interval;
  return {
    ...interval,
    ladder: sample.ladder as string,
    server: {
      connections: sample.connections as number, rssBytes: sample.rss_bytes as number, heapUsedBytes: sample.heap_used_bytes as number,
      loopDelayP99Ms: sample.loop_delay_p99_ms as number, loopDelayMaxMs: sample.loop_delay_max_ms as number,
    },
  };
});

const normal = report.phases.find((p) => p.name === 'normal');
const overload = report.phases.find((p) => p.name === 'overload');
const pass = normal !== undefined && normal.errorRate <= ERROR_RATE_CAP;
const title = `backpressure: ${CONFIG.workers} workers, ${CONFIG.arg} ms tasks; ${NORMAL_RATE}/s → ${normal?.throughputPerSec}/s ok, `
  + `${OVERLOAD_RATE}/s → ${overload?.throughputPerSec}/s ok (error-rate cap ${ERROR_RATE_CAP * 100} % at ${NORMAL_RATE}/s)`;
const document = { config: { ...CONFIG, normalRate: NORMAL_RATE, overloadRate: OVERLOAD_RATE, seconds, errorRateCap: ERROR_RATE_CAP }, pass, phases: report.phases, intervals };
writeFileSync(join(out, 'backpressure.json'), `${JSON.stringify(document, null, 2)}\n`);
writeFileSync(join(out, 'backpressure.svg'), renderSoakSvg(intervals, { title, errorRateCap: ERROR_RATE_CAP, throughput: true }));

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
process.stdout.write('| phase | offered/s | ok/s | p50 ms | p95 ms | p99 ms | error rate | errors by code |\n|---|---|---|---|---|---|---|---|\n');
for (const p of report.phases) {
  const codes = Object.entries(p.codes).map(([code, n]) => `${code} ${n}`).join(', ') || '-';
  process.stdout.write(`| ${p.name} | ${p.ratePerSec} | ${p.throughputPerSec} | ${p.p50Ms ?? '-'} | ${p.p95Ms ?? '-'} | ${p.p99Ms ?? '-'} | ${pct(p.errorRate)} | ${codes} |\n`);
}
process.stdout.write(`${pass ? 'PASS' : 'FAIL'}: normal-phase error rate ${pct(normal?.errorRate ?? 1)} against a cap of ${pct(ERROR_RATE_CAP)}\n`);
process.exitCode = pass ? 0 : 1;

#!/usr/bin/env node
// Week 6 failure drill: the slow-sender drill, with memory watched from inside the server.
//
// One real `civictrust overload serve` process (2 workers, stats every 200 ms, at most
// 400 connections, 4 requests in flight per client, 64 KiB frames, 64 MiB/s egress, progress rule 512 bytes
// per 1000 ms, no-drain limit 1000 ms) faces at once:
//
//   slowloris   300 connections that each announce a 16 KiB frame and dribble 16 bytes every 200 ms
//   non-reader  6 connections that flood 63 KiB `fill` requests and never read a byte
//   flood       500 more connections opened at once, past --max-clients even on its own
//   steady      4 clients hashing in a loop, who must get a right answer or an explicit refusal every time
//
// It passes when every slow sender is cut with E_SLOW_CLIENT between one window and a
// generous deadline after its first byte, every non-reader is cut, Node drops the
// connections past the cap and the server counts them, the steady clients get every
// answer right, the server's RSS (from its own stats records) never rises more than
// BOUND over its baseline, and SIGTERM still ends the server with exit 0.
//
//   node weeks/week-06-overload/drill.mjs                  human report on stderr, verdict on stdout
//   node weeks/week-06-overload/drill.mjs --json           one JSON document
//   node weeks/week-06-overload/drill.mjs --server FILE    drill another entry taking the same arguments,
//                                                          e.g. testdata/unbounded_server.ts (the negative control)
import { fs, os, path } from 'zx';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { register } from 'tsx/esm/api';

register(); // the drill drives the week's TypeScript clients directly
const { startServerProcess, waitForRecords } = await import('../../lib/framing.ts');
const { TaskClient, nonReader, slowSender } = await import('./node_load.ts');

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const asJson = argv.includes('--json');
const serverFlag = argv.indexOf('--server');
const otherServer = serverFlag === -1 ? undefined : path.resolve(argv[serverFlag + 1]);

const MIB = 1024 * 1024;
/** The memory bound: the server's RSS may rise at most this much over its baseline. */
const BOUND_BYTES = 128 * MIB;
/** The progress rule the drill runs under. */
const WINDOW_MS = 1000;
const MIN_BYTES = 512;
/**
 * The generous deadline for a cut, after the first byte, as this process sees it. It is
 * this process that observes the cut, and with 300 senders in one process on a busy
 * machine it sees each cut seconds late: 5.5-6.1 s for a 1 s window at a load average of 18.
 */
const CUT_DEADLINE_MS = WINDOW_MS + 9000;
/** How long a non-reader waits to be cut: its no-drain limit is 1 s, with the same allowance for a busy machine. */
const NON_READER_GIVE_UP_MS = 15_000;
const SLOW_SENDERS = 300;
const NON_READERS = 6;
/** More than --max-clients by itself, so the cap is passed even if a starved server has cut the slow senders before it accepts the flood. */
const FLOOD = 500;
const MAX_CLIENTS = 400;
/** The frame each slow sender announces; the server takes frames (and makes replies) up to 4 times this. */
const FRAME_BYTES = 16 * 1024;

const progress = (line) => { if (!asJson) process.stderr.write(`drill: ${line}\n`); };
const steps = [];
function step(name, expected, got, pass) {
  steps.push({ name, expected, got, pass });
  progress(`${pass ? 'ok  ' : 'FAIL'} ${name} (expected ${expected}; got ${got})`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`;

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-drill6-'));
const log = path.join(dir, 'server.log');
const args = ['overload', 'serve', '--port', '0', '--log', log, '--stats-interval-ms', '200', '--workers', '2',
  '--max-clients', String(MAX_CLIENTS), '--max-in-flight', '4', '--max-frame-bytes', String(4 * FRAME_BYTES), '--egress-rate', String(64 * MIB), '--window-ms', String(WINDOW_MS), '--min-progress-bytes', String(MIN_BYTES), '--no-drain-ms', '1000',
];
progress(`starting ${otherServer ?? 'the server'}; log ${log}`);
const server = await startServerProcess(args, { entry: otherServer ?? path.join(here, 'node_main.ts') });
const stats = () => waitForRecords(log, () => true, 1000).then((rs) => rs.filter((r) => r.msg === 'server stats'));

// Warm up (workers, JIT, buffers), then take the baseline from the server's own record.
const steadyClients = await Promise.all(Array.from({ length: 4 }, () => TaskClient.open(server.port)));
const body = new Uint8Array(1024).fill(7);
let steadyOk = 0;
let steadyBad = 0;
let steadyRefused = 0;
let serial = 0;
async function steadyOnce(client) {
  try {
    const { answer } = await client.request({ requestId: `s${(serial += 1)}`, task: 'sha256', arg: 4, priority: 'high', timeoutMs: 10_000, body }, 20_000);
    if (answer.type === 'task_reply' && answer.body.length === 32) steadyOk += 1;
    // An explicit refusal with a retry hint is the plan working, not a failure.
    else if (answer.type === 'error' && answer.retryAfterMs !== undefined) steadyRefused += 1;
    else steadyBad += 1;
  } catch { steadyBad += 1; }
}
for (let i = 0; i < 50; i += 1) await Promise.all(steadyClients.map(steadyOnce));
await sleep(500);
// A starved server may not have written a stats record yet: wait for one (bounded).
let baseline = (await stats()).at(-1);
for (let i = 0; baseline === undefined && i < 50; i += 1) {
  await sleep(200);
  baseline = (await stats()).at(-1);
}
if (baseline === undefined) throw new Error('drill: the server wrote no "server stats" record within 10 s');
const baseRss = baseline.rss_bytes;
progress(`baseline RSS ${mib(baseRss)}`);
const warmOk = steadyOk;

// Memory watch: stop early (and fail) if the server runs away, so the negative control cannot take the machine with it.
let peakRss = baseRss;
let runaway = false;
const watch = setInterval(async () => {
  const records = await stats();
  for (const r of records) peakRss = Math.max(peakRss, r.rss_bytes);
  if (peakRss - baseRss > 4 * BOUND_BYTES && !runaway) {
    runaway = true;
    progress(`RSS ${mib(peakRss)} is far past the bound: stopping the server`);
    server.child.kill('SIGKILL');
  }
}, 200);

let steadyRunning = true;
const steadyLoops = steadyClients.map(async (client) => {
  while (steadyRunning && !runaway) {
    await steadyOnce(client);
    await sleep(10);
  }
});

progress(`${SLOW_SENDERS} slow senders, ${NON_READERS} non-readers and a flood of ${FLOOD} connections, all at once`);
const slow = Array.from({ length: SLOW_SENDERS }, () => slowSender(server.port, { frameBytes: FRAME_BYTES, bytesPerTick: 16, tickMs: 200, giveUpMs: CUT_DEADLINE_MS + 1000 }));
const readers = Array.from({ length: NON_READERS }, () => nonReader(server.port, { replyBytes: 4 * FRAME_BYTES - 1024, requests: 4000, giveUpMs: NON_READER_GIVE_UP_MS }));
// No pause before the flood: its connects go out in this same turn, after the others'. On
// loopback each handshake completes inside connect(), so the kernel queues the connections
// for accept in this order and the 310 before the flood are counted first, however slowly
// a loaded machine runs the server. (A pause here let the slow senders' first window end,
// and their cuts make room, before a starved server accepted the flood.)
const flood = await Promise.all(Array.from({ length: FLOOD }, () => new Promise((resolve) => {
  const socket = connect({ port: server.port, host: '127.0.0.1' });
  socket.on('error', () => resolve(socket));
  socket.on('connect', () => resolve(socket));
})));
// Hold the flood open until the server has dropped some of it (at most 10 s): connections
// past the listen backlog wait for a SYN retry, and a starved server accepts late.
for (let i = 0; i < 50 && ((await stats()).at(-1)?.dropped_connections ?? 0) === 0; i += 1) await sleep(200);
for (const socket of flood) socket.destroy();

const slowResults = await Promise.all(slow);
const readerResults = await Promise.all(readers);
steadyRunning = false;
await Promise.all(steadyLoops);
await sleep(400); // one more stats record after the drill
clearInterval(watch);
for (const r of await stats().catch(() => [])) peakRss = Math.max(peakRss, r.rss_bytes);
const last = (await stats().catch(() => [])).at(-1) ?? {};
for (const client of steadyClients) client.close();

const cut = slowResults.filter((r) => r.errorCode === 'E_SLOW_CLIENT');
const times = slowResults.map((r) => r.cutAfterMs).filter(Number.isFinite);
const earliest = times.length === 0 ? Infinity : Math.min(...times);
const latest = times.length === 0 ? Infinity : Math.max(...times);
step('[slowloris] every slow sender is cut with E_SLOW_CLIENT', `${SLOW_SENDERS} of ${SLOW_SENDERS}`, `${cut.length} of ${SLOW_SENDERS}`, cut.length === SLOW_SENDERS);
step('[slowloris] each cut comes after one window and before the generous deadline', `${WINDOW_MS}-${CUT_DEADLINE_MS} ms after the first byte`,
  `${earliest}-${latest} ms`, cut.length === SLOW_SENDERS && earliest >= WINDOW_MS && latest <= CUT_DEADLINE_MS);
const readersCut = readerResults.filter((r) => r.cut).length;
step('[non-reader] every client that never reads is cut', `${NON_READERS} of ${NON_READERS}`, `${readersCut} of ${NON_READERS}`, readersCut === NON_READERS);
step('[flood] connections past --max-clients are dropped by Node and counted', '> 0 dropped_connections',
  `${last.dropped_connections ?? 'no record'}`, (last.dropped_connections ?? 0) > 0);
step('[memory] the server\'s RSS stays within its baseline plus the bound for the whole drill', `≤ ${mib(baseRss)} + ${mib(BOUND_BYTES)}`,
  `peak ${mib(peakRss)} (+${mib(peakRss - baseRss)})`, !runaway && peakRss - baseRss <= BOUND_BYTES);
step('[steady] the steady clients get a right answer or an explicit refusal every time', '0 wrong or lost answers',
  `${steadyOk - warmOk} ok, ${steadyRefused} refused with a retry hint, ${steadyBad} wrong or lost`, steadyBad === 0 && steadyOk > warmOk);

let exit = { code: null, signal: 'SIGKILL' };
if (!runaway) {
  exit = await Promise.race([server.stop('SIGTERM'), sleep(8000).then(() => server.stop('SIGKILL'))]);
}
step('[shutdown] SIGTERM still ends the server with exit 0', 'exit 0', `${exit.code ?? exit.signal}`, exit.code === 0);

const pass = steps.every((s) => s.pass);
const report = {
  pass, server: otherServer ?? 'node_main.ts', boundBytes: BOUND_BYTES, baselineRssBytes: baseRss, peakRssBytes: peakRss,
  window: { windowMs: WINDOW_MS, minBytes: MIN_BYTES, cutDeadlineMs: CUT_DEADLINE_MS }, slowCutMs: { earliest, latest },
  serverCounters: { cut_slow_sender: last.cut_slow_sender, cut_egress_cap: last.cut_egress_cap, cut_no_drain: last.cut_no_drain, dropped_connections: last.dropped_connections },
  steps,
};
if (asJson) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else process.stdout.write(`${pass ? 'PASS' : 'FAIL'}: ${steps.filter((s) => s.pass).length} of ${steps.length} checks passed\n`);
await fs.rm(dir, { recursive: true, force: true });
process.exit(pass ? 0 : 1);

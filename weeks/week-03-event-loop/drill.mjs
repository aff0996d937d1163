#!/usr/bin/env node
// Week 3 failure drill: a slow reader whose outbound buffer keeps growing.
//
// Two real `civictrust server run` processes, each with its log in a file and a
// `server stats` record every 200 ms. Against each, five steady clients echo in a
// loop while one more client floods requests and never reads a reply.
//
//   pause  the default policy: at the 64 KiB low watermark the server stops reading
//          the slow reader; after --slow-reader-ms of no drain it cuts it.
//   cap    the seed's policy (watermark = cap = 256 KiB, pausing off): the server
//          keeps reading, the queue grows up to the cap, and the reply that would
//          pass it is never written: the client is cut there.
//
// The drill passes when each slow reader is cut with reason=slow_reader
// error_code=E_SERVER_SLOW_READER and the limit the policy names, its queue never
// passed the cap, the server's memory (array buffers and RSS, from its own stats
// records) stayed within stated bounds, every steady client got every reply right,
// and SIGTERM still ends each server with exit 0.
//
//   node weeks/week-03-event-loop/drill.mjs                 human report on stderr, verdict on stdout
//   node weeks/week-03-event-loop/drill.mjs --json          one JSON document
//   node weeks/week-03-event-loop/drill.mjs --server FILE   drill another server entry (it gets the
//                                                           same `server run …` arguments), e.g.
//                                                           testdata/unbounded_server.ts
import { fs, os, path } from 'zx';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register(); // the drill drives the week's TypeScript clients directly
const { startServerProcess, waitForRecords } = await import('../../lib/framing.ts');
const { runEchoLoad, SlowReader } = await import('./node_load.ts');

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const asJson = argv.includes('--json');
const serverFlag = argv.indexOf('--server');
const otherServer = serverFlag === -1 ? undefined : path.resolve(argv[serverFlag + 1]);
const entry = otherServer ?? path.join(here, 'node_main.ts');

const KIB = 1024;
const MIB = 1024 * KIB;
/** How long the pause scenario lets a slow reader sit paused before cutting it. */
const SLOW_READER_MS = 1500;
/** The bounds the drill holds the server's memory to, over its own baseline. */
// Array buffers count garbage not yet collected too: read chunks and replies that have
// already gone out. A server that stops at its limits stays well inside these; one that
// queues everything a slow reader sends grows by tens of MiB.
const BOUNDS = { arrayBuffersBytes: 24 * MIB, rssBytes: 48 * MIB };
/** The most a slow reader sends: far more than any kernel buffer holds. */
const FLOOD_BYTES = 64 * MIB;

const progress = (line) => { if (!asJson) process.stderr.write(`drill: ${line}\n`); };
const steps = [];
function step(name, expected, got, pass) {
  steps.push({ name, expected, got, pass });
  progress(`${pass ? 'ok  ' : 'FAIL'} ${name} (expected ${expected}; got ${got})`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A timeout for races: it does not keep the process alive once the race is won. */
const deadline = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());
const mib = (bytes) => `${(bytes / MIB).toFixed(2)} MiB`;

const SCENARIOS = [
  {
    name: 'pause',
    args: ['--slow-reader-ms', String(SLOW_READER_MS)],
    cap: 4 * MIB,
    limit: 'slow_reader_ms',
    story: 'paused at the 64 KiB watermark, cut after 1500 ms without a drain',
  },
  {
    name: 'cap',
    args: ['--max-frame-bytes', String(64 * KIB), '--low-watermark-bytes', String(256 * KIB), '--max-outbound-bytes', String(256 * KIB)],
    cap: 256 * KIB,
    limit: 'max_outbound_bytes',
    story: 'pausing off: the queue grows to the 256 KiB cap and the client is cut there',
  },
];

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-drill3-'));

/** Runs one scenario against its own server process; records its steps. */
async function scenario(s) {
  const log = path.join(dir, `${s.name}.log`);
  const args = ['server', 'run', '--port', '0', '--log', log, '--stats-interval-ms', '200', '--node-id', `drill-${s.name}`, ...s.args];
  const server = await startServerProcess(args, { entry });
  const tag = (name) => `[${s.name}] ${name}`;
  let slow;
  try {
    progress(`[${s.name}] server pid ${server.pid} on port ${server.port}${otherServer ? ` (${path.basename(otherServer)})` : ''}: ${s.story}`);
    const stats = (records) => records.filter((r) => r.msg === 'server stats');
    const before = await waitForRecords(log, (rs) => stats(rs).length >= 3, 10_000);
    const baseline = {
      arrayBuffersBytes: Math.max(...stats(before).map((r) => r.array_buffers_bytes)),
      rssBytes: Math.max(...stats(before).map((r) => r.rss_bytes)),
    };

    const stopSteady = new AbortController();
    const steady = runEchoLoad({ port: server.port, clients: 5, durationMs: 60_000, signal: stopSteady.signal, thinkMs: 20, seed: 3, timeoutMs: 5000 });
    slow = await SlowReader.open(server.port);
    const openedMs = Date.now();
    const sent = await slow.flood({ bodyBytes: 4096, maxBytes: FLOOD_BYTES, stallMs: 500 });
    progress(`[${s.name}] the slow reader (local port ${slow.localPort}) sent ${mib(sent)} and reads nothing`);

    const peer = `127.0.0.1:${slow.localPort}`;
    const isCut = (r) => r.msg === 'connection closed' && r.peer === peer;
    let records;
    try {
      records = await waitForRecords(log, (rs) => rs.some(isCut), SLOW_READER_MS + 2500);
    } catch {
      records = await waitForRecords(log, () => true);
    }
    const cut = records.find(isCut);
    const got = cut === undefined ? 'still connected' : `reason=${cut.reason} error_code=${cut.error_code} limit=${cut.limit}`;
    step(tag('the slow reader is cut with reason=slow_reader and its limit'), `reason=slow_reader error_code=E_SERVER_SLOW_READER limit=${s.limit}`, got,
      cut?.reason === 'slow_reader' && cut.error_code === 'E_SERVER_SLOW_READER' && cut.limit === s.limit);
    if (s.name === 'pause') {
      step(tag('its requests stopped being read at the low watermark'), 'pauses ≥ 1, queue ≥ 64 KiB', cut === undefined ? 'no close record' : `pauses ${cut.pauses}, queue ${cut.max_queued_bytes} B`,
        (cut?.pauses ?? 0) >= 1 && (cut?.max_queued_bytes ?? 0) >= 64 * KIB);
    }
    const maxQueued = cut?.max_queued_bytes ?? stats(records).at(-1)?.max_queued_bytes ?? Number.NaN;
    const floor = s.name === 'cap' ? s.cap - 64 * KIB - 4096 : 0;
    step(tag(s.name === 'cap' ? 'its queue grew up to the cap and never past it' : 'its queue never went past the cap'),
      `${floor > 0 ? `${floor} ≤ ` : ''}queue ≤ ${s.cap} B`, `${maxQueued} B`, maxQueued <= s.cap && maxQueued >= floor);

    // Two more stats records after the cut, so the peak includes whatever the flood left behind.
    const cutMs = cut === undefined ? Date.now() : Date.parse(cut.ts);
    const after = await waitForRecords(log, (rs) => stats(rs).filter((r) => Date.parse(r.ts) > cutMs).length >= 2, 5000).catch(() => records);
    const during = stats(after).filter((r) => Date.parse(r.ts) >= openedMs);
    const peak = {
      arrayBuffersBytes: Math.max(0, ...during.map((r) => r.array_buffers_bytes)),
      rssBytes: Math.max(0, ...during.map((r) => r.rss_bytes)),
    };
    const grew = { arrayBuffersBytes: peak.arrayBuffersBytes - baseline.arrayBuffersBytes, rssBytes: peak.rssBytes - baseline.rssBytes };
    step(tag("the server's memory stays bounded"), `array buffers +< ${mib(BOUNDS.arrayBuffersBytes)}, RSS +< ${mib(BOUNDS.rssBytes)}`,
      `array buffers +${mib(grew.arrayBuffersBytes)}, RSS +${mib(grew.rssBytes)} (${during.length} stats records)`,
      during.length > 0 && grew.arrayBuffersBytes < BOUNDS.arrayBuffersBytes && grew.rssBytes < BOUNDS.rssBytes);

    stopSteady.abort();
    const load = await steady;
    const failed = Object.values(load.errorCodes).reduce((a, b) => a + b, 0);
    step(tag('the steady clients are unaffected'), 'every reply correct, 0 failed', `${load.ok} correct, ${failed} failed ${JSON.stringify(load.errorCodes)}`,
      load.ok >= 10 && failed === 0);

    slow.destroy();
    // A server that never exits is a failed step, not a hung drill.
    const exit = await Promise.race([server.stop('SIGTERM'), deadline(10_000).then(() => ({ code: 'no exit within 10 s' }))]);
    const stopped = (await waitForRecords(log, (rs) => rs.some((r) => r.msg === 'server stopped'), 5000).catch(() => [])).find((r) => r.msg === 'server stopped');
    step(tag('SIGTERM ends the server with exit 0 and no refused state-machine event'), 'exit 0, refused_events 0',
      `exit ${exit.code ?? exit.signal}, refused_events ${stopped?.refused_events ?? 'unknown'}`, exit.code === 0 && stopped?.refused_events === 0);
  } catch (error) {
    step(tag('the scenario ran to the end'), 'no exception', String(error?.message ?? error).split('\n')[0], false);
  } finally {
    slow?.destroy();
    await server.stop('SIGKILL');
  }
}

try {
  await Promise.all(SCENARIOS.map((s) => scenario(s)));
} finally {
  await fs.remove(dir);
}

const pass = steps.length > 0 && steps.every((s) => s.pass);
const title = `week-03 slow reader with a growing buffer${otherServer ? ` (server: ${path.basename(otherServer)})` : ''}`;
if (asJson) {
  process.stdout.write(`${JSON.stringify({ drill: title, pass, steps }, null, 2)}\n`);
} else {
  process.stdout.write(`${pass ? 'PASS' : 'FAIL'}: ${title} (${steps.filter((s) => s.pass).length}/${steps.length} steps)\n`);
}
process.exitCode = pass ? 0 : 1;

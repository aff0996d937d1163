#!/usr/bin/env node
/**
 * Month 2 demo ("Signed and Shielded"): what weeks 5–8 built, composed into one
 * CivicTrust node and shown on a real process.
 *
 * One `civictrust node run` child process (week 6's overload-controlled task server on
 * week 5's worker pool, accepting only week 8 signed envelopes, hashing with week 7) is
 * driven from this script:
 *
 *   1. keys: `civictrust key gen` writes 0600 key files; a group-readable one is refused;
 *   2. start the node on ephemeral ports; `/healthz` and `/metrics` answer;
 *   3. the evidence matrix: a valid request, a tampered payload, altered metadata, one
 *      packet sent three more times, an expired timestamp, an unsigned request and an
 *      unknown key, each with the code it must get, and the curve math each one cost;
 *   4. load: signed-request throughput, then normal load, an overload phase and
 *      recovery, with every request answered or explicitly refused;
 *   5. a request whose deadline passes in the queue, and Slowloris senders;
 *   6. SIGTERM with requests in flight: every one answered, exit 0; the log read back.
 *
 * Every step prints `ok` or `FAIL`; the exit status is 0 only when every check passed.
 * Only 127.0.0.1 is used; every wait has a deadline; no check compares a speed.
 *
 *   npm run demo -- month-2              about 30 s
 *   npm run demo -- month-2 --quick      about 15 s
 *   npm run demo -- month-2 --json       the report on stdout, everything else on stderr
 * @module
 */
import { $, fs, os, path } from 'zx';
import { systemClock } from '../../lib/clock.ts';
import { EXIT } from '../../lib/errors.ts';
import { seededRandom } from '../../lib/framing.ts';
import { sha256Hex, toHex } from '../../lib/hashing.ts';
import { httpRequest } from '../../lib/http.ts';
import { TaskClient, slowSender } from '../../lib/overload.ts';
import { LatencyHistogram, closeInterval, renderSoakSvg } from '../../lib/server.ts';
import { NODE_BACKEND, loadSigner } from '../../lib/signing.ts';
import { signTask, signedTaskFrame } from '../node/mod.ts';
import {
  DEFAULT_ENTRY, ROOT, checksSection, codesText, configureOrExit, countCodes, exitWithin, headline, indent, intFlag, markdownTable, ms, newReport,
  now, parseFlags, payload, percent, readJsonLines, reporting, round, runIfEntry, runSteps, settle, signalChild, sleep, startChild, verdict,
  withTicker,
} from './demo_kit.mjs';

/** Generous: the demo measures, it does not race. An answer not back by then is a silent drop. */
const ANSWER_WAIT_MS = 15_000;
const PROBE_TIMEOUTS = { connectMs: 2_000, readMs: 5_000, totalMs: 8_000 };
/** The node's minimum-progress window for the demo: 1 KiB per second of an open frame. */
const WINDOW_MS = 1000;
/** The refusals the overload ladder may answer with. */
const LADDER_CODES = ['E_OVERLOADED', 'E_SHED_LOW_PRIORITY'];
/** The chart's interval, seconds. */
const INTERVAL_S = 0.5;

const USAGE = `Usage: npm run demo -- month-2 [flags]

Month 2 demo: the CivicTrust node (signed requests only, under overload control) as a
real process. Generates keys, refuses a group-readable key, shows each signed-envelope
refusal with its code, loads the node through normal, overload and recovery phases,
drops a request past its deadline, cuts Slowloris senders, and drains on SIGTERM.
Prints each step with an ok/FAIL verdict, writes month-2-report.json, month-2-report.md
and month-2-load.svg. Exits 0 when every check passed, 1 when one failed, 2 for bad flags.

Flags:
      --quick         1.5 s per load phase (about 15 s in all) instead of 4 s (about 30 s)
      --seconds N     seconds per load phase (1-600)
      --rate N        requests per second of the normal and recovery phases (default 30)
      --overload N    requests per second of the overload phase (default 500)
      --seed N        seeds the payload bytes and the high/low priority mix (default 2)
      --out DIR       where the node's log and the reports go (default a new temp directory)
      --json          print the report as JSON on stdout; steps and progress go to stderr
  -h, --help          show this help
`;

/** Parses the command line into the demo's configuration. */
function configure(argv) {
  const v = parseFlags(argv, {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    overload: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const seconds = v.seconds === undefined ? (v.quick ? 1.5 : 4) : intFlag(v, 'seconds', 4, 1, 600);
  return {
    help: v.help,
    json: v.json,
    quick: v.quick,
    seconds,
    rate: intFlag(v, 'rate', 30, 1, 10_000),
    overloadRate: intFlag(v, 'overload', 500, 1, 100_000),
    seed: intFlag(v, 'seed', 2, 0, 2 ** 31 - 1),
    out: v.out === undefined ? undefined : path.resolve(v.out),
    /** The load phases' task: 10 ms of worker CPU, a stand-in for issuing one document. */
    spinMs: 10,
    throughputClients: 8,
  };
}

const text = (s) => new TextEncoder().encode(s);

// ---------------------------------------------------------------------------------
// The CLI and the node as child processes.

/** Runs the civictrust CLI to completion. */
async function civictrust(args) {
  const run = await $({ cwd: ROOT, quiet: true, nothrow: true })`${process.execPath} ${DEFAULT_ENTRY} ${args}`;
  return { code: run.exitCode, stdout: run.stdout, stderr: run.stderr };
}

/** The shell-style command line, with the workspace shortened to $WORK. */
function displayCommand(ctx, args) {
  return ['civictrust', ...args].join(' ').replaceAll(ctx.work, '$WORK');
}

/** Starts `civictrust node run` and waits for the JSON line it prints once bound. */
function startNode(ctx, args) {
  return startChild(ctx, [DEFAULT_ENTRY, ...args], { what: 'node' });
}

/** Scrapes `/metrics` and returns the node's counters the demo reads. */
async function scrape(ctx, requestId) {
  const exchange = await httpRequest(ctx.node.info.metrics, { requestId, timeouts: PROBE_TIMEOUTS });
  const body = new TextDecoder().decode(exchange.body);
  const value = (pattern) => {
    const match = new RegExp(`^${pattern} (\\S+)$`, 'm').exec(body);
    return match === null ? undefined : Number(match[1]);
  };
  return {
    status: exchange.status,
    text: body,
    curveChecks: value('civictrust_node_curve_checks_total'),
    ladderLevel: value('civictrust_node_ladder_level'),
    ladderChanges: value('civictrust_node_ladder_changes_total'),
    nonces: value('civictrust_node_nonces'),
    poolQueueLimit: value('civictrust_pool_queue_limit'),
  };
}

// ---------------------------------------------------------------------------------
// Signed requests from this process.

/** Sends one frame on `client` and waits for the answer to `requestId`. */
async function exchange(client, frame, requestId) {
  const answered = client.expect(requestId, ANSWER_WAIT_MS);
  client.writeRaw(frame);
  return answered;
}

/** The code of an answer, or `ok`. */
const verdictOf = (answer) => (answer.type === 'task_reply' ? 'ok' : answer.errorCode);

/**
 * Sends signed `spin` requests at `ratePerSec` for `seconds` (open loop: on a schedule,
 * whether or not answers come back), round-robin over `connections`. Every request's
 * outcome is kept: a reply, an explicit refusal, or `lost` when no answer came.
 *
 * The schedule never catches up: if this process is held up (the machine is shared),
 * the slots it missed are skipped, not sent later as one burst, so a stall here cannot
 * look like overload there. `sent` is what actually went out.
 */
async function openLoop(ctx, { name, ratePerSec, seconds, connections = 4, highShare = 0.5 }) {
  const clients = await Promise.all(Array.from({ length: connections }, () => TaskClient.open(ctx.node.info.port)));
  const random = seededRandom(ctx.config.seed * 31 + name.length);
  const gapMs = 1000 / ratePerSec;
  const events = [];
  const pending = [];
  const start = now();
  const end = start + seconds * 1000;
  let next = start;
  let sent = 0;
  let skipped = 0;
  try {
    while (now() < end) {
      if (now() - next > 50) {
        const behind = Math.floor((now() - next) / gapMs);
        skipped += behind;
        next += behind * gapMs;
      }
      while (next <= now() && next < end) {
        const requestId = `${name}-${sent}`;
        const priority = random() < highShare ? 'high' : 'low';
        const { frame } = await signTask({ requestId, task: 'spin', arg: ctx.config.spinMs, priority, timeoutMs: 5000, body: new Uint8Array(0) }, ctx.alice, { clock: systemClock });
        const client = clients[sent % clients.length];
        const startMs = now();
        pending.push(exchange(client, frame, requestId).then(
          ({ answer, latencyMs }) => events.push({ startMs, endMs: now(), latencyMs, priority, code: verdictOf(answer), retryAfterMs: answer.retryAfterMs }),
          (error) => events.push({ startMs, endMs: now(), latencyMs: now() - startMs, priority, code: 'lost', detail: error.message }),
        ));
        sent += 1;
        next += gapMs;
      }
      await sleep(Math.max(1, Math.min(10, next - now())));
    }
    await Promise.all(pending);
  } finally {
    for (const client of clients) client.close();
  }
  return { name, ratePerSec, seconds, sent, skipped, durationMs: seconds * 1000, events };
}

/** Signed `sha256` requests from `clients` closed loops (send, wait, send again) for `seconds`. */
async function closedLoop(ctx, { name, clients, seconds }) {
  const events = [];
  const body = payload(256, ctx.config.seed);
  const until = now() + seconds * 1000;
  const start = now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const client = await TaskClient.open(ctx.node.info.port);
    try {
      for (let i = 0; now() < until; i += 1) {
        const requestId = `${name}-c${c}-${i}`;
        const { frame } = await signTask({ requestId, task: 'sha256', arg: 1, priority: 'high', timeoutMs: 5000, body }, ctx.alice, { clock: systemClock });
        const startMs = now();
        try {
          const { answer, latencyMs } = await exchange(client, frame, requestId);
          events.push({ startMs, endMs: now(), latencyMs, code: verdictOf(answer), digestOk: answer.type === 'task_reply' && toHex(answer.body) === sha256Hex(body) });
        } catch (error) {
          events.push({ startMs, endMs: now(), latencyMs: now() - startMs, code: 'lost', detail: error.message });
        }
      }
    } finally {
      client.close();
    }
  }));
  return { name, clients, seconds, durationMs: now() - start, events };
}

/** Counts, rates and percentiles of a phase. */
function summarize(phase) {
  const all = new LatencyHistogram();
  const ok = new LatencyHistogram();
  for (const e of phase.events) {
    all.record(e.latencyMs);
    if (e.code === 'ok') ok.record(e.latencyMs);
  }
  const codes = countCodes(phase.events.filter((e) => e.code !== 'ok').map((e) => e.code));
  const seconds = phase.durationMs / 1000;
  return {
    name: phase.name,
    offeredPerSec: phase.ratePerSec ?? null,
    skipped: phase.skipped ?? 0,
    seconds: round(seconds),
    requests: phase.events.length,
    ok: ok.count,
    refused: phase.events.length - ok.count - (codes.lost ?? 0),
    lost: codes.lost ?? 0,
    codes,
    okPerSec: round(ok.count / seconds, 1),
    p50Ms: round(ok.percentile(50)),
    p95Ms: round(ok.percentile(95)),
    p99Ms: round(ok.percentile(99)),
    allP50Ms: round(all.percentile(50)),
    allP95Ms: round(all.percentile(95)),
  };
}

/** Splits events into chart intervals from `t0`. */
function toIntervals(events, t0, offsetS) {
  const buckets = new Map();
  for (const e of events) {
    const index = Math.floor((e.endMs - t0) / 1000 / INTERVAL_S);
    const bucket = buckets.get(index) ?? { histogram: new LatencyHistogram(), codes: {} };
    if (e.code === 'ok') bucket.histogram.record(e.latencyMs);
    else bucket.codes[e.code] = (bucket.codes[e.code] ?? 0) + 1;
    buckets.set(index, bucket);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0])
    .map(([i, b]) => closeInterval({ startS: offsetS + i * INTERVAL_S, endS: offsetS + (i + 1) * INTERVAL_S }, b.histogram, b.codes));
}

// ---------------------------------------------------------------------------------
// The steps.

/** Step 1: keys through the real CLI; modes; a group-readable key file. */
async function stepKeys(ctx) {
  ctx.heading(1, 'Keys: civictrust key gen writes 0600 key files; a group-readable one is refused');
  for (const [name, dir] of [['alice', ctx.keys], ['mallory', ctx.strangerKeys], ['bob', ctx.looseKeys]]) {
    const args = ['key', 'gen', name, '--dir', dir];
    const run = await civictrust(args);
    ctx.say(`   $ ${displayCommand(ctx, args)}\n   ${run.stdout.trim()}`);
    if (run.code !== 0) {
      ctx.check(1, `key gen ${name} succeeds`, false, run.stderr.trim());
      return false;
    }
  }
  const mode = (file) => (fs.statSync(file).mode & 0o777).toString(8).padStart(4, '0');
  const aliceKey = path.join(ctx.keys, 'alice-v1.key');
  const modes = { key: mode(aliceKey), ring: mode(path.join(ctx.keys, 'keyring.json')) };
  ctx.check(1, 'the private key file is 0600, the public key ring 0644', modes.key === '0600' && modes.ring === '0644', `alice-v1.key ${modes.key}, keyring.json ${modes.ring}`);
  fs.chmodSync(path.join(ctx.looseKeys, 'bob-v1.key'), 0o640);
  ctx.say(`   $ chmod 640 $WORK/loose-keys/bob-v1.key`);
  ctx.report.keys = { modes };
  return true;
}

/** Step 1 (second half, needs a port): the group-readable key is refused by the client before anything is sent. */
async function stepLooseKey(ctx) {
  const args = ['node', 'send', '--keys', ctx.looseKeys, '--key', 'bob', '--port', String(ctx.node.info.port), 'hello'];
  const run = await civictrust(args);
  const line = run.stderr.split('\n')[0] ?? '';
  ctx.say(`   $ ${displayCommand(ctx, args)}\n   ${line}`);
  const pass = run.code === EXIT.permission && line.startsWith('error[E_KEY_PERMISSIONS]');
  ctx.check(1, 'a group-readable key file is refused with E_KEY_PERMISSIONS (exit 5), nothing sent', pass, `exit ${run.code}`);
  ctx.report.keys.looseKey = { exit: run.code, error: line };
}

/** Step 2: the node as a real process. */
async function stepStart(ctx) {
  ctx.heading(2, 'Start the node: signed requests only, overload ladder, worker pool, /healthz and /metrics');
  const args = ['node', 'run', '--keys', ctx.keys, '--port', '0', '--health-port', '0', '--window-ms', String(WINDOW_MS), '--log', ctx.log, '--json'];
  ctx.say(`   $ ${displayCommand(ctx, args)}`);
  try {
    ctx.node = await startNode(ctx, args);
  } catch (error) {
    ctx.check(2, 'the node starts and prints its address', false, error.message);
    return false;
  }
  const info = ctx.node.info;
  ctx.say(`   ${JSON.stringify(info)}`);
  const good = Number.isInteger(info.port) && typeof info.health === 'string' && typeof info.metrics === 'string' && info.keys?.includes('alice-v1');
  ctx.check(2, 'the node prints its task port, its /healthz and /metrics URLs and its trusted keys', good,
    `pid ${info.pid}, tasks on ${info.listening}, ${info.backend} verify, ${info.workers} workers, ready in ${Math.round(ctx.node.startMs)} ms`);
  const health = await httpRequest(info.health, { requestId: 'm2-health-1', timeouts: PROBE_TIMEOUTS });
  const body = JSON.parse(new TextDecoder().decode(health.body));
  ctx.check(2, 'GET /healthz answers 200 with the ladder at normal', health.status === 200 && body.ladder === 'normal', JSON.stringify(body));
  const metrics = await scrape(ctx, 'm2-metrics-1');
  ctx.check(2, 'GET /metrics answers Prometheus text with pool, verifier and ladder metrics', metrics.status === 200 && metrics.curveChecks === 0 && metrics.ladderLevel === 0 && metrics.poolQueueLimit !== undefined,
    `${metrics.text.split('\n').filter((l) => l.startsWith('# TYPE')).length} metric families, civictrust_node_curve_checks_total ${metrics.curveChecks}`);
  ctx.report.node = { command: displayCommand(ctx, args), pid: info.pid, port: info.port, health: info.health, metrics: info.metrics, backend: info.backend, workers: info.workers, startMs: Math.round(ctx.node.startMs) };
  return good;
}

/** Step 3: each case of the evidence matrix, with the code it must get and the curve math it cost. */
async function stepEvidence(ctx) {
  ctx.heading(3, 'Signed requests: each must be answered, or refused with its stable code');
  const rows = [];
  const record = (row) => {
    rows.push(row);
    const pass = row.got === row.expected;
    ctx.check(3, `${row.case} → ${row.expected}`, pass, `got ${row.got} in ${ms(row.latencyMs)} ms (request ${row.requestId}; curve checks +${row.curveChecks})`);
  };
  let curve = (await scrape(ctx, 'm2-metrics-2')).curveChecks;
  const curveDelta = async (id) => {
    const next = (await scrape(ctx, id)).curveChecks;
    const delta = next - curve;
    curve = next;
    return delta;
  };

  // a. Valid, through the real client: civictrust node send.
  const validBody = 'civic record 1';
  const args = ['node', 'send', '--keys', ctx.keys, '--key', 'alice', '--port', String(ctx.node.info.port), '--request-id', 'm2-valid', '--json', validBody];
  const valid = await civictrust(args);
  ctx.say(`   $ ${displayCommand(ctx, args)}\n   ${valid.stdout.trim()}`);
  const validAnswer = JSON.parse(valid.stdout.split('\n')[0] || '{}');
  const digestOk = validAnswer.body_hex === sha256Hex(text(validBody));
  record({ case: 'a valid signed request (civictrust node send)', requestId: 'm2-valid', expected: 'ok', got: valid.code === 0 && validAnswer.ok && digestOk ? 'ok' : (validAnswer.error_code ?? `exit ${valid.code}`), latencyMs: validAnswer.latency_ms, curveChecks: await curveDelta('m2-metrics-3') });

  // b–g. In process, on one connection, so each spoiled message is exactly what is described.
  const client = await TaskClient.open(ctx.node.info.port);
  try {
    const task = (requestId, extra = {}) => ({ requestId, task: 'sha256', arg: 1, priority: 'high', timeoutMs: 5000, body: text('civic record 2'), ...extra });
    const one = async (label, requestId, expected, frame) => {
      const { answer, latencyMs } = await exchange(client, frame, requestId);
      record({ case: label, requestId, expected, got: verdictOf(answer), latencyMs, curveChecks: await curveDelta(`m2-metrics-${requestId}`), retryAfterMs: answer.retryAfterMs ?? null });
    };

    const b = await signTask(task('m2-tamper-payload'), ctx.alice, { clock: systemClock });
    const spoiled = b.payload.slice();
    spoiled[spoiled.length - 1] ^= 0x01;
    await one('payload changed after signing (one bit of the body)', 'm2-tamper-payload', 'E_SIG_INVALID', signedTaskFrame(b.envelope, spoiled));

    const c = await signTask(task('m2-tamper-meta'), ctx.alice, { clock: systemClock });
    const later = new Date(Date.parse(c.envelope.timestamp) + 1).toISOString();
    await one('metadata changed after signing (timestamp + 1 ms)', 'm2-tamper-meta', 'E_SIG_INVALID', signedTaskFrame({ ...c.envelope, timestamp: later }, c.payload));

    const d = await signTask(task('m2-replay'), ctx.alice, { clock: systemClock });
    await one('a fresh signed packet', 'm2-replay', 'ok', d.frame);
    for (let i = 1; i <= 3; i += 1) await one(`the same packet, byte for byte, again (${i} of 3)`, 'm2-replay', 'E_REPLAY', d.frame);

    const e = await signTask(task('m2-expired'), ctx.alice, { clock: { now: () => Date.now() - 5 * 60_000 } });
    await one('signed 5 minutes ago (window 2 minutes)', 'm2-expired', 'E_TIMESTAMP_EXPIRED', e.frame);

    const f = await signTask(task('m2-unsigned'), ctx.alice, { clock: systemClock });
    const { signature: _signature, key_id: _keyId, ...unsigned } = f.envelope;
    await one('no signature and no key_id', 'm2-unsigned', 'E_SIG_MISSING', signedTaskFrame(unsigned, f.payload));

    const g = await signTask(task('m2-unknown-key'), ctx.mallory, { clock: systemClock });
    await one('signed by a key the node does not trust (mallory-v1)', 'm2-unknown-key', 'E_KEY_UNKNOWN', g.frame);
  } finally {
    client.close();
  }
  const cheap = rows.filter((r) => !['ok', 'E_SIG_INVALID'].includes(r.expected) || r.case.startsWith('payload'));
  const curveTotal = rows.reduce((a, r) => a + r.curveChecks, 0);
  ctx.check(3, 'refusals found by the cheap checks cost no curve math; only the valid, replayed-first and metadata-altered messages were verified',
    cheap.every((r) => r.curveChecks === 0) && curveTotal === 3,
    `${curveTotal} Ed25519 verifications for ${rows.length} messages`);

  // Each refusal has its structured record.
  const ids = [...new Set(rows.map((r) => r.requestId))];
  await sleep(100);
  const answered = readJsonLines(ctx.log).records.filter((r) => r.msg === 'request answered' && ids.includes(r.request_id));
  const complete = answered.filter((r) => typeof r.latency_ms === 'number' && typeof r.result === 'string' && (r.result === 'ok' || typeof r.error_code === 'string'));
  ctx.check(3, 'every one of them has a "request answered" record with request_id, result, error_code and latency_ms', answered.length === rows.length && complete.length === rows.length,
    `${complete.length}/${rows.length} records, e.g. ${JSON.stringify(pick(answered.find((r) => r.error_code === 'E_REPLAY') ?? {}, ['request_id', 'result', 'error_code', 'latency_ms']))}`);
  ctx.report.evidence = rows;
  ctx.say('');
  ctx.say(indent(evidenceTable(rows)));
}

function pick(object, keys) {
  return Object.fromEntries(keys.filter((k) => k in object).map((k) => [k, object[k]]));
}

/** Step 4: throughput, normal load, overload, recovery. */
async function stepLoad(ctx) {
  const { seconds, rate, overloadRate, spinMs, throughputClients } = ctx.config;
  ctx.heading(4, `Load: signed-request throughput, then ${rate}/s → ${overloadRate}/s → ${rate}/s of ${spinMs} ms tasks (2 workers ≈ ${Math.round(2000 / spinMs)}/s)`);
  const load = {};
  ctx.report.load = load;

  const throughput = await withTicker(ctx, (t) => `throughput: t=${t}s`, () => closedLoop(ctx, { name: 'tp', clients: throughputClients, seconds }));
  const tp = summarize(throughput);
  tp.digestsOk = throughput.events.filter((e) => e.digestOk).length;
  load.throughput = tp;
  ctx.check(4, `throughput: ${throughputClients} closed-loop clients of signed sha256 requests, every one verified and answered with the right digest`,
    tp.requests > 0 && tp.ok === tp.requests && tp.digestsOk === tp.ok,
    `${tp.ok}/${tp.requests} ok, ${tp.okPerSec} signed requests/s end to end, p50 ${ms(tp.p50Ms)} ms, p95 ${ms(tp.p95Ms)} ms`);

  const t0 = now();
  const intervals = [];
  const normal = await withTicker(ctx, (t) => `normal: t=${t}s`, () => openLoop(ctx, { name: 'normal', ratePerSec: rate, seconds }));
  intervals.push(...toIntervals(normal.events, t0, 0));
  const n = summarize(normal);
  load.normal = n;
  ctx.check(4, `normal (${rate}/s): the error rate stays under the 1 % cap`, n.requests > 0 && n.lost === 0 && (n.requests - n.ok) / n.requests <= 0.01,
    `${n.ok}/${n.requests} ok (${percent(n.ok, n.requests)}), p50 ${ms(n.p50Ms)} ms, p95 ${ms(n.p95Ms)} ms`);

  const before = await scrape(ctx, 'm2-metrics-overload-0');
  const overload = await withTicker(ctx, (t) => `overload: t=${t}s`, () => openLoop(ctx, { name: 'overload', ratePerSec: overloadRate, seconds }));
  const after = await scrape(ctx, 'm2-metrics-overload-1');
  const o = summarize(overload);
  o.ladderChanges = after.ladderChanges - before.ladderChanges;
  o.curveChecks = after.curveChecks - before.curveChecks;
  load.overload = o;
  const refusals = overload.events.filter((e) => e.code !== 'ok' && e.code !== 'lost');
  const hinted = refusals.filter((e) => LADDER_CODES.includes(e.code) && Number.isInteger(e.retryAfterMs) && e.retryAfterMs > 0);
  const ladderRefused = refusals.filter((e) => LADDER_CODES.includes(e.code)).length;
  ctx.check(4, `overload (${overloadRate}/s): zero silent drops — every request got a reply or an explicit refusal`, o.requests === overload.sent && o.lost === 0,
    `${o.requests} sent: ${o.ok} ok, ${o.refused} refused (${codesText(o.codes)}), ${o.lost} without an answer`);
  ctx.check(4, 'overload: the ladder moved and every refusal is E_OVERLOADED or E_SHED_LOW_PRIORITY with a retry_after_ms hint',
    o.ladderChanges > 0 && refusals.length > 0 && hinted.length === refusals.length && o.ok > 0,
    `${o.ladderChanges} ladder changes; retry hints ${[...new Set(hinted.map((e) => `${e.code}=${e.retryAfterMs} ms`))].join(', ')}; still ${o.okPerSec} ok/s`);
  // Admitted requests are verified unless their deadline drops them in the queue first.
  const admitted = o.requests - ladderRefused;
  ctx.check(4, 'overload: no Ed25519 verification for a request the ladder refused (curve checks = admitted requests)',
    o.curveChecks <= admitted && o.curveChecks >= admitted - (o.codes.E_DEADLINE_EXCEEDED ?? 0),
    `${o.curveChecks} curve checks for ${o.requests} requests, ${ladderRefused} refused before any curve math`);
  intervals.push(...toIntervals(overload.events, t0, 0));

  // Recovery: wait for the ladder to step back to normal, then the normal rate again.
  const calmFrom = now();
  let level = after.ladderLevel;
  while (level !== 0 && now() - calmFrom < 10_000) {
    await sleep(100);
    level = (await scrape(ctx, `m2-metrics-calm-${Math.round(now())}`)).ladderLevel;
  }
  const calmMs = now() - calmFrom;
  const recovery = await withTicker(ctx, (t) => `recovery: t=${t}s`, () => openLoop(ctx, { name: 'recovery', ratePerSec: rate, seconds }));
  intervals.push(...toIntervals(recovery.events, t0, 0));
  const r = summarize(recovery);
  r.ladderNormalAfterMs = round(calmMs, 0);
  load.recovery = r;
  ctx.check(4, `recovery (${rate}/s): back to 100 % once the ladder is normal again`, level === 0 && r.requests > 0 && r.ok === r.requests,
    `ladder normal ${Math.round(calmMs)} ms after the overload phase; ${r.ok}/${r.requests} ok (${percent(r.ok, r.requests)}), p50 ${ms(r.p50Ms)} ms, p95 ${ms(r.p95Ms)} ms`);

  ctx.say('');
  ctx.say(indent(loadTable(ctx)));
  const title = `month 2: signed ${spinMs} ms tasks at ${rate}/s, ${overloadRate}/s, ${rate}/s (2 workers, seed ${ctx.config.seed})`;
  ctx.report.files.svg = path.join(ctx.out, 'month-2-load.svg');
  await fs.writeFile(ctx.report.files.svg, renderSoakSvg(intervals, { title, errorRateCap: 0.01, throughput: true }));
  ctx.report.intervals = intervals;
}

/** Step 5: a deadline that passes in the queue; Slowloris senders. */
async function stepDefences(ctx) {
  ctx.heading(5, 'Deadlines and slow clients');
  const client = await TaskClient.open(ctx.node.info.port);
  try {
    const before = (await scrape(ctx, 'm2-metrics-dl-0')).curveChecks;
    const hogs = await Promise.all([1, 2].map((i) => signTask({ requestId: `m2-hog-${i}`, task: 'spin', arg: 800, priority: 'high', timeoutMs: 30_000, body: new Uint8Array(0) }, ctx.alice, { clock: systemClock })));
    const late = await signTask({ requestId: 'm2-deadline', task: 'spin', arg: 1, priority: 'high', timeoutMs: 200, body: new Uint8Array(0) }, ctx.alice, { clock: systemClock });
    const hogAnswers = hogs.map((h, i) => exchange(client, h.frame, `m2-hog-${i + 1}`));
    await sleep(50);
    const { answer, latencyMs } = await exchange(client, late.frame, 'm2-deadline');
    await Promise.all(hogAnswers);
    const curve = (await scrape(ctx, 'm2-metrics-dl-1')).curveChecks - before;
    await sleep(100);
    const dropped = readJsonLines(ctx.log).records.find((r) => r.msg === 'request dropped' && r.request_id === 'm2-deadline');
    const pass = answer.type === 'error' && answer.errorCode === 'E_DEADLINE_EXCEEDED' && answer.stage === 'queue' && dropped?.stage === 'queue';
    ctx.check(5, 'a request whose 200 ms budget runs out behind two 800 ms tasks is dropped at the queue stage, answered and logged, never verified',
      pass && curve === 2, `${answer.type === 'error' ? `${answer.errorCode} stage=${answer.stage}` : 'a reply'} after ${ms(latencyMs)} ms; log: ${dropped === undefined ? 'no record' : `"request dropped" stage=${dropped.stage} late_ms=${dropped.late_ms}`}; curve checks +${curve} (the two hogs)`);
    ctx.report.deadline = { errorCode: answer.errorCode ?? null, stage: answer.stage ?? null, latencyMs: round(latencyMs), logged: dropped ?? null, curveChecks: curve };
  } finally {
    client.close();
  }

  const senders = 5;
  const honest = await TaskClient.open(ctx.node.info.port);
  const slow = Array.from({ length: senders }, () => slowSender(ctx.node.info.port, { frameBytes: 4096, bytesPerTick: 8, tickMs: 100, giveUpMs: WINDOW_MS * 6 }));
  await sleep(200);
  const h = await signTask({ requestId: 'm2-honest', task: 'sha256', arg: 1, priority: 'high', timeoutMs: 5000, body: text('meanwhile') }, ctx.alice, { clock: systemClock });
  const honestAnswer = await exchange(honest, h.frame, 'm2-honest');
  honest.close();
  const results = await Promise.all(slow);
  const cut = results.filter((r) => r.errorCode === 'E_SLOW_CLIENT' && r.cutAfterMs >= WINDOW_MS);
  ctx.check(5, `${senders} Slowloris senders (8 bytes every 100 ms of a 4 KiB frame) are each cut with E_SLOW_CLIENT after one ${WINDOW_MS} ms window`,
    cut.length === senders, `${cut.length}/${senders} cut after ${results.map((r) => r.cutAfterMs).join(', ')} ms`);
  ctx.check(5, 'an honest client is served while they trickle', honestAnswer.answer.type === 'task_reply', `${verdictOf(honestAnswer.answer)} in ${ms(honestAnswer.latencyMs)} ms`);
  ctx.report.slowloris = { senders, windowMs: WINDOW_MS, cutAfterMs: results.map((r) => r.cutAfterMs), codes: results.map((r) => r.errorCode ?? null), honest: verdictOf(honestAnswer.answer) };
}

/** Step 6: SIGTERM with requests in flight; the log read back. */
async function stepDrain(ctx) {
  ctx.heading(6, 'SIGTERM with requests in flight: drain, exit 0, read the log back');
  const client = await TaskClient.open(ctx.node.info.port);
  const inFlight = 6;
  const signed = await Promise.all(Array.from({ length: inFlight }, (_, i) =>
    signTask({ requestId: `m2-drain-${i}`, task: 'spin', arg: 300, priority: 'high', timeoutMs: 30_000, body: new Uint8Array(0) }, ctx.alice, { clock: systemClock })));
  const answers = signed.map((s, i) => exchange(client, s.frame, `m2-drain-${i}`).then((a) => verdictOf(a.answer), () => 'lost'));
  await sleep(150);
  const killAt = now();
  signalChild(ctx.node, 'SIGTERM');
  ctx.say(`   kill -TERM ${ctx.node.pid} (${inFlight} requests of 300 ms in flight on 2 workers)`);
  const verdicts = await Promise.all(answers);
  client.close();
  const exit = await exitWithin(ctx.node, 20_000);
  const drainMs = now() - killAt;
  ctx.check(6, 'every request in flight at SIGTERM is answered before the node exits', verdicts.every((v) => v === 'ok'), `${verdicts.filter((v) => v === 'ok').length}/${inFlight} ok: ${codesText(countCodes(verdicts))}`);
  ctx.check(6, 'the node exits 0 after draining', exit !== undefined && exit.code === 0, exit === undefined ? 'still running 20 s later' : `exit ${exit.code ?? exit.signal} ${Math.round(drainMs)} ms after SIGTERM`);
  const lines = ctx.node.stdout.trim().split('\n');
  let summary;
  try {
    summary = JSON.parse(lines.at(-1));
  } catch {
    summary = undefined;
  }
  ctx.report.drain = { inFlight, verdicts, exit: exit ?? null, drainMs: round(drainMs, 0), summary: summary ?? null };
  if (summary !== undefined) ctx.say(`   ${lines.at(-1)}`);

  const { records, unreadable } = readJsonLines(ctx.log);
  const answered = records.filter((r) => r.msg === 'request answered');
  const byCode = countCodes(answered.map((r) => r.error_code ?? 'ok'));
  const errors = records.filter((r) => r.level === 'error');
  const shaped = answered.filter((r) => typeof r.request_id === 'string' && typeof r.latency_ms === 'number' && typeof r.result === 'string' && (r.result === 'ok' || typeof r.error_code === 'string'));
  ctx.check(6, 'the log reads back whole: no error record, one "request answered" per answer, each with request_id, result, error_code, latency_ms',
    unreadable === 0 && errors.length === 0 && shaped.length === answered.length && summary !== undefined && answered.length === summary.answered_ok + Object.values(summary.refused).reduce((a, b) => a + b, 0),
    `${records.length} records, ${answered.length} answers (${summary === undefined ? 'no stop summary' : `the node counted ${summary.answered_ok} ok + ${Object.values(summary.refused).reduce((a, b) => a + b, 0)} refused`}), ${errors.length} at error level`);
  ctx.report.counts = { byCode, curveChecks: summary?.curve_checks ?? null, logRecords: records.length };
  ctx.say('');
  ctx.say(indent(countsTable(byCode)));
}

// ---------------------------------------------------------------------------------
// Tables.

function evidenceTable(rows) {
  return markdownTable(['case', 'request id', 'expected', 'got', 'curve checks', 'latency ms'], ['l', 'l', 'l', 'l', 'r', 'r'],
    rows.map((r) => [r.case, r.requestId, r.expected, `${r.got === r.expected ? '' : '**'}${r.got}${r.got === r.expected ? '' : '**'}`, String(r.curveChecks), ms(r.latencyMs)]));
}

function loadTable(ctx) {
  const l = ctx.report.load ?? {};
  const row = (label, s) => (s === undefined ? [label, '-', '-', '-', '-', '-', '-', '-', '-'] : [
    label, s.offeredPerSec === null ? 'closed loop' : `${s.offeredPerSec}/s`, String(s.requests), `${percent(s.ok, s.requests)}`, codesText(s.codes), String(s.okPerSec), ms(s.p50Ms), ms(s.p95Ms), ms(s.allP95Ms),
  ]);
  return markdownTable(['phase', 'offered', 'requests', 'ok', 'refused (code×n)', 'ok/s', 'p50 ms', 'p95 ms', 'p95 ms (all answers)'],
    ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r'],
    [row('throughput (sha256)', l.throughput), row('normal', l.normal), row('overload', l.overload), row('recovery', l.recovery)]);
}

function countsTable(byCode) {
  return markdownTable(['answer', 'count'], ['l', 'r'], Object.entries(byCode).sort((a, b) => b[1] - a[1]).map(([code, n]) => [code, String(n)]));
}

function markdownReport(ctx) {
  const r = ctx.report;
  const c = r.config;
  return [
    '# Month 2 demo report',
    '',
    headline(r, `node ${c.node} on ${c.cpus} CPU(s) · ${c.seconds} s per load phase · seed ${c.seed}`),
    '',
    '## Evidence',
    '',
    evidenceTable(r.evidence ?? []),
    '',
    '## Load',
    '',
    loadTable(ctx),
    '',
    '## Answers by code (whole run)',
    '',
    countsTable(r.counts?.byCode ?? {}),
    '',
    ...checksSection(r),
  ].join('\n');
}

// ---------------------------------------------------------------------------------

/**
 * Runs the demo.
 * @param argv - the flags after `month-2`
 * @returns the exit status: 0 when every check passed, 1 when one failed, 2 for bad flags
 */
export async function main(argv) {
  const { config, exit } = configureOrExit('month-2', argv, configure, USAGE);
  if (config === undefined) return exit;

  const started = now();
  if (config.out !== undefined) await fs.ensureDir(config.out);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-month2-'));
  const out = config.out ?? work;
  const report = {
    ...newReport('month-2', 'Signed and Shielded', {
      quick: config.quick, seconds: config.seconds, rate: config.rate, overloadRate: config.overloadRate, seed: config.seed, spinMs: config.spinMs,
      throughputClients: config.throughputClients, windowMs: WINDOW_MS, node: process.version, cpus: os.cpus().length,
    }),
    files: {},
  };
  const ctx = {
    config,
    work,
    out,
    keys: path.join(work, 'keys'),
    strangerKeys: path.join(work, 'stranger-keys'),
    looseKeys: path.join(work, 'loose-keys'),
    log: path.join(out, 'node.log'),
    live: new Set(),
    report,
    ...reporting(config, report),
  };
  await fs.remove(ctx.log); // a log left by an earlier run in --out would skew the log checks

  ctx.say('CivicTrust · Month 2 demo (Signed and Shielded): weeks 5–8 as one node, on real processes and sockets');
  ctx.say(`config: ${config.seconds} s per load phase, ${config.rate}/s normal, ${config.overloadRate}/s overload, ${config.spinMs} ms tasks, seed ${config.seed}; node ${process.version}, ${os.cpus().length} CPU(s)`);
  ctx.say(`workspace: ${work}`);

  await runSteps(ctx, 'month-2', async () => {
    if (await stepKeys(ctx)) {
      ctx.alice = await loadSigner(ctx.keys, 'alice', NODE_BACKEND, systemClock);
      ctx.mallory = await loadSigner(ctx.strangerKeys, 'mallory', NODE_BACKEND, systemClock);
      if (await stepStart(ctx)) {
        ctx.say('   the group-readable key, tried against the running node:');
        await stepLooseKey(ctx);
        await stepEvidence(ctx);
        await stepLoad(ctx);
        await stepDefences(ctx);
        await stepDrain(ctx);
      }
    }
  });

  settle(report, started);
  report.files.json = path.join(out, 'month-2-report.json');
  report.files.markdown = path.join(out, 'month-2-report.md');
  report.files.nodeLog = ctx.log;
  await fs.writeFile(report.files.json, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(report.files.markdown, markdownReport(ctx));
  ctx.say(`\n   reports: ${report.files.json}`);
  ctx.say(`            ${report.files.markdown}`);
  if (report.files.svg !== undefined) ctx.say(`   chart:   ${report.files.svg}`);
  ctx.say(`   node log: ${ctx.log}`);
  return verdict(ctx, 'month-2');
}

// Run directly (`node --import tsx capstone/demos/month_2.mjs --quick`) as well as through run.mjs.
await runIfEntry(import.meta.url, main);

#!/usr/bin/env node
/**
 * Month 3 demo ("Many Nodes, One Truth"): what weeks 9–12 built, shown on a real
 * three-node cluster of week 12 replica processes (Raft over signed peer messages,
 * WAL-backed logs, the KV state machine applying through the replicated TTL dedupe table).
 *
 *   1. launch the cluster (capstone/cluster) and wait for a leader a majority agrees on;
 *   2. steady signed write load from several ClusterClients, every operation recorded
 *      (call and return time, key, value, result, or unknown outcome);
 *   3. SIGKILL the leader mid-load; the clients follow leader hints and retry with the
 *      same request ids; failover is measured from the kill to the next acknowledged put;
 *   4. restart the killed node under load and wait for it to catch up;
 *   5. a deliberate duplicate: an acknowledged request id sent again gets its first
 *      answer back, and the key's version does not move;
 *   6. every key read back through the log, then the proofs: no acknowledged write lost,
 *      no duplicate effect, identical state hashes on all nodes, and a linearizable
 *      history (week 11's checker); a timeline chart; SIGTERM drains every node.
 *
 * Every step prints `ok` or `FAIL`; the exit status is 0 only when every check passed.
 * Only 127.0.0.1 is used; every wait has a deadline; no check compares a speed.
 *
 *   npm run demo -- month-3              about 30 s
 *   npm run demo -- month-3 --quick      about 15 s
 *   npm run demo -- month-3 --json       the report on stdout, everything else on stderr
 * @module
 */
import { fs, os, path } from 'zx';
import { checkOperations, kvModel } from '../../lib/replication.ts';
import { seededRandom } from '../../lib/framing.ts';
import { LatencyHistogram } from '../../lib/server.ts';
import { RunningCluster, converged, openClusterClient, queryStatus, statusTable, waitForConvergence, waitForLeader } from '../cluster/mod.ts';
import {
  checksSection, codesText, configureOrExit, countCodes, headline, indent, intFlag, markdownTable, ms, newReport, now, parseFlags, reporting, round, runIfEntry, runSteps, settle,
  sleep, verdict, withTicker,
} from './demo_kit.mjs';

/** The chart's bucket, milliseconds. */
const BUCKET_MS = 100;
/** How many times a client sends one request id before it records the outcome as unknown. */
const SENDS_PER_REQUEST = 3;

const USAGE = `Usage: npm run demo -- month-3 [flags]

Month 3 demo: a replicated KV cluster of three week 12 replica processes. Signed writes
from several cluster clients, the leader killed with SIGKILL mid-load, failover measured,
the node restarted and caught up, a duplicate request answered from the dedupe table,
every key read back through the log; then the proofs: no acknowledged write lost, no
duplicate effect, identical state hashes, a linearizable history. Writes
month-3-report.json, month-3-report.md, month-3-history.json and month-3-timeline.svg.
Exits 0 when every check passed, 1 when one failed, 2 for bad flags.

Flags:
      --quick         1.5 s per load phase (about 15 s in all) instead of 4 s (about 30 s)
      --seconds N     seconds per load phase (1-600)
      --clients N     concurrent cluster clients (1-32, default 4)
      --keys N        keys the clients write to (1-1000, default 8)
      --seed N        seeds the clients' choice of keys (default 3)
      --out DIR       where the cluster and the reports go (default a new temp directory)
      --json          print the report as JSON on stdout; steps and progress go to stderr
  -h, --help          show this help
`;

/** Parses the command line into the demo's configuration. */
function configure(argv) {
  const v = parseFlags(argv, {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    clients: { type: 'string' },
    keys: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  return {
    help: v.help,
    json: v.json,
    quick: v.quick,
    seconds: v.seconds === undefined ? (v.quick ? 1.5 : 4) : intFlag(v, 'seconds', 4, 1, 600),
    clients: intFlag(v, 'clients', 4, 1, 32),
    keys: intFlag(v, 'keys', 8, 1, 1000),
    seed: intFlag(v, 'seed', 3, 0, 2 ** 31 - 1),
    out: v.out === undefined ? undefined : path.resolve(v.out),
  };
}

// ---------------------------------------------------------------------------------
// The load: closed-loop clients, every operation recorded for the checker.

/**
 * Sends one request until the cluster answers it: the ClusterClient retries inside one
 * send (leader hints, backoff, the same request id), and a send that gives up is sent
 * again with the same request id, up to {@link SENDS_PER_REQUEST} times.
 * @returns the final reply (null when the outcome stayed unknown), the attempts, the sends, and
 *   the codes of the attempts that failed and of the sends that gave up
 */
async function sendUntilAnswered(client, request) {
  let attempts = 0;
  const codes = [];
  for (let send = 1; ; send += 1) {
    const result = await client.send(request);
    attempts += result.trace.length;
    codes.push(...result.trace.flatMap((t) => (t.code === null ? [] : [t.code])), ...(result.error === null ? [] : [result.error.code]));
    if (result.reply !== null || send === SENDS_PER_REQUEST) return { reply: result.reply, attempts, sends: send, codes };
  }
}

/**
 * Runs `clients` closed loops (send, wait, send again) until `ctx.load.stop` is set. Each
 * client writes its own values (`c<client>-<n>`) to keys drawn from a seeded sequence, and
 * reads a key every fifth operation. Every operation is pushed to `ctx.ops`.
 */
function startLoad(ctx) {
  const { clients, keys, seed } = ctx.config;
  ctx.load = { stop: false };
  ctx.load.done = Promise.all(Array.from({ length: clients }, async (_, c) => {
    const client = await openClusterClient(ctx.cluster.config);
    const random = seededRandom(seed * 101 + c);
    for (let n = 0; !ctx.load.stop; n += 1) {
      const key = `doc-${Math.floor(random() * keys)}`;
      const request = n % 5 === 4
        ? { op: 'get', key, request_id: `m3-c${c}-${n}` }
        : { op: 'put', key, value: `c${c}-${n}`, request_id: `m3-c${c}-${n}` };
      await record(ctx, c, request, () => sendUntilAnswered(client, request));
    }
  }));
}

/** Runs one operation and records it: call and return times, input, result or unknown outcome. */
async function record(ctx, client, request, run) {
  const call = now();
  const result = await run();
  const ret = now();
  const reply = result.reply;
  const op = {
    client, requestId: request.request_id, op: request.op, key: request.key, value: request.value ?? null, call, ret,
    attempts: result.attempts, sends: result.sends, codes: result.codes, node: reply?.node ?? null,
    result: reply === null ? 'unknown' : reply.ok ? 'ok' : reply.code,
    version: reply?.ok ? reply.version : null,
    read: request.op === 'get' && reply !== null ? (reply.ok ? reply.value : reply.code === 'E_KV_NOT_FOUND' ? null : undefined) : undefined,
    reply,
  };
  ctx.ops.push(op);
  return op;
}

/**
 * The operations as week 11's checker reads them. A put refused on purpose changed
 * nothing and is left out; one whose outcome stayed unknown may have taken effect at any
 * time after its call. A get refused with anything but "not found" read nothing.
 */
function history(ops) {
  return ops.flatMap((o) => {
    if (o.op === 'put') {
      if (o.result === 'ok') return [{ client: o.client, input: { op: 'put', key: o.key, value: o.value }, call: o.call, output: { value: null }, ret: o.ret }];
      if (o.result === 'unknown') return [{ client: o.client, input: { op: 'put', key: o.key, value: o.value }, call: o.call, output: null, ret: Number.POSITIVE_INFINITY }];
      return [];
    }
    if (o.read === undefined) return [];
    return [{ client: o.client, input: { op: 'get', key: o.key }, call: o.call, output: { value: o.read }, ret: o.ret }];
  });
}

// ---------------------------------------------------------------------------------
// The steps.

/** Step 1: the cluster as three real processes. */
async function stepLaunch(ctx) {
  ctx.heading(1, 'Launch three week 12 replica processes and wait for a leader');
  const started = now();
  ctx.cluster = await RunningCluster.launch({ dir: ctx.clusterDir, nodes: 3, progress: (line) => ctx.progress(line) });
  const leader = await waitForLeader(ctx.cluster.config, 30_000);
  const statuses = await ctx.cluster.status();
  ctx.say(indent(statusTable(statuses).trimEnd()));
  ctx.check(1, 'three nodes listen and a majority agrees on one leader', statuses.every((s) => s.status !== null),
    `leader ${leader} in term ${statuses.find((s) => s.id === leader)?.status?.term}, ready in ${Math.round(now() - started)} ms`);
  ctx.report.cluster = { dir: ctx.clusterDir, nodes: ctx.cluster.config.nodes.map((n) => ({ id: n.id, client: `${n.host}:${n.client_port}`, pid: ctx.cluster.pidOf(n.id) })), firstLeader: leader };
  return leader;
}

/** Steps 2–4: load, SIGKILL the leader, failover, restart and catch-up, all under load. */
async function stepFailover(ctx, leader) {
  const { seconds, clients } = ctx.config;
  ctx.heading(2, `Steady signed writes from ${clients} cluster clients (${seconds} s)`);
  const t0 = now();
  ctx.t0 = t0;
  startLoad(ctx);
  await withTicker(ctx, (t) => `load: t=${t}s, ${ctx.ops.length} operations`, () => sleep(seconds * 1000));
  const before = ctx.ops.filter((o) => o.op === 'put' && o.result === 'ok' && o.ret >= t0);
  ctx.check(2, 'every client gets its puts acknowledged', before.length > 0 && new Set(before.map((o) => o.client)).size === clients,
    `${before.length} puts acknowledged by ${leader}, ${round(before.length / seconds, 1)} puts/s`);

  ctx.heading(3, `SIGKILL the leader (${leader}) mid-load; clients follow leader hints and retry with the same request ids`);
  const killAt = now();
  const pid = ctx.cluster.pidOf(leader);
  const exit = await ctx.cluster.kill(leader, 'SIGKILL');
  ctx.say(`   kill -KILL ${pid}  (${leader}, ${exit.signal})`);
  const firstAck = await waitFor(() => ctx.ops.find((o) => o.op === 'put' && o.result === 'ok' && o.ret > killAt && o.node !== leader), 30_000);
  const failoverMs = firstAck === undefined ? null : firstAck.ret - killAt;
  const newLeader = firstAck?.node ?? null;
  ctx.check(3, 'a new leader acknowledges a put after the old one was killed', firstAck !== undefined,
    firstAck === undefined ? 'no put acknowledged within 30 s' : `failover ${Math.round(failoverMs)} ms: ${firstAck.requestId} acknowledged by ${newLeader} after ${firstAck.attempts} attempt(s)`);
  await withTicker(ctx, (t) => `load after failover: t=${t}s`, () => sleep(seconds * 1000));

  ctx.heading(4, `Restart ${leader} under load and let it catch up`);
  const restartAt = now();
  await ctx.cluster.startNode(leader);
  const targetIndex = (await ctx.cluster.status()).reduce((max, s) => Math.max(max, s.status?.commit_index ?? 0), 0);
  const caughtUp = await waitFor(async () => ((await queryStatus(addressOf(ctx, leader)).catch(() => null))?.applied_index ?? -1) >= targetIndex ? true : undefined, 30_000);
  const caughtUpAt = now();
  ctx.check(4, `the restarted node replays its log and catches up to the commit index it missed`, caughtUp === true,
    `${leader} restarted in ${Math.round(caughtUpAt - restartAt)} ms to applied index ≥ ${targetIndex}`);
  await withTicker(ctx, (t) => `load after recovery: t=${t}s`, () => sleep((seconds * 1000) / 2));
  ctx.load.stop = true;
  await ctx.load.done;
  const endAt = now();
  ctx.marks = { t0, killAt, firstAckAt: firstAck?.ret ?? null, restartAt, caughtUpAt, endAt };
  ctx.report.failover = { killed: leader, pid, newLeader, failoverMs: round(failoverMs, 1), restartToCaughtUpMs: round(caughtUpAt - restartAt, 1), targetIndex };
}

/** Step 5: an acknowledged request id, sent again. */
async function stepDuplicate(ctx) {
  ctx.heading(5, 'A deliberate duplicate: an acknowledged request id sent again');
  const first = ctx.ops.find((o) => o.op === 'put' && o.result === 'ok');
  const client = await openClusterClient(ctx.cluster.config);
  const readVersion = async (id) => (await client.send({ op: 'get', key: first.key, request_id: id })).reply?.version ?? null;
  const versionBefore = await readVersion('m3-dup-read-before');
  const again = await client.send({ op: 'put', key: first.key, value: first.value, request_id: first.requestId });
  const versionAfter = await readVersion('m3-dup-read-after');
  const same = (a, b) => a !== null && b !== null && ['ok', 'key', 'value_hash', 'version', 'lsn', 'term', 'request_id'].every((f) => a[f] === b[f]);
  ctx.say(`   first:  ${JSON.stringify(pick(first.reply, ['request_id', 'version', 'lsn', 'term', 'node']))}`);
  ctx.say(`   again:  ${JSON.stringify(pick(again.reply ?? {}, ['request_id', 'version', 'lsn', 'term', 'node']))}`);
  ctx.check(5, 'the duplicate gets the first answer (same version, index and term), from the dedupe table', same(first.reply, again.reply),
    `${first.requestId} on ${first.key}: version ${again.reply?.version}, index ${again.reply?.lsn}`);
  ctx.check(5, 'the key\'s version does not move', versionBefore !== null && versionBefore === versionAfter, `version ${versionBefore} before, ${versionAfter} after`);
  ctx.report.duplicate = { requestId: first.requestId, key: first.key, first: pick(first.reply, ['version', 'lsn', 'term', 'node']), again: pick(again.reply ?? {}, ['version', 'lsn', 'term', 'node']), versionBefore, versionAfter };
}

/** Step 6: read every key through the log, then the proofs. */
async function stepProofs(ctx) {
  ctx.heading(6, 'Read every key back through the log, then prove it');
  const client = await openClusterClient(ctx.cluster.config);
  const keys = [...new Set(ctx.ops.filter((o) => o.op === 'put').map((o) => o.key))].sort();
  const finals = new Map();
  for (const key of keys) {
    const request = { op: 'get', key, request_id: `m3-final-${key}` };
    finals.set(key, await record(ctx, 99, request, () => sendUntilAnswered(client, request)));
  }

  const puts = ctx.ops.filter((o) => o.op === 'put');
  const acked = puts.filter((o) => o.result === 'ok');
  const unknown = puts.filter((o) => o.result === 'unknown');
  const refused = puts.filter((o) => o.result !== 'ok' && o.result !== 'unknown');
  const lost = [];
  const dupes = [];
  for (const key of keys) {
    const mine = acked.filter((o) => o.key === key);
    const final = finals.get(key);
    const top = mine.reduce((a, o) => (a === undefined || o.version > a.version ? o : a), undefined);
    // Each acknowledged write holds its own version: a write lost and its slot reused by another would show as two acks of one version.
    const versions = new Set(mine.map((o) => o.version));
    if (versions.size !== mine.length) lost.push(`${key}: ${mine.length} acks share ${versions.size} versions`);
    if (final.result !== 'ok' || top === undefined || (final.version === top.version && final.read !== top.value) || final.version < top.version) {
      lost.push(`${key}: read ${final.result === 'ok' ? `${JSON.stringify(final.read)} v${final.version}` : final.result}, last ack ${top?.value} v${top?.version}`);
    }
    const maybe = unknown.filter((o) => o.key === key).length;
    if (final.version === null || final.version < mine.length || final.version > mine.length + maybe) dupes.push(`${key}: version ${final.version}, ${mine.length} acknowledged writes${maybe > 0 ? ` + ${maybe} unknown` : ''}`);
  }
  ctx.check(6, 'no acknowledged write lost: each holds its own version, and each key reads back the value of its newest acknowledged write', lost.length === 0,
    lost.length === 0 ? `${acked.length} acknowledged puts on ${keys.length} keys, ${unknown.length} of unknown outcome, ${refused.length} refused` : lost.slice(0, 3).join('; '));
  ctx.check(6, 'no duplicate effect: every key\'s version equals the number of distinct acknowledged writes to it', dupes.length === 0 && ctx.report.duplicate?.versionBefore === ctx.report.duplicate?.versionAfter,
    dupes.length === 0 ? `${keys.map((k) => `${k} v${finals.get(k).version}`).join(', ')}; retries reused their request ids` : dupes.slice(0, 3).join('; '));

  const statuses = await waitForConvergence(ctx.cluster.config, 30_000).catch(() => null) ?? await ctx.cluster.status();
  ctx.say(indent(statusTable(statuses).trimEnd()));
  ctx.check(6, 'identical state hashes on all three nodes', converged(statuses),
    `${statuses[0]?.status?.state_hash.slice(0, 16)}… at applied index ${statuses[0]?.status?.applied_index}`);

  const h = history(ctx.ops);
  const checkedAt = now();
  const result = checkOperations(kvModel, h);
  ctx.check(6, 'the recorded history is linearizable (week 11\'s checker, per key)', result.verdict === 'ok',
    `${h.length} operations in ${result.partitions} keys: ${result.verdict}, ${result.explored} search steps in ${Math.round(now() - checkedAt)} ms`);
  ctx.report.proofs = { keys: keys.length, acked: acked.length, unknown: unknown.length, refused: refused.length, lost, dupes, stateHash: statuses[0]?.status?.state_hash ?? null, linearizability: result, historyOps: h.length };
  ctx.report.files.history = path.join(ctx.out, 'month-3-history.json');
  await fs.writeFile(ctx.report.files.history, `${JSON.stringify(h.map((o) => ({ ...o, ret: Number.isFinite(o.ret) ? round(o.ret) : null, call: round(o.call) })))}\n`);
}

/** Step 7: drain every node with SIGTERM. */
async function stepDrain(ctx) {
  ctx.heading(7, 'SIGTERM drains every node');
  const exits = await ctx.cluster.stop({ graceMs: 20_000 });
  const codes = Object.fromEntries([...exits.entries()].map(([id, e]) => [id, e.signal ?? e.code]));
  ctx.check(7, 'every node exits 0 after draining', exits.size === 3 && [...exits.values()].every((e) => e.code === 0), JSON.stringify(codes));
  ctx.cluster = undefined;
}

// ---------------------------------------------------------------------------------
// Figures, chart and report.

function pick(object, keys) {
  return Object.fromEntries(keys.filter((k) => k in object).map((k) => [k, object[k]]));
}

function addressOf(ctx, id) {
  const node = ctx.cluster.config.nodes.find((n) => n.id === id);
  return `${node.host}:${node.client_port}`;
}

/** Polls `probe` every 20 ms until it returns something, or undefined after `timeoutMs`. */
async function waitFor(probe, timeoutMs) {
  const until = now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || now() > until) return value;
    await sleep(20);
  }
}

/** Puts per second, latency percentiles and retries of the acknowledged puts returning in [from, to). */
function figures(ops, from, to) {
  const puts = ops.filter((o) => o.op === 'put' && o.result === 'ok' && o.ret >= from && o.ret < to);
  const latency = new LatencyHistogram();
  for (const o of puts) latency.record(o.ret - o.call);
  return {
    puts: puts.length,
    putsPerSec: round(puts.length / ((to - from) / 1000), 1),
    p50Ms: round(latency.percentile(50)),
    p95Ms: round(latency.percentile(95)),
    maxMs: round(Math.max(0, ...puts.map((o) => o.ret - o.call))),
  };
}

function summarize(ctx) {
  const m = ctx.marks;
  const all = ctx.ops.filter((o) => o.client !== 99);
  const retried = all.filter((o) => o.attempts > 1);
  ctx.report.figures = {
    before: figures(all, m.t0, m.killAt),
    after: figures(all, m.firstAckAt ?? m.killAt, m.endAt),
    all: figures(all, m.t0, m.endAt),
    operations: all.length,
    retriedOperations: retried.length,
    extraAttempts: all.reduce((a, o) => a + o.attempts - 1, 0),
    resends: all.reduce((a, o) => a + o.sends - 1, 0),
    retryCodes: countCodes(all.flatMap((o) => o.codes)),
  };
  const f = ctx.report.figures;
  ctx.say('');
  ctx.say(indent(figuresTable(ctx.report)));
  ctx.say(`\n   failover ${ms(ctx.report.failover.failoverMs)} ms; ${f.retriedOperations} operations needed more than one attempt: ${f.extraAttempts} extra attempts and ${f.resends} resends,`);
  ctx.say(`   every one with its first request id; the failed attempts: ${codesText(f.retryCodes)}`);
}

function figuresTable(report) {
  const f = report.figures;
  const row = (label, s) => [label, String(s.puts), String(s.putsPerSec), ms(s.p50Ms), ms(s.p95Ms), ms(s.maxMs)];
  return markdownTable(['phase', 'acked puts', 'puts/s', 'p50 ms', 'p95 ms', 'max ms'], ['l', 'r', 'r', 'r', 'r', 'r'],
    [row('before the kill', f.before), row('after failover', f.after), row('whole run', f.all)]);
}

/** The timeline: acknowledged puts per 100 ms, with the kill, the first ack after it, the restart and the catch-up marked. */
function timelineSvg(ctx) {
  const m = ctx.marks;
  const buckets = Math.max(1, Math.ceil((m.endAt - m.t0) / BUCKET_MS));
  const counts = new Array(buckets).fill(0);
  for (const o of ctx.ops) {
    if (o.op !== 'put' || o.result !== 'ok' || o.ret < m.t0 || o.ret >= m.endAt) continue;
    counts[Math.floor((o.ret - m.t0) / BUCKET_MS)] += 1;
  }
  const width = 900;
  const height = 300;
  const left = 50;
  const right = 20;
  const top = 40;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...counts);
  const x = (t) => left + ((t - m.t0) / (m.endAt - m.t0)) * plotW;
  const barW = plotW / buckets;
  const bars = counts.map((c, i) => {
    const h = (c / max) * plotH;
    return `<rect x="${(left + i * barW).toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${Math.max(0.5, barW - 0.5).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7ab5"/>`;
  });
  const mark = (t, colour, label, row) => (t === null ? '' : [
    `<line x1="${x(t).toFixed(1)}" y1="${top}" x2="${x(t).toFixed(1)}" y2="${top + plotH}" stroke="${colour}" stroke-width="2" stroke-dasharray="4 3"/>`,
    `<text x="${(x(t) + 4).toFixed(1)}" y="${top + 12 + row * 14}" font-size="11" fill="${colour}">${label}</text>`,
  ].join(''));
  const seconds = (m.endAt - m.t0) / 1000;
  const ticks = Array.from({ length: Math.floor(seconds) + 1 }, (_, s) => `<text x="${x(m.t0 + s * 1000).toFixed(1)}" y="${top + plotH + 16}" font-size="10" text-anchor="middle">${s}s</text>`);
  const f = ctx.report.failover;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14">month 3: acknowledged puts per ${BUCKET_MS} ms, 3 nodes, ${ctx.config.clients} clients; ${f.killed} SIGKILLed, failover ${Math.round(f.failoverMs ?? 0)} ms</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="black"/>`,
    `<text x="${left - 6}" y="${top + 4}" font-size="10" text-anchor="end">${max}</text>`,
    `<text x="${left - 6}" y="${top + plotH}" font-size="10" text-anchor="end">0</text>`,
    ...bars,
    ...ticks,
    mark(m.killAt, '#c0392b', `SIGKILL ${f.killed}`, 0),
    mark(m.firstAckAt, '#e67e22', `first ack by ${f.newLeader}`, 1),
    mark(m.restartAt, '#2471a3', `restart ${f.killed}`, 2),
    mark(m.caughtUpAt, '#1e8449', `${f.killed} caught up`, 3),
    `<text x="${left + plotW / 2}" y="${height - 6}" font-size="11" text-anchor="middle">time since the load started</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function markdownReport(ctx) {
  const r = ctx.report;
  return [
    '# Month 3 demo report',
    '',
    headline(r, `node ${r.config.node} on ${r.config.cpus} CPU(s) · ${r.config.seconds} s per load phase · ${r.config.clients} clients · seed ${r.config.seed}`),
    '',
    '## Figures',
    '',
    r.figures === undefined ? '(the load did not run)' : figuresTable(r),
    '',
    ...checksSection(r),
  ].join('\n');
}

// ---------------------------------------------------------------------------------

/**
 * Runs the demo.
 * @param argv - the flags after `month-3`
 * @returns the exit status: 0 when every check passed, 1 when one failed, 2 for bad flags
 */
export async function main(argv) {
  const { config, exit } = configureOrExit('month-3', argv, configure, USAGE);
  if (config === undefined) return exit;

  const started = now();
  if (config.out !== undefined) await fs.ensureDir(config.out);
  // With --out, everything (the cluster too) goes there, so a test's one temp directory holds it all.
  const work = config.out ?? await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-month3-'));
  const out = work;
  const report = {
    ...newReport('month-3', 'Many Nodes, One Truth', {
      quick: config.quick, seconds: config.seconds, clients: config.clients, keys: config.keys, seed: config.seed, node: process.version, cpus: os.cpus().length,
    }),
    files: {},
  };
  // `live` stays empty: the cluster's processes belong to RunningCluster, which the exit handler below kills.
  const ctx = { config, work, out, clusterDir: path.join(work, 'cluster'), ops: [], live: new Set(), report, ...reporting(config, report) };
  await fs.remove(ctx.clusterDir); // a cluster left by an earlier run in --out would be restarted, not launched

  ctx.say('CivicTrust · Month 3 demo (Many Nodes, One Truth): weeks 9–12 as a replicated cluster, on real processes and sockets');
  ctx.say(`config: ${config.seconds} s per load phase, ${config.clients} clients on ${config.keys} keys, seed ${config.seed}; node ${process.version}, ${os.cpus().length} CPU(s)`);
  ctx.say(`workspace: ${work}`);

  const onExit = () => ctx.cluster?.killAllNow();
  process.on('exit', onExit);
  await runSteps(ctx, 'month-3', async () => {
    const leader = await stepLaunch(ctx);
    await stepFailover(ctx, leader);
    summarize(ctx);
    report.files.svg = path.join(out, 'month-3-timeline.svg');
    await fs.writeFile(report.files.svg, timelineSvg(ctx));
    await stepDuplicate(ctx);
    await stepProofs(ctx);
    await stepDrain(ctx);
  });
  if (ctx.load !== undefined) ctx.load.stop = true;
  if (ctx.cluster !== undefined) await ctx.cluster.stop({ graceMs: 0 });
  process.off('exit', onExit);

  settle(report, started);
  report.files.json = path.join(out, 'month-3-report.json');
  report.files.markdown = path.join(out, 'month-3-report.md');
  report.files.logs = path.join(ctx.clusterDir, 'logs');
  await fs.writeFile(report.files.json, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(report.files.markdown, markdownReport(ctx));
  ctx.say(`\n   reports: ${report.files.json}`);
  ctx.say(`            ${report.files.markdown}`);
  if (report.files.svg !== undefined) ctx.say(`   chart:   ${report.files.svg}`);
  ctx.say(`   node logs: ${report.files.logs}`);
  return verdict(ctx, 'month-3');
}

// Run directly (`node --import tsx capstone/demos/month_3.mjs --quick`) as well as through run.mjs.
await runIfEntry(import.meta.url, main);

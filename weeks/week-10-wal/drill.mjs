#!/usr/bin/env node
// Week 10 crash drill: real processes, real files with fdatasync, real SIGKILL.
//
// Each scenario starts node_drill_child.ts on a fresh store directory, lets it write, and
// SIGKILLs it either where it stops at a chosen point (its hooks print the point and
// never return) or after it acknowledged a number of writes (no hook at all). Then a
// second process reopens the store and prints what survived. A scenario passes when:
//
//   every write the child acknowledged before the kill is present after restart;
//   every value a reader saw before the kill is present after restart (state never ran
//     ahead of the log);
//   the write stopped at the point is present exactly when its record was durable
//     (after-append, after-apply) and absent otherwise (before-append, mid-record);
//   a torn tail is reported with its code and its bytes sit in quarantine/; a corrupt record
//     before the tail stops the reopen with E_WAL_CORRUPT, nothing moved, until `wal repair`;
//   a second reopen is clean (recovery is idempotent).
//
//   node weeks/week-10-wal/drill.mjs                     table on stderr, verdict on stdout
//   node weeks/week-10-wal/drill.mjs --json              one JSON document
//   node weeks/week-10-wal/drill.mjs --only a,b          run only the named scenarios
//   node weeks/week-10-wal/drill.mjs --store apply-first the broken store (negative control): must FAIL
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { $, fs, os, path } from 'zx';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'node_drill_child.ts');
const argv = process.argv.slice(2);
const asJson = argv.includes('--json');
const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const only = flag('--only')?.split(',');
const store = flag('--store') ?? 'durable';
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-wal-drill-'));
$.quiet = true;

const progress = (line) => { if (!asJson) process.stderr.write(`drill: ${line}\n`); };

/** Runs the child until `stopWhen(event, acks)` says so, then SIGKILLs it. */
function crashRun(dir, args, stopWhen) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, '--dir', dir, '--store', store, ...args], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = [];
    let point = null;
    let buffer = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const event = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (event.event === 'ack') acked.push(event.key);
        if (event.event === 'crash-point') point = event;
        if (!killed && stopWhen(event, acked.length)) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ acked, point, code, signal, stderr }));
  });
}

/** Reopens the store in a fresh process and returns its `recovered` event. */
async function verify(dir, count) {
  const out = await $`${process.execPath} --import tsx ${CHILD} --dir ${dir} --store ${store} --verify --count ${count}`.nothrow();
  const line = out.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'recovered');
  if (line === undefined) throw new Error(`verify process printed no result (exit ${out.exitCode}): ${out.stderr}`);
  return line;
}

const segments = (dir) => fs.readdirSync(path.join(dir, 'wal')).filter((n) => n.startsWith('wal-'));
const quarantine = (dir) => (fs.existsSync(path.join(dir, 'wal', 'quarantine')) ? fs.readdirSync(path.join(dir, 'wal', 'quarantine')) : []);

/** A point scenario: stop at `point` on the command with lsn `lsn`; `durable` = whether that command must survive. */
function pointScenario(name, point, lsn, durable, extra = {}) {
  return {
    name, criterion: extra.criterion ?? '10.1',
    async run(dir) {
      const count = extra.count ?? 12;
      const args = ['--fsync', extra.fsync ?? 'always', '--count', String(count), '--crash-at', point, '--crash-lsn', String(lsn), ...(extra.args ?? [])];
      const crash = await crashRun(dir, args, (event) => event.event === 'crash-point');
      const facts = { acked: crash.acked.length, point: crash.point?.point ?? null, signal: crash.signal };
      const after = await verify(dir, count);
      const present = new Set(after.present);
      const problems = [];
      if (crash.point === null) problems.push(`the child never reached ${point} (exit ${crash.code}): ${crash.stderr.slice(-400)}`);
      const lost = crash.acked.filter((k) => !present.has(k));
      if (lost.length > 0) problems.push(`acknowledged writes lost: ${lost.join(',')}`);
      const unseen = (crash.point?.seen ?? []).filter((k) => !present.has(k));
      if (unseen.length > 0) problems.push(`values a reader saw before the kill are gone: ${unseen.join(',')}`);
      if (extra.key !== undefined) {
        if (durable && !present.has(extra.key)) problems.push(`${extra.key} was durable at ${point} but is missing`);
        if (!durable && present.has(extra.key)) problems.push(`${extra.key} was not durable at ${point} but is present`);
      }
      const again = await verify(dir, count);
      if ((again.recovery.damage ?? null) !== null) problems.push(`second reopen still reports ${again.recovery.damage.code}`);
      if (again.present.length !== after.present.length) problems.push('second reopen sees different keys');
      return { facts: { ...facts, present: after.present.length, damage: after.recovery?.damage?.code ?? null, quarantined: quarantine(dir).length, segments: segments(dir).length }, after, problems };
    },
  };
}

/** Kill at an arbitrary moment (no hook): after `acks` acknowledgements. */
function killScenario(name, fsync, writers, acks) {
  return {
    name, criterion: '10.1',
    async run(dir) {
      const count = 5000;
      const crash = await crashRun(dir, ['--fsync', fsync, '--count', String(count), '--writers', String(writers)], (event, n) => n >= acks);
      const after = await verify(dir, count);
      const present = new Set(after.present);
      const lost = crash.acked.filter((k) => !present.has(k));
      const problems = [];
      if (crash.signal !== 'SIGKILL') problems.push(`the child ended before the kill (exit ${crash.code})`);
      if (lost.length > 0) problems.push(`${lost.length} acknowledged writes lost, e.g. ${lost.slice(0, 5).join(',')}`);
      if (after.recovery.damage !== null && after.recovery.damage.code !== 'E_WAL_TORN') problems.push(`unexpected ${after.recovery.damage.code}`);
      return { facts: { acked: crash.acked.length, present: after.present.length, inflight_survived: after.present.length - crash.acked.length, damage: after.recovery?.damage?.code ?? null, reason: after.recovery.damage?.reason ?? null, cut_bytes: after.recovery.damage?.bytes ?? 0 }, after, problems };
    },
  };
}

/**
 * A clean run, then a byte flipped inside record 7 of 10: acknowledged records follow the
 * damage, so reopening must refuse with E_WAL_CORRUPT and move nothing. Then the operator's
 * `wal repair --truncate-at 7` cuts it: records 1..6 kept, 7..10 in quarantine, none applied.
 */
const corruptScenario = {
  name: 'corrupt-middle-record', criterion: '10.2',
  async run(dir) {
    const crash = await crashRun(dir, ['--fsync', 'always', '--count', '10'], () => false);
    const file = path.join(dir, 'wal', segments(dir)[0]);
    const bytes = fs.readFileSync(file);
    // Walk the frames to record 7 and flip a byte of its body.
    let at = 0;
    for (let i = 1; i < 7; i++) at += 8 + bytes.readUInt32BE(at);
    bytes[at + 20] ^= 0x40;
    fs.writeFileSync(file, bytes);
    const problems = [];
    if (crash.acked.length !== 10) problems.push(`clean run acknowledged ${crash.acked.length}/10`);
    const refused = await $`${process.execPath} --import tsx ${CHILD} --dir ${dir} --store ${store} --verify --count 10`.nothrow();
    // The child does not catch: the thrown CivicError and its code reach its stderr.
    const damage = /E_WAL_[A-Z]+/.exec(refused.stderr)?.[0] ?? null;
    if (refused.exitCode === 0 || damage !== 'E_WAL_CORRUPT') problems.push(`expected the reopen to refuse with E_WAL_CORRUPT, got exit ${refused.exitCode} ${damage ?? 'no code'}`);
    if (!fs.readFileSync(file).equals(bytes) || quarantine(dir).length !== 0) problems.push('the refused reopen moved or cut bytes');
    const repair = await $`${process.execPath} --import tsx ${path.join(here, 'node_main.ts')} wal repair ${dir} --truncate-at 7`.nothrow();
    if (repair.exitCode !== 0) problems.push(`wal repair --truncate-at 7 exited ${repair.exitCode}: ${repair.stderr}`);
    const after = await verify(dir, 10);
    if (after.present.join(',') !== 'k0,k1,k2,k3,k4,k5') problems.push(`expected k0..k5 kept and k6..k9 not applied, got ${after.present.join(',')}`);
    const q = quarantine(dir);
    const qBytes = q.reduce((n, f) => n + fs.statSync(path.join(dir, 'wal', 'quarantine', f)).size, 0);
    if (qBytes !== bytes.length - at) problems.push(`quarantine holds ${qBytes} bytes, expected ${bytes.length - at}`);
    return { facts: { damage, refused_exit: refused.exitCode, present: after.present.length, quarantined_bytes: qBytes, at }, after, problems };
  },
};

const CP = ['--checkpoint-every', '5', '--count', '22'];
const scenarios = [
  pointScenario('before-append', 'before-append', 6, false, { key: 'k5', criterion: '10.3' }),
  pointScenario('after-append', 'after-append', 6, true, { key: 'k5', criterion: '10.3' }),
  pointScenario('after-apply', 'after-apply', 6, true, { key: 'k5' }),
  pointScenario('mid-record', 'mid-record', 6, false, { key: 'k5', criterion: '10.2' }),
  killScenario('sigkill-group-64', 'group', 64, 1500),
  killScenario('sigkill-none-64', 'none', 64, 1500),
  corruptScenario,
  pointScenario('checkpoint-after-rotate', 'checkpoint:after-rotate', 11, true, { args: CP, count: 22 }),
  pointScenario('checkpoint-after-snapshot', 'checkpoint:after-snapshot', 10, true, { args: CP, count: 22 }),
  pointScenario('checkpoint-mid-drop', 'checkpoint:mid-drop', 10, true, { args: CP, count: 22 }),
  pointScenario('checkpoint-after-drop', 'checkpoint:after-drop', 10, true, { args: CP, count: 22 }),
].filter((s) => only === undefined || only.includes(s.name));

const results = [];
let i = 0;
async function worker() {
  while (i < scenarios.length) {
    const s = scenarios[i++];
    const dir = path.join(root, s.name);
    await fs.mkdir(dir, { recursive: true });
    const started = performance.now();
    let outcome;
    try {
      outcome = await s.run(dir);
    } catch (error) {
      outcome = { facts: {}, problems: [String(error?.stack ?? error)] };
    }
    const result = { name: s.name, criterion: s.criterion, pass: outcome.problems.length === 0, facts: outcome.facts, problems: outcome.problems, ms: Math.round(performance.now() - started) };
    results.push(result);
    progress(`${result.pass ? 'ok  ' : 'FAIL'} ${s.name.padEnd(26)} ${JSON.stringify(result.facts)}${result.pass ? '' : `\n      ${result.problems.join('\n      ')}`}`);
  }
}
await Promise.all([worker(), worker()]);
await fs.rm(root, { recursive: true, force: true });
results.sort((a, b) => scenarios.findIndex((s) => s.name === a.name) - scenarios.findIndex((s) => s.name === b.name));
const passed = results.filter((r) => r.pass).length;
if (asJson) process.stdout.write(`${JSON.stringify({ store, passed, failed: results.length - passed, results })}\n`);
else process.stdout.write(`${passed === results.length ? 'PASS' : 'FAIL'}: ${passed}/${results.length} scenarios (store ${store})\n`);
process.exitCode = passed === results.length ? 0 : 1;

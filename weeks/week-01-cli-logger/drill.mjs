#!/usr/bin/env node
// Week 1 failure drill: permission denied on the log path.
//
// A log already holds two records; its directory and file are then made read-only
// and an ordinary user tries to append. The drill passes when every attempt exits 5
// with error[E_PATH_PERMISSION], the existing log is byte-for-byte unchanged, and
// appending works again once the permissions are restored.
//
// Root ignores file modes, so when run as root the appends run as user `nobody`
// (uid 65534) through node_run_as.ts, which drops privileges after loading the code.
//
//   node weeks/week-01-cli-logger/drill.mjs          human report
//   node weeks/week-01-cli-logger/drill.mjs --json   one JSON document
import { fs, os, path } from 'zx';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx');
const asJson = process.argv.includes('--json');
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** Runs week 1's CLI; as `nobody` when `unprivileged` and we are root. */
function cli(args, { unprivileged = false } = {}) {
  const drop = unprivileged && isRoot;
  const entry = path.join(here, drop ? 'node_run_as.ts' : 'node_main.ts');
  const argv = ['--import', tsx, entry, ...(drop ? ['--uid', String(NOBODY), '--'] : []), ...args];
  const run = spawnSync(process.execPath, argv, { encoding: 'utf8' });
  return { code: run.status, stderr: run.stderr, stdout: run.stdout };
}

const progress = (line) => { if (!asJson) process.stderr.write(`drill: ${line}\n`); };
const steps = [];
function step(name, expected, got, pass) {
  steps.push({ name, expected, got, pass });
  progress(`${pass ? 'ok  ' : 'FAIL'} ${name} (expected ${expected}; got ${got})`);
}
const codeIn = (stderr) => /^error\[([A-Z0-9_]+)\]/m.exec(stderr)?.[1] ?? 'none';

// The directory must be reachable by `nobody`, so it is not made by mkdtemp (0700).
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-drill-'));
const log = path.join(dir, 'events.log');
try {
  progress(`workspace ${dir}${isRoot ? ' (running as root: appends run as nobody)' : ''}`);
  await fs.chmod(dir, 0o755);
  for (const msg of ['first record', 'second record']) cli(['log', 'append', '-f', log, msg]);
  const before = await fs.readFile(log);
  step('setup: the log holds two records', '2 lines', `${before.toString().split('\n').length - 1} lines`,
    before.toString().split('\n').length - 1 === 2);

  // 1. Lock the log down: no one but root may write the file or the directory.
  await fs.chmod(log, 0o444);
  await fs.chmod(dir, 0o555);

  // 2. Appending to the existing, read-only log.
  let run = cli(['log', 'append', '-f', log, 'must not land'], { unprivileged: true });
  step('append to a read-only log', 'exit 5 E_PATH_PERMISSION', `exit ${run.code} ${codeIn(run.stderr)}`,
    run.code === 5 && codeIn(run.stderr) === 'E_PATH_PERMISSION');

  // 3. Creating a new log in the read-only directory.
  run = cli(['log', 'append', '-f', path.join(dir, 'new.log'), 'must not land'], { unprivileged: true });
  step('create a log in a read-only directory', 'exit 5 E_PATH_PERMISSION', `exit ${run.code} ${codeIn(run.stderr)}`,
    run.code === 5 && codeIn(run.stderr) === 'E_PATH_PERMISSION');

  // 4. The error says what to do next.
  step('the error carries a hint', 'a hint: line', run.stderr.includes('hint: ') ? 'hint present' : 'no hint',
    run.stderr.includes('hint: '));

  // 5. Nothing was lost or changed, and no file appeared.
  const after = await fs.readFile(log);
  step('the existing log is unchanged', `${before.length} identical bytes`, `${after.length} bytes, ${before.equals(after) ? 'identical' : 'DIFFERENT'}`,
    before.equals(after));
  const created = await fs.pathExists(path.join(dir, 'new.log'));
  step('no new file was created', 'absent', created ? 'present' : 'absent', !created);

  // 6. Recovery: restore the permissions, the same append now lands.
  await fs.chmod(dir, 0o777);
  await fs.chmod(log, 0o666);
  run = cli(['log', 'append', '-f', log, 'after the fix'], { unprivileged: true });
  const lines = (await fs.readFile(log, 'utf8')).split('\n').length - 1;
  step('after restoring permissions the append lands', 'exit 0, 3 records', `exit ${run.code}, ${lines} records`,
    run.code === 0 && lines === 3);
} finally {
  await fs.chmod(dir, 0o755).catch(() => {});
  await fs.remove(dir);
}

const pass = steps.every((s) => s.pass);
if (asJson) {
  process.stdout.write(`${JSON.stringify({ drill: 'week-01 permission denied on the log path', user: isRoot ? 'nobody (dropped from root)' : 'self', pass, steps }, null, 2)}\n`);
} else {
  process.stdout.write(`${pass ? 'PASS' : 'FAIL'}: permission denied on the log path (${steps.filter((s) => s.pass).length}/${steps.length} steps)\n`);
}
process.exitCode = pass ? 0 : 1;

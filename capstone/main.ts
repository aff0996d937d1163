/**
 * `npm start`: the main job of CivicTrust, as far as the course has built it.
 *
 * Today (months 1 and 2) that is, first, the evidence trail every later component
 * writes to: several `civictrust` processes append to one record log at once, the log
 * is read back and searched, and bad requests are refused with their documented exit
 * statuses. Then the server: the multi-client frame server starts with its `/healthz`
 * endpoint, clients echo through it, a probe's request id is found in the server's
 * log, and SIGTERM drains it. Then the signed node: a key is generated, the node
 * accepts a signed request, refuses its replay and a tampered copy, and drains. Each
 * step runs the real CLI as a child process and checks what it printed; the job exits
 * non-zero if anything differs from the contract.
 * @module
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../lib/errors.ts';

const BIN = fileURLToPath(new URL('./bin/civictrust.mjs', import.meta.url));

/** Runs the civictrust CLI and returns its exit status and output. */
function civictrust(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let failures = 0;
/** Prints one checked step. */
function check(what: string, ok: boolean, detail: string): void {
  if (!ok) failures += 1;
  process.stdout.write(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail === '' ? '' : ` — ${detail}`}\n`);
}

const dir = mkdtempSync(join(tmpdir(), 'civictrust-'));
const log = join(dir, 'events.log');
process.stdout.write(`CivicTrust main job (built so far: month 1: the record log, framing, the multi-client server, HTTP probes; month 2: the signed node under overload control)\nworkspace: ${dir}\n\n`);

process.stdout.write('1. Four services append to one log at the same time\n');
const services = ['registry', 'issuer', 'witness', 'verifier'];
const perService = 5;
const appends = await Promise.all(services.flatMap((service) =>
  Array.from({ length: perService }, (_, i) =>
    civictrust(['log', 'append', '-f', log, '--sync', '--request-id', `req-${i}`, '--field', `service=${service}`, `${service} step ${i}`]))));
check(`${appends.length} concurrent appends, each fsynced`, appends.every((r) => r.code === EXIT.ok), `${appends.filter((r) => r.code === EXIT.ok).length} acknowledged`);

process.stdout.write('\n2. Read the log back\n');
const read = await civictrust(['log', 'read', '-f', log, '--json']);
const lines = read.stdout.split('\n').filter(Boolean);
check('every acknowledged record is there, whole', read.code === EXIT.ok && lines.length === appends.length, `${lines.length} records, ${readFileSync(log).length} bytes`);
process.stdout.write((await civictrust(['log', 'read', '-f', log, '--limit', '3'])).stdout.replace(/^(?=.)/gm, '     '));

process.stdout.write('\n3. Follow one request across the services\n');
const search = await civictrust(['log', 'search', '-f', log, '--request-id', 'req-2']);
check('search by request id finds one record per service', search.stdout.split('\n').filter(Boolean).length === services.length, '');
process.stdout.write(search.stdout.replace(/^(?=.)/gm, '     '));

process.stdout.write('\n4. Bad requests are refused with their documented exit status\n');
const tooBig = await civictrust(['log', 'append', '-f', log, '--max-bytes', '128', 'x'.repeat(200)]);
check('an oversize record exits 3 (data) with E_RECORD_TOO_LARGE', tooBig.code === EXIT.data && tooBig.stderr.includes('E_RECORD_TOO_LARGE'), tooBig.stderr.split('\n')[0] ?? '');
const missing = await civictrust(['log', 'append', '-f', join(dir, 'no', 'such', 'dir.log'), 'hi']);
check('a missing directory exits 4 (not found) with E_PATH_NOT_FOUND', missing.code === EXIT.notFound && missing.stderr.includes('E_PATH_NOT_FOUND'), missing.stderr.split('\n')[0] ?? '');
const after = (await civictrust(['log', 'read', '-f', log, '--json'])).stdout.split('\n').filter(Boolean).length;
check('the refused requests left the log as it was', after === appends.length, `${after} records`);

process.stdout.write('\n5. The frame server with /healthz: echo through it, probe it, follow the probe into its log\n');
const serverLog = join(dir, 'server.log');
const server: ChildProcessWithoutNullStreams = spawn(process.execPath,
  [BIN, 'server', 'run', '--port', '0', '--health-port', '0', '--log', serverLog, '--json'], { stdio: 'pipe' });
try {
  const ready = await new Promise<{ port: number; health: string }>((resolve, reject) => {
    server.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as { port: number; health: string }));
    server.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
  });
  check('the server is listening', true, `data port ${ready.port}, ${ready.health}`);
  const echoes = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    civictrust(['echo', 'send', '--port', String(ready.port), '--request-id', `echo-${i}`, '--log', join(dir, 'clients.log'), `hello ${i}`])));
  check('8 concurrent clients get their own message back', echoes.every((r, i) => r.code === EXIT.ok && r.stdout.includes(`hello ${i}`)), '');
  const probe = await civictrust(['http', 'get', ready.health, '--request-id', 'main-probe-1']);
  check('GET /healthz answers 200 with the server\'s live stats', probe.code === EXIT.ok && probe.stdout.includes('"status":"ok"'), probe.stdout.split('\n').at(-2) ?? '');
  server.kill('SIGTERM');
  const exit = await new Promise<number | null>((resolve) => server.once('exit', resolve));
  check('SIGTERM drains the server and it exits 0', exit === 0, '');
  const traced = readFileSync(serverLog, 'utf8').split('\n').filter((line) => line.includes('"request_id":"main-probe-1"'));
  check('the probe\'s request id is in the server\'s log', traced.length === 1, traced[0]?.slice(0, 120) ?? 'not found');
} finally {
  server.kill('SIGKILL');
}

process.stdout.write('\n6. The signed node (month 2): keys, one signed request, its replay, a tampered copy, a drain\n');
const keys = join(dir, 'keys');
const gen = await civictrust(['key', 'gen', 'clerk', '--dir', keys]);
const keyMode = gen.code === EXIT.ok ? (statSync(join(keys, 'clerk-v1.key')).mode & 0o777).toString(8) : 'none';
check('civictrust key gen writes a 0600 private key file', gen.code === EXIT.ok && keyMode === '600', `${gen.stdout.trim()}, mode ${keyMode}`);
const nodeLog = join(dir, 'node.log');
const node: ChildProcessWithoutNullStreams = spawn(process.execPath,
  [BIN, 'node', 'run', '--keys', keys, '--port', '0', '--health-port', '0', '--log', nodeLog, '--json'], { stdio: 'pipe' });
try {
  const ready = await new Promise<{ port: number; metrics: string; keys: string[] }>((resolve, reject) => {
    node.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString().split('\n')[0] ?? '') as { port: number; metrics: string; keys: string[] }));
    node.once('exit', (code) => reject(new Error(`the node exited with ${code} before listening`)));
  });
  check('the node is listening, trusting the key ring', ready.keys.includes('clerk-v1'), `task port ${ready.port}, ${ready.metrics}`);
  const send = (...extra: string[]) => civictrust(['node', 'send', '--keys', keys, '--key', 'clerk', '--port', String(ready.port), '--json', ...extra]);
  const answers = (run: { stdout: string }) => run.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { ok: boolean; error_code?: string; body_hex?: string });
  const first = await send('--request-id', 'main-signed-1', '--repeat', '2', 'permit 42');
  const [accepted, replayed] = answers(first);
  check('a signed request is accepted and answered', accepted?.ok === true && accepted.body_hex?.length === 64, first.stdout.split('\n')[0] ?? '');
  check('the same signed bytes sent again are refused with E_REPLAY', replayed?.error_code === 'E_REPLAY' && first.stderr.startsWith('error[E_REPLAY]'), first.stdout.split('\n')[1] ?? '');
  const tampered = await send('--request-id', 'main-signed-2', '--tamper', 'payload', 'permit 43');
  check('a copy whose payload changed after signing is refused with E_SIG_INVALID', answers(tampered)[0]?.error_code === 'E_SIG_INVALID' && tampered.code === EXIT.integrity, tampered.stderr.split('\n')[0] ?? '');
  node.kill('SIGTERM');
  const exit = await new Promise<number | null>((resolve) => node.once('exit', resolve));
  check('SIGTERM drains the node and it exits 0', exit === 0, '');
  const refusals = readFileSync(nodeLog, 'utf8').split('\n').filter((line) => line.includes('"msg":"request answered"') && line.includes('"error_code"'));
  check('each refusal is in the node\'s log with its request id and code', refusals.length === 2, refusals[0]?.slice(0, 140) ?? 'not found');
} finally {
  node.kill('SIGKILL');
}

process.stdout.write(`\n${failures === 0 ? 'PASS' : 'FAIL'}: main job (${failures} failure(s)). Inspect the log with:\n  node capstone/bin/civictrust.mjs log read -f ${log}\n`);
process.exitCode = failures === 0 ? 0 : 1;

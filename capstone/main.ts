/**
 * `npm start`: the main job of CivicTrust, as far as the course has built it.
 *
 * Today (months 1 to 3) that is, first, the evidence trail every later component
 * writes to: several `civictrust` processes append to one record log at once, the log
 * is read back and searched, and bad requests are refused with their documented exit
 * statuses. Then the server: the multi-client frame server starts with its `/healthz`
 * endpoint, clients echo through it, a probe's request id is found in the server's
 * log, and SIGTERM drains it. Then the signed node: a key is generated, the node
 * accepts a signed request, refuses its replay and a tampered copy, and drains. Then
 * the replicated cluster: three replica processes elect a leader, a signed document is
 * written through the cluster client, the leader is killed with SIGKILL, a second
 * document is written through the new leader, both are read back, the surviving nodes'
 * state hashes agree, and SIGTERM drains the cluster. Each step runs the real CLI as a
 * child process and checks what it printed; the job exits non-zero if anything differs
 * from the contract.
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
process.stdout.write(`CivicTrust main job (built so far: month 1: the record log, framing, the multi-client server, HTTP probes; month 2: the signed node under overload control; month 3: the replicated KV cluster with failover)\nworkspace: ${dir}\n\n`);

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

process.stdout.write('\n7. The replicated cluster (month 3): three replicas, a signed document, the leader SIGKILLed, failover, read back, drain\n');
const clusterDir = join(dir, 'cluster');
const config = join(clusterDir, 'cluster.json');
const launcher: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'cluster', 'start', '--dir', clusterDir, '--json'], { stdio: 'pipe' });
try {
  const started = await new Promise<{ leader: string; nodes: { id: string; client: string }[] }>((resolve, reject) => {
    let out = '';
    launcher.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0] ?? '') as { leader: string; nodes: { id: string; client: string }[] });
    });
    launcher.once('exit', (code) => reject(new Error(`the cluster launcher exited with ${code} before a leader was elected`)));
  });
  check('three replica processes elect a leader', started.nodes.length === 3, `leader ${started.leader}; ${started.nodes.map((n) => `${n.id} ${n.client}`).join(', ')}`);
  type Put = { reply: { ok: boolean; node: string; version: number; term: number } | null; trace: unknown[] };
  /** Puts until answered: a client that gives up (exit 7, an election still running) is run again with the SAME request id. */
  const put = async (key: string, value: string) => {
    for (let send = 1; ; send += 1) {
      const run = await civictrust(['cluster', 'put', key, value, '--config', config, '--request-id', `main-${key}`, '--json']);
      if (run.code !== EXIT.unavailable || send === 3) return { code: run.code, sends: send, result: (run.stdout === '' ? { reply: null, trace: [] } : JSON.parse(run.stdout)) as Put };
    }
  };
  const permit = (n: number) => JSON.stringify({ type: 'permit', id: `permit-${n}`, holder: 'A. Clerk', issued_by: 'registry' });
  const first = await put('permit-1', permit(1));
  // The leader that acknowledged it: on a busy machine an election may have moved leadership since the launcher printed.
  const leader = first.result.reply?.node ?? started.leader;
  check('a signed put of a document is acknowledged by the leader', first.code === EXIT.ok && first.result.reply?.ok === true,
    `by ${leader}: version ${first.result.reply?.version}, term ${first.result.reply?.term}, ${first.result.trace.length} attempt(s)`);
  const killed = await civictrust(['cluster', 'kill', leader, '--config', config]);
  check(`cluster kill ${leader} sends SIGKILL to the leader`, killed.code === EXIT.ok, killed.stdout.trim());
  const second = await put('permit-2', permit(2));
  check('the next put is acknowledged by a new leader (the client follows hints, same request id)',
    second.code === EXIT.ok && second.result.reply !== null && second.result.reply.node !== leader,
    `by ${second.result.reply?.node} in term ${second.result.reply?.term} after ${second.result.trace.length} attempt(s)${second.sends > 1 ? ` of send ${second.sends}` : ''}`);
  const reads = await Promise.all([1, 2].map((n) => civictrust(['cluster', 'get', `permit-${n}`, '--config', config])));
  check('both documents read back through the log, byte for byte', reads.every((r, i) => r.code === EXIT.ok && r.stdout === `${permit(i + 1)}\n`), reads.map((r) => r.stdout.trim().slice(0, 40)).join(' | '));
  type Status = { nodes: { id: string; status: { applied_index: number; state_hash: string } | null }[]; divergent: string[] };
  let live: Status['nodes'] = [];
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const status = await civictrust(['cluster', 'status', '--config', config, '--json']);
    live = (JSON.parse(status.stdout) as Status).nodes.filter((n) => n.status !== null);
    if (live.length === 2 && live.every((n) => n.status?.state_hash === live[0]?.status?.state_hash)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  check('the two surviving nodes report the same state hash', live.length === 2 && live.every((n) => n.status?.state_hash === live[0]?.status?.state_hash),
    live.map((n) => `${n.id} ${n.status?.state_hash.slice(0, 12)}@${n.status?.applied_index}`).join(', '));
  launcher.kill('SIGTERM');
  const exit = await new Promise<number | null>((resolve) => launcher.once('exit', resolve));
  check('SIGTERM drains the cluster and the launcher exits 0', exit === 0, '');
} finally {
  // The nodes run in their own process group: only the launcher can stop them, so it gets SIGTERM, not SIGKILL.
  if (launcher.exitCode === null && launcher.signalCode === null) {
    const gone = new Promise((resolve) => launcher.once('exit', resolve));
    launcher.kill('SIGTERM');
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    launcher.kill('SIGKILL');
  }
}

process.stdout.write(`\n${failures === 0 ? 'PASS' : 'FAIL'}: main job (${failures} failure(s)). Inspect the log with:\n  node capstone/bin/civictrust.mjs log read -f ${log}\n`);
process.exitCode = failures === 0 ? 0 : 1;

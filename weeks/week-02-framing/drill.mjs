#!/usr/bin/env node
// Week 2 failure drill: clients that hang up in the middle of a frame.
//
// A real `civictrust echo serve` process runs with its log in a file. One client
// keeps a connection open and echoes on it before and after. Three other clients
// break off mid-frame: one sends a header announcing 1000 bytes, 100 of them and a
// FIN; one sends 2 of the 4 header bytes and a FIN; one is a separate process that
// sends half a frame and is then SIGKILLed. The drill passes when the server is still
// running, the long-lived connection and a fresh `echo send` process still get their
// echoes, the log holds one `E_FRAME_TRUNCATED` record per broken client with its
// reason, and SIGTERM still ends the server cleanly (exit 0).
//
//   node weeks/week-02-framing/drill.mjs                 human report on stderr, verdict on stdout
//   node weeks/week-02-framing/drill.mjs --json          one JSON document
//   node weeks/week-02-framing/drill.mjs --server FILE   drill another server (a .mjs that
//                                                        prints "listening HOST:PORT"), e.g.
//                                                        testdata/naive_echo_server.mjs
import { fs, os, path } from 'zx';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const main = path.join(here, 'node_main.ts');
const asJson = process.argv.includes('--json');
const serverFlag = process.argv.indexOf('--server');
const otherServer = serverFlag === -1 ? undefined : path.resolve(process.argv[serverFlag + 1]);

const progress = (line) => { if (!asJson) process.stderr.write(`drill: ${line}\n`); };
const steps = [];
function step(name, expected, got, pass) {
  steps.push({ name, expected, got, pass });
  progress(`${pass ? 'ok  ' : 'FAIL'} ${name} (expected ${expected}; got ${got})`);
}

/** One framed echo request: 4-byte length, JSON header line, body. */
function requestFrame(requestId, body) {
  const payload = Buffer.concat([Buffer.from(`${JSON.stringify({ v: 1, type: 'echo', request_id: requestId })}\n`), Buffer.from(body)]);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/** Opens a raw TCP connection; resolves once connected. */
function open(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.off('error', reject).on('error', () => {}); // later errors show up as a closed socket
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends one request on `socket` and resolves with the reply payload as text (or the error). */
function echoOn(socket, requestId, body) {
  if (socket.destroyed) return Promise.resolve('connection closed');
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => done('no reply within 5 s'), 5000);
    const onData = (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) done(got.subarray(4, 4 + got.readUInt32BE(0)).toString());
    };
    const onGone = () => done('connection closed');
    function done(result) {
      clearTimeout(timer);
      socket.off('data', onData).off('close', onGone).off('error', onGone);
      resolve(result);
    }
    socket.on('data', onData).once('close', onGone).once('error', onGone);
    socket.write(requestFrame(requestId, body));
  });
}

/** Resolves when the server has closed the socket (or after `ms`). */
function closedBy(socket, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.on('error', () => {});
    socket.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}

/** Waits. */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A timeout for races: it does not keep the process alive once the race is won. */
const deadline = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Runs one step's action; a thrown error fails that step and the drill goes on. */
async function guarded(name, expected, action) {
  try {
    await action();
  } catch (error) {
    step(name, expected, String(error?.message ?? error).split('\n')[0], false);
  }
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'civictrust-drill2-'));
const log = path.join(dir, 'server.log');
const serverArgv = otherServer === undefined
  ? ['--import', tsx, main, 'echo', 'serve', '--port', '0', '--log', log, '--node-id', 'drill-server']
  : [otherServer];
const server = spawn(process.execPath, serverArgv, { stdio: ['ignore', 'pipe', 'pipe'] });
let serverErr = '';
server.stderr.on('data', (d) => (serverErr += d));
const serverExit = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
const sockets = [];
let killed;
try {
  // 0. Start the server and read the port it prints.
  const port = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /^listening [^\s]+:(\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    serverExit.then(() => reject(new Error(`server exited before listening: ${serverErr}`)));
    setTimeout(() => reject(new Error('server silent for 15 s')), 15_000).unref();
  });
  progress(`server pid ${server.pid} on port ${port}${otherServer ? ` (${path.basename(otherServer)})` : ''}, log ${log}`);

  // 1. A well-behaved client keeps one connection open through the whole drill.
  const steady = await open(port);
  sockets.push(steady);
  let reply = await echoOn(steady, 'drill-steady-1', 'before');
  step('a steady client gets its echo', 'echo_reply "before"', reply.replace('\n', ' '), reply.includes('"echo_reply"') && reply.endsWith('before'));

  // 2. Header announces 1000 bytes, 100 arrive, then FIN.
  await guarded('a client that hangs up after 100 of 1000 bytes is closed', 'closed', async () => {
    const half = await open(port);
    sockets.push(half);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1000);
    half.end(Buffer.concat([header, Buffer.alloc(100, 0x61)]));
    const closed = await closedBy(half, 5000);
    step('a client that hangs up after 100 of 1000 bytes is closed', 'closed', closed ? 'closed' : 'still open', closed);
  });

  // 3. Half a header, then FIN.
  await guarded('a client that hangs up after 2 of 4 header bytes is closed', 'closed', async () => {
    const short = await open(port);
    sockets.push(short);
    short.end(Buffer.from([0x00, 0x00]));
    const closed = await closedBy(short, 5000);
    step('a client that hangs up after 2 of 4 header bytes is closed', 'closed', closed ? 'closed' : 'still open', closed);
  });

  // 4. A separate client process sends half a frame and is SIGKILLed.
  killed = spawn(process.execPath, [path.join(here, 'testdata', 'half_frame_client.mjs'), String(port), '1000', '100'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const killedExit = new Promise((resolve) => killed.on('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  await Promise.race([new Promise((resolve) => killed.stdout.once('data', resolve)), killedExit, deadline(5000)]);
  killed.kill('SIGKILL');
  const how = await killedExit;
  step('a client process is killed after sending half a frame', 'SIGKILL', String(how), how === 'SIGKILL');

  // 5. The server is still there for everyone else.
  await sleep(300);
  step('the server process is still running', 'alive', alive(server.pid) ? 'alive' : 'gone', alive(server.pid));
  if (!alive(server.pid)) progress(`server died with: ${/^\w*Error.*$/m.exec(serverErr)?.[0] ?? serverErr.trim().split('\n')[0]}`);
  reply = await echoOn(steady, 'drill-steady-2', 'after');
  step('the steady connection still gets echoes', 'echo_reply "after"', reply.replace('\n', ' '), reply.includes('"echo_reply"') && reply.endsWith('after'));
  const fresh = spawnSync(process.execPath, ['--import', tsx, main, 'echo', 'send', '--port', String(port), '--attempts', '1', '--log', path.join(dir, 'client.log'), 'new client'], { encoding: 'utf8' });
  step('a new client process gets its echo', 'exit 0 "new client"', `exit ${fresh.status} ${JSON.stringify(fresh.stdout.trim())}`, fresh.status === 0 && fresh.stdout.trim() === 'new client');

  // 6. The log names each failure with a stable code and a reason.
  let records = [];
  for (let i = 0; i < 25; i += 1) { // records are appended asynchronously: give them a moment
    records = (await fs.pathExists(log) ? await fs.readFile(log, 'utf8') : '').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    if (records.filter((r) => r.error_code === 'E_FRAME_TRUNCATED').length >= 3 || !alive(server.pid)) break;
    await sleep(100);
  }
  const truncated = records.filter((r) => r.msg === 'connection closed' && r.error_code === 'E_FRAME_TRUNCATED');
  const reasons = truncated.map((r) => r.reason).sort();
  step('each mid-frame hang-up is logged with E_FRAME_TRUNCATED', '3 records', `${truncated.length} records: ${reasons.join(', ') || 'none'}`, truncated.length === 3);
  step('each record gives a mid-frame reason', 'peer_closed_mid_frame or peer_reset_mid_frame',
    reasons.join(', ') || 'none', reasons.length === 3 && reasons.every((r) => r === 'peer_closed_mid_frame' || r === 'peer_reset_mid_frame'));
  const bad = records.filter((r) => r.level === 'error');
  step('the log has records and none at error level', 'records, 0 errors', `${records.length} records, ${bad.length} errors`, records.length > 0 && bad.length === 0);

  // 7. And it still shuts down cleanly.
  for (const socket of sockets) socket.destroy();
  server.kill('SIGTERM');
  const exit = await Promise.race([serverExit, deadline(10_000).then(() => ({ code: 'timeout' }))]);
  step('SIGTERM ends the server with exit 0', 'exit 0', `exit ${exit.code ?? exit.signal}`, exit.code === 0);
} catch (error) {
  step('the drill ran to the end', 'no exception', String(error?.message ?? error).split('\n')[0], false);
} finally {
  for (const socket of sockets) socket.destroy();
  if (killed && killed.exitCode === null && killed.signalCode === null) killed.kill('SIGKILL');
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  await fs.remove(dir);
}

const pass = steps.length > 0 && steps.every((s) => s.pass);
const title = `week-02 client hangs up mid-frame${otherServer ? ` (server: ${path.basename(otherServer)})` : ''}`;
if (asJson) {
  process.stdout.write(`${JSON.stringify({ drill: title, pass, steps }, null, 2)}\n`);
} else {
  process.stdout.write(`${pass ? 'PASS' : 'FAIL'}: ${title} (${steps.filter((s) => s.pass).length}/${steps.length} steps)\n`);
}
process.exitCode = pass ? 0 : 1;

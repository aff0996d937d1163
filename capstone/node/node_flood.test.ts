/**
 * Bounded memory on the signed node: a `node run` process sent thousands of signed
 * `fill` tasks (a few hundred bytes in, 60 KiB out) over one connection that never reads
 * must keep its RSS within 64 MiB of idle, because week 6's server stops reading a client
 * whose answers are queued past its watermark; and it must still answer a polite client.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { FrameDecoder } from '../../lib/framing.ts';
import { floodUnread } from '../../lib/kv.ts';
import { NODE_BACKEND, generateKey, loadSigner, type Signer } from '../../lib/signing.ts';
import { signTask } from './signed_task.ts';

const BOUND_KIB = 64 * 1024;
const TASKS = 6000;
const FILL_BYTES = 60 * 1024;

describe('the signed node under a flood of unread pipelined tasks', () => {
  const cli = fileURLToPath(new URL('../bin/civictrust.mjs', import.meta.url));
  let dir: string;
  let child: ChildProcess;
  let port: number;
  let pid: number;
  let signer: Signer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'node-flood-'));
    const keys = join(dir, 'keys');
    generateKey(keys, 'writer', { clock: systemClock });
    signer = await loadSigner(keys, 'writer', NODE_BACKEND, systemClock);
    child = spawn(process.execPath, [cli, 'node', 'run', '--keys', keys, '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.includes('"listening"'));
        if (line === undefined) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { port: number; pid: number });
      });
    });
    ({ port, pid } = ready);
  }, 60_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const task = async (requestId: string): Promise<Uint8Array> =>
    (await signTask({ requestId, task: 'fill', arg: FILL_BYTES, priority: 'high', timeoutMs: 60_000, body: new Uint8Array(0) }, signer, { clock: systemClock })).frame;

  /** Sends one frame on a fresh connection and resolves with the first answer frame's size. */
  const ask = (frame: Uint8Array): Promise<number> => new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(frame));
    const decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
    socket.on('data', (chunk: Uint8Array) => {
      const [answer] = decoder.push(chunk);
      if (answer === undefined) return;
      socket.destroy();
      resolve(answer.length);
    });
    socket.on('error', reject);
  });

  it('keeps its RSS within 64 MiB of idle and answers a polite client afterwards', async () => {
    expect(await ask(await task('warm-up'))).toBeGreaterThan(FILL_BYTES);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < TASKS; i += 1) frames.push(await task(`flood-${i}`));
    const totalBytes = frames.reduce((sum, f) => sum + f.length, 0);
    const flood = await floodUnread({ port, pid, totalBytes, request: (i) => frames[i] as Uint8Array, settleMs: 4000 });
    try {
      const grownKiB = flood.peakKiB - flood.baselineKiB;
      expect(grownKiB, `RSS ${flood.baselineKiB} → ${flood.peakKiB} KiB after ${flood.sentRequests} tasks`).toBeLessThan(BOUND_KIB);
      expect(await ask(await task('polite'))).toBeGreaterThan(FILL_BYTES);
    } finally {
      flood.socket.destroy();
    }
  }, 120_000);
});


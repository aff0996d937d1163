/**
 * Bounded memory: a `kv serve` process flooded with signed 30 KiB puts over a connection
 * that never reads an answer must stop reading instead of holding every request, and
 * must still answer a polite client afterwards. Outside testing found the server grew
 * from 95 to 557 MiB this way.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { encodeFrame, startServerProcess, type ServerProcess } from '../../lib/framing.ts';
import { NODE_BACKEND, encodeSignedMessage, generateKey, loadSigner, signEnvelope, type Signer } from '../../lib/signing.ts';
import { floodUnread } from './node_flood.ts';
import { sendKvFrame } from './node_kv_server.ts';
import { KV_MSG_TYPE, MAX_KV_FRAME_BYTES, kvPayload } from './protocol.ts';

/** The stated bound: the server may grow by at most this much over its idle RSS. */
const BOUND_KIB = 64 * 1024;
/** The flood: 160 MiB of puts, several times the bound. */
const FLOOD_BYTES = 160 * 1024 * 1024;

describe('kv serve under a flood of unread pipelined requests', () => {
  const entry = fileURLToPath(new URL('./node_main.ts', import.meta.url));
  let dir: string;
  let server: ServerProcess;
  let signer: Signer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kv-flood-'));
    const keys = join(dir, 'keys');
    generateKey(keys, 'writer', { clock: systemClock });
    signer = await loadSigner(keys, 'writer', NODE_BACKEND, systemClock);
    server = await startServerProcess(['kv', 'serve', '--keys', keys], { entry });
  });
  afterAll(async () => {
    await server.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const put = async (requestId: string, value: string): Promise<Uint8Array> => {
    const payload = kvPayload({ op: 'put', request_id: requestId, key: 'flood', value });
    const envelope = await signEnvelope({ msgType: KV_MSG_TYPE, requestId, payload }, signer, { clock: systemClock });
    return encodeSignedMessage(envelope, payload);
  };

  it('keeps its RSS within 64 MiB of idle and answers a polite client afterwards', async () => {
    expect(await sendKvFrame(server.port, await put('warm-up', 'a'))).toMatchObject({ ok: true });
    const value = 'v'.repeat(30 * 1024);
    const flood = await floodUnread({
      port: server.port,
      pid: server.pid,
      totalBytes: FLOOD_BYTES,
      request: async (i) => encodeFrame(await put(`flood-${i}`, value), MAX_KV_FRAME_BYTES),
    });
    try {
      const grownKiB = flood.peakKiB - flood.baselineKiB;
      expect(grownKiB, `RSS ${flood.baselineKiB} → ${flood.peakKiB} KiB after ${flood.sentBytes} bytes`).toBeLessThan(BOUND_KIB);
      expect(flood.stalled).toBe(true); // the server stopped reading; TCP held the client back
      const polite = await sendKvFrame(server.port, await put('polite', 'b'));
      expect(polite).toMatchObject({ ok: true });
    } finally {
      flood.socket.destroy();
    }
  }, 120_000);
});

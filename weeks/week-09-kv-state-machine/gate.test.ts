/**
 * Week 9's gate: one or more tests per criterion of the gate table's week 9 row, each
 * named `[9.k] <claim>`, with negative controls that show the check can fail.
 * @module
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { errorCodeOf, runCliProcess, thrownCode } from '../../lib/testing.ts';
import {
  EnvelopeVerifier, KeyRing, NODE_BACKEND, NonceCache, encodeSignedMessage, formatKeyId, generateKey, makeKeyRecord, signEnvelopeSync, type SyncSigner,
} from '../../lib/signing.ts';
import type { KvCommand, KvPutResult, KvRequest } from './command.ts';
import { writeSnapshot, loadNewestSnapshot } from './node_snapshot_dir.ts';
import { KvServer, sendKvFrame } from './node_kv_server.ts';
import { KV_MSG_TYPE, kvPayload } from './protocol.ts';
import { decodeCrcRecord, encodeCrcRecord, isRecordDamage } from './record.ts';
import { KvStateMachine, readSnapshotHeader } from './state_machine.ts';
import { canonicalBytes } from '../../lib/hashing.ts';
import { MemoryKvStore } from './store.ts';
import { fileURLToPath } from 'node:url';
import { startServerProcess, type ServerProcess } from '../../lib/framing.ts';

function signerFixture(fill: number): { signer: SyncSigner; record: ReturnType<typeof makeKeyRecord> } {
  const secret = NODE_BACKEND.importSeed(new Uint8Array(32).fill(fill));
  const keyId = formatKeyId(`writer-${fill}`, 1);
  return { signer: { keyId, backend: NODE_BACKEND, secret }, record: makeKeyRecord(keyId, secret.publicKey, Date.now() - 60_000) };
}

const trusted = signerFixture(1);
const stranger = signerFixture(2);

function signed(command: KvCommand, signer: SyncSigner = trusted.signer): Uint8Array {
  const payload = kvPayload(command);
  const envelope = signEnvelopeSync({ msgType: KV_MSG_TYPE, requestId: command.request_id, payload }, signer, { clock: systemClock });
  return encodeSignedMessage(envelope, payload);
}

function unsigned(request: KvRequest): Uint8Array {
  return kvPayload(request);
}

describe('week-09 · KV state machine', () => {
  let server: KvServer;
  let store: MemoryKvStore;
  beforeAll(async () => {
    store = new MemoryKvStore();
    const verifier = new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [trusted.record]), replay: new NonceCache(), clock: systemClock });
    server = await KvServer.start({ store, verifier });
  });
  afterAll(async () => server.close());

  // #region gate-dedupe
  it('[9.1] a put repeated under its request id changes the state and the version once', () => {
    const machine = new KvStateMachine();
    const put: KvCommand = { op: 'put', request_id: 'req-1', key: 'ballot', value: 'yes' };
    const first = machine.apply(put, { term: 1, lsn: 1 });
    const before = machine.snapshot();
    const again = machine.apply(put, { term: 1, lsn: 2 });
    expect(again).toEqual(first);
    expect(machine.get('ballot')?.version).toBe(1);
    // Only the position moved: the keys and the dedupe table are byte-identical.
    expect(KvStateMachine.restore(machine.snapshot()).get('ballot')).toEqual(KvStateMachine.restore(before).get('ballot'));
  });
  // #endregion gate-dedupe

  it('[9.1] concurrent clients retrying one signed put over sockets apply it once', async () => {
    const put: KvCommand = { op: 'put', request_id: 'race-1', key: 'race', value: 'v' };
    // Each retry is a fresh envelope (fresh nonce): the signature layer accepts all, dedupe must catch them.
    const replies = await Promise.all(Array.from({ length: 16 }, () => sendKvFrame(server.port, signed(put))));
    expect(new Set(replies.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(store.get('race')).toMatchObject({ ok: true, version: 1 });
  });

  it('[9.1] negative control: the same put under fresh request ids raises the version each time', () => {
    const machine = new KvStateMachine();
    for (let i = 1; i <= 3; i++) machine.apply({ op: 'put', request_id: `fresh-${i}`, key: 'k', value: 'v' }, { term: 1, lsn: i });
    expect(machine.get('k')?.version).toBe(3);
  });

  it('[9.1] a request id reused for another command is refused and changes nothing', () => {
    const machine = new KvStateMachine();
    machine.apply({ op: 'put', request_id: 'r', key: 'a', value: '1' }, { term: 1, lsn: 1 });
    const reuse = machine.apply({ op: 'put', request_id: 'r', key: 'a', value: '2' }, { term: 1, lsn: 2 });
    expect(reuse).toMatchObject({ ok: false, code: 'E_KV_REQUEST_ID_REUSED' });
    expect(machine.get('a')).toMatchObject({ value: '1', version: 1 });
  });

  it('[9.2] every successful write raises the key version by exactly one, deletes included', async () => {
    const ops: KvCommand[] = [
      { op: 'put', request_id: 'v-1', key: 'seq', value: 'a' },
      { op: 'put', request_id: 'v-2', key: 'seq', value: 'b' },
      { op: 'delete', request_id: 'v-3', key: 'seq' },
      { op: 'delete', request_id: 'v-4', key: 'seq' }, // fails: nothing to delete, no version change
      { op: 'put', request_id: 'v-5', key: 'seq', value: 'c', if_version: 1 }, // fails: stale compare-and-set
      { op: 'put', request_id: 'v-6', key: 'seq', value: 'd', if_version: 3 },
    ];
    const versions: number[] = [];
    for (const op of ops) {
      const reply = await sendKvFrame(server.port, signed(op));
      versions.push((reply as { version: number }).version);
    }
    expect(versions).toEqual([1, 2, 3, 3, 3, 4]);
    expect(store.get('seq')).toMatchObject({ ok: true, value: 'd', version: 4 });
  });

  it('[9.2] concurrent signed writers over sockets end at a version equal to their successful writes', async () => {
    const writes = Array.from({ length: 40 }, (_, i): KvCommand => ({ op: 'put', request_id: `w-${i}`, key: 'hot', value: `v${i}` }));
    const readers = Array.from({ length: 20 }, () => sendKvFrame(server.port, unsigned({ op: 'get', key: 'hot' })));
    const replies = await Promise.all(writes.map((w) => sendKvFrame(server.port, signed(w))));
    const seen = (replies as KvPutResult[]).map((r) => r.version).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1)); // one writer: each version handed out once
    for (const read of await Promise.all(readers)) {
      if (read.ok) expect((read as { value: string }).value).toBe(`v${(read as { version: number }).version - 1}`); // value matches its version
    }
  });

  it('[9.3] an unsigned put is refused with E_SIG_MISSING and nothing is applied', async () => {
    const reply = await sendKvFrame(server.port, unsigned({ op: 'put', request_id: 'u-1', key: 'unsigned', value: 'x' }));
    expect(reply).toMatchObject({ ok: false, code: 'E_SIG_MISSING' });
    expect(store.get('unsigned')).toMatchObject({ ok: false, code: 'E_KV_NOT_FOUND' });
  });

  it('[9.3] a put signed by an untrusted key or with an altered payload is refused and nothing is applied', async () => {
    const foreign = await sendKvFrame(server.port, signed({ op: 'put', request_id: 'f-1', key: 'forged', value: 'x' }, stranger.signer));
    expect(foreign.ok).toBe(false);
    expect((foreign as { code: string }).code).toMatch(/^E_(SIG|KEY)_/);
    const good = signed({ op: 'delete', request_id: 'f-2', key: 'forged' });
    const text = new TextDecoder().decode(good).replace('"op":"delete"', '"op":"delete" ');
    const altered = await sendKvFrame(server.port, new TextEncoder().encode(text));
    expect(altered).toMatchObject({ ok: false, code: 'E_SIG_INVALID' });
    expect(store.get('forged')).toMatchObject({ ok: false, code: 'E_KV_NOT_FOUND' });
  });

  it('[9.3] negative control: the same put signed by the trusted key is applied', async () => {
    const reply = await sendKvFrame(server.port, signed({ op: 'put', request_id: 'ok-1', key: 'forged', value: 'x' }));
    expect(reply).toMatchObject({ ok: true, version: 1 });
    const read = await sendKvFrame(server.port, unsigned({ op: 'get', key: 'forged' }));
    expect(read).toMatchObject({ ok: true, value: 'x' });
  });

  it('[9.4] a record with a flipped bit or cut short is caught by its checksum and refused', () => {
    const record = encodeCrcRecord(new TextEncoder().encode('{"op":"put"}'));
    expect(isRecordDamage(decodeCrcRecord(record, 0))).toBe(false); // negative control
    const flipped = record.slice();
    flipped[10] = (flipped[10] as number) ^ 0x20;
    expect(decodeCrcRecord(flipped, 0)).toEqual({ error: 'corrupt', at: 0 });
    expect(decodeCrcRecord(record.subarray(0, record.length - 1), 0)).toEqual({ error: 'torn', at: 0 });
  });

  it('[9.4] a corrupted newest snapshot file is refused with E_SNAPSHOT_CHECKSUM and the previous good one loads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kv-gate-'));
    try {
      const machine = new KvStateMachine();
      machine.apply({ op: 'put', request_id: 's-1', key: 'doc', value: 'v1' }, { term: 1, lsn: 1 });
      await writeSnapshot(dir, machine.snapshot(), 1);
      machine.apply({ op: 'put', request_id: 's-2', key: 'doc', value: 'v2' }, { term: 1, lsn: 2 });
      const newest = await writeSnapshot(dir, machine.snapshot(), 2);
      expect((await loadNewestSnapshot(dir)).machine.get('doc')?.value).toBe('v2'); // negative control
      const bytes = new Uint8Array(await readFile(newest));
      bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0x01;
      await writeFile(newest, bytes);
      expect(thrownCode(() => KvStateMachine.restore(bytes))).toBe('E_SNAPSHOT_CHECKSUM');
      const loaded = await loadNewestSnapshot(dir);
      expect(loaded.machine.get('doc')).toMatchObject({ value: 'v1', version: 1 });
      expect(loaded.failures).toEqual([expect.objectContaining({ file: newest, code: 'E_SNAPSHOT_CHECKSUM' })]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('[9.4] a truncated snapshot or one of an unknown schema is refused with its code', () => {
    const machine = new KvStateMachine();
    machine.apply({ op: 'put', request_id: 't-1', key: 'k', value: 'v' }, { term: 1, lsn: 1 });
    const bytes = machine.snapshot();
    expect(thrownCode(() => KvStateMachine.restore(bytes.subarray(0, bytes.length - 3)))).toBe('E_SNAPSHOT_TRUNCATED');
    // A well-sealed header of a future schema: only the schema check can refuse it.
    const header = readSnapshotHeader(bytes);
    const headerEnd = 8 + 8 + canonicalBytes(header).length;
    const future = new Uint8Array([...bytes.subarray(0, 8), ...encodeCrcRecord(canonicalBytes({ ...header, schema_version: 7 })), ...bytes.subarray(headerEnd)]);
    expect(thrownCode(() => KvStateMachine.restore(future))).toBe('E_SNAPSHOT_SCHEMA');
  });
});

// The same claims against `civictrust kv serve` running as its own process, driven by
// `kv put` / `kv get` processes and raw frames: nothing shared in memory with the test.
describe('week-09 · KV state machine · kv serve as a process', () => {
  const entry = fileURLToPath(new URL('./node_main.ts', import.meta.url));
  let dir: string;
  let keys: string;
  let server: ServerProcess;
  const kv = (args: readonly string[]) => runCliProcess(['kv', ...args], { entry });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kv-gate-proc-'));
    keys = join(dir, 'keys');
    generateKey(keys, 'writer', { clock: systemClock });
    server = await startServerProcess(['kv', 'serve', '--keys', keys], { entry });
  });
  afterAll(async () => {
    await server.stop('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  // #region gate-process
  it('[9.1] a kv put retried under one request id against a server process is applied once', async () => {
    const put = ['put', '--port', String(server.port), '--keys', keys, '--key', 'writer', '--request-id', 'proc-1', '--json', 'mayor', 'ana'];
    const first = await kv(put);
    const retry = await kv(put);
    expect(first.code).toBe(0);
    expect(JSON.parse(retry.stdout)).toEqual(JSON.parse(first.stdout)); // the first answer, word for word
    const read = await kv(['get', '--port', String(server.port), '--json', 'mayor']);
    expect(JSON.parse(read.stdout)).toMatchObject({ ok: true, value: 'ana', version: 1 });
  });

  it('[9.3] a server process answers an unsigned put E_SIG_MISSING and a stranger\'s signed put with a key refusal', async () => {
    const unsignedReply = await sendKvFrame(server.port, unsigned({ op: 'put', request_id: 'proc-u', key: 'treasurer', value: 'eve' }));
    expect(unsignedReply).toMatchObject({ ok: false, code: 'E_SIG_MISSING' });
    const foreign = await sendKvFrame(server.port, signed({ op: 'put', request_id: 'proc-f', key: 'treasurer', value: 'eve' }, stranger.signer));
    expect((foreign as { code: string }).code).toMatch(/^E_(SIG|KEY)_/);
    const read = await kv(['get', '--port', String(server.port), '--json', 'treasurer']);
    expect(read.code).toBe(4);
    expect(JSON.parse(read.stdout)).toMatchObject({ ok: false, code: 'E_KV_NOT_FOUND', version: 0 }); // neither write landed
  });
  // #endregion gate-process

  it('[9.3] negative control: kv put signed with the trusted key directory is applied by the server process', async () => {
    const put = await kv(['put', '--port', String(server.port), '--keys', keys, '--key', 'writer', 'clerk', 'bo']);
    expect(put.code).toBe(0);
    expect(errorCodeOf(put.stderr)).toBeUndefined();
    const read = await kv(['get', '--port', String(server.port), '--json', 'clerk']);
    expect(JSON.parse(read.stdout)).toMatchObject({ value: 'bo', version: 1 });
  });
});

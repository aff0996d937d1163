/**
 * The sync policy: the table and its validation, and, on a real disk, that no configured
 * policy lets a critical command (a delete or a compare-and-set) be acknowledged before a
 * durability point covering its record. The disk side is watched from outside the WAL:
 * `node:fs` is wrapped so that every fdatasync notes how many bytes the file held when it
 * began, and every write to an O_DSYNC descriptor notes where it ended.
 */
import * as fs from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isCivicError } from '../../lib/errors.ts';
import type { KvCommand } from '../../lib/kv.ts';
import { makeWorkspace } from '../../lib/testing.ts';
import { DurableKv } from './node_durable_kv.ts';
import { FSYNC_POLICIES, segmentName } from './node_wal.ts';
import { scanWal } from './record.ts';
import { CRITICAL_CLASSES, commandClass, describeMode, parseSyncRule, syncPolicy, type CommandClass } from './sync_policy.ts';

/** Bytes of each file a completed durability point covers, by descriptor (the test's own view of the disk). */
const covered = new Map<number, number>();
const dsyncFds = new Set<number>();

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const note = (fd: number, bytes: number): void => {
    covered.set(fd, Math.max(covered.get(fd) ?? 0, bytes));
  };
  return {
    ...real,
    open(path: fs.PathLike, flags: fs.OpenMode, mode: fs.Mode, cb: (error: NodeJS.ErrnoException | null, fd: number) => void) {
      real.open(path, flags, mode, (error, fd) => {
        if (error === null) {
          covered.delete(fd);
          dsyncFds.delete(fd);
          if (typeof flags === 'number' && (flags & real.constants.O_DSYNC) !== 0) dsyncFds.add(fd);
        }
        cb(error, fd);
      });
    },
    fdatasync(fd: number, cb: (error: NodeJS.ErrnoException | null) => void) {
      const size = real.fstatSync(fd).size; // what this fdatasync can cover: bytes written before it began
      real.fdatasync(fd, (error) => {
        if (error === null) note(fd, size);
        cb(error);
      });
    },
    write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, cb: (error: NodeJS.ErrnoException | null, written: number, buffer: Uint8Array) => void) {
      real.write(fd, buffer, offset, length, position, (error, written, b) => {
        if (error === null && dsyncFds.has(fd)) note(fd, position + written);
        cb(error, written, b);
      });
    },
  };
});

const workspace = makeWorkspace('week10-sync-policy');
afterAll(() => workspace.remove());

/** The most bytes of any open segment a completed durability point covers now. */
function coveredNow(): number {
  return Math.max(0, ...covered.values());
}

/** The byte offset where each record ends in a segment, by LSN. */
function recordEnds(path: string): Map<number, number> {
  const bytes = new Uint8Array(readFileSync(path));
  const ends = new Map<number, number>();
  let at = 0;
  for (const record of scanWal(bytes, 1).records) {
    at += 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(at);
    ends.set(record.lsn, at);
  }
  return ends;
}

/** Three rounds per writer of a put, a compare-and-set and a delete, 8 writers at once; each ack notes what was durable then. */
async function mixedLoad(kv: DurableKv): Promise<{ cls: CommandClass; lsn: number; coveredAtAck: number }[]> {
  const acks: { cls: CommandClass; lsn: number; coveredAtAck: number }[] = [];
  const run = async (command: KvCommand): Promise<void> => {
    const result = await kv.apply(command);
    const coveredAtAck = coveredNow(); // same turn as the acknowledgement: no I/O callback ran between
    if (!result.ok) throw new Error(`${command.request_id}: ${result.code}`);
    acks.push({ cls: commandClass(command), lsn: result.lsn, coveredAtAck });
  };
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let round = 0; round < 3; round++) {
      const key = `w${w}-${round}`;
      await run({ op: 'put', request_id: `p-${key}`, key, value: 'v'.repeat(100) });
      await run({ op: 'put', request_id: `c-${key}`, key: `${key}-cas`, value: 'won', if_version: 0 });
      await run({ op: 'delete', request_id: `d-${key}`, key });
    }
  }));
  return acks;
}

describe('syncPolicy', () => {
  it('starts every class at sync, except a plain put under --fsync none', () => {
    expect(syncPolicy('group')).toEqual({ put: { kind: 'sync' }, delete: { kind: 'sync' }, cas: { kind: 'sync' } });
    expect(syncPolicy('always').put).toEqual({ kind: 'sync' });
    expect(syncPolicy('none')).toEqual({ put: { kind: 'none' }, delete: { kind: 'sync' }, cas: { kind: 'sync' } });
  });

  it('lets a rule relax put, or tighten it back, the last rule winning', () => {
    expect(syncPolicy('group', ['put=interval:20']).put).toEqual({ kind: 'interval', ms: 20 });
    expect(syncPolicy('none', ['put=sync']).put).toEqual({ kind: 'sync' });
    expect(syncPolicy('group', ['put=none', 'put=interval:5']).put).toEqual({ kind: 'interval', ms: 5 });
  });

  it('refuses to relax a critical class, with E_WAL_POLICY', () => {
    for (const cls of CRITICAL_CLASSES) {
      for (const mode of ['none', 'interval:10']) {
        expect(() => syncPolicy('group', [`${cls}=${mode}`])).toThrowError(expect.objectContaining({ code: 'E_WAL_POLICY' }));
      }
      expect(syncPolicy('none', [`${cls}=sync`])[cls]).toEqual({ kind: 'sync' });
    }
  });

  it('refuses malformed rules and intervals out of range, with E_WAL_POLICY', () => {
    for (const rule of ['put', 'put=', 'get=sync', 'put=fast', 'put=interval', 'put=interval:0', 'put=interval:60001', 'PUT=sync', ' put=sync']) {
      let code: string | undefined;
      try {
        parseSyncRule(rule);
      } catch (error) {
        code = isCivicError(error) ? error.code : 'not a CivicError';
      }
      expect(code, rule).toBe('E_WAL_POLICY');
    }
    expect(describeMode(parseSyncRule('put=interval:60000').mode)).toBe('interval:60000');
  });

  it('classes a command by its guard first, then its op', () => {
    expect(commandClass({ op: 'put' })).toBe('put');
    expect(commandClass({ op: 'delete' })).toBe('delete');
    expect(commandClass({ op: 'put', if_version: 3 })).toBe('cas');
    expect(commandClass({ op: 'delete', if_version: 0 })).toBe('cas');
  });
});

describe('DurableKv under a sync policy', () => {
  it('never acknowledges a delete or a compare-and-set before a durability point covering it, under every --fsync and every put rule', async () => {
    for (const fsync of FSYNC_POLICIES) {
      for (const putRule of ['put=sync', 'put=interval:5', 'put=none']) {
        covered.clear();
        const dir = workspace.fresh(`critical-${fsync}-${putRule.replace(/[=:]/g, '-')}`);
        const kv = await DurableKv.open(dir, { fsync, sync: syncPolicy(fsync, [putRule]) });
        const acks = await mixedLoad(kv);
        await kv.close();
        const ends = recordEnds(join(dir, 'wal', segmentName(1)));
        const critical = acks.filter((a) => CRITICAL_CLASSES.includes(a.cls));
        expect(critical.length, `${fsync} ${putRule}`).toBe(48);
        for (const a of critical) expect(a.coveredAtAck, `${fsync} ${putRule}: ${a.cls} lsn ${a.lsn}`).toBeGreaterThanOrEqual(ends.get(a.lsn)!);
      }
    }
  });

  it('negative control: under --fsync none, puts are acknowledged before any durability point covers them, and the check above sees it', async () => {
    covered.clear();
    const dir = workspace.fresh('control-none');
    const kv = await DurableKv.open(dir, { fsync: 'none', sync: syncPolicy('none') });
    const acks = await mixedLoad(kv);
    await kv.close();
    const ends = recordEnds(join(dir, 'wal', segmentName(1)));
    const early = acks.filter((a) => a.cls === 'put' && a.coveredAtAck < ends.get(a.lsn)!);
    expect(early.length).toBeGreaterThan(0);
  });

  it('interval: acknowledges puts before their fdatasync and runs one within the bound, so an idle store catches up', async () => {
    const dir = workspace.fresh('interval');
    const kv = await DurableKv.open(dir, { fsync: 'group', sync: syncPolicy('group', ['put=interval:20']) });
    for (let i = 0; i < 20; i++) await kv.apply({ op: 'put', request_id: `r${i}`, key: `k${i}`, value: 'v' });
    const afterAcks = kv.walStats;
    expect(afterAcks.durableLsn).toBeLessThan(20); // acknowledged, not all durable yet
    expect(afterAcks.syncs).toBeLessThan(20); // no fdatasync per put
    const deadline = Date.now() + 10_000;
    while (kv.walStats.durableLsn < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(kv.walStats.durableLsn).toBe(20);
    await kv.close();
  });

  it('sync: a put under group waits for an fdatasync of its own, one per lone writer', async () => {
    const kv = await DurableKv.open(workspace.fresh('put-sync'), { fsync: 'group' });
    for (let i = 0; i < 10; i++) {
      const result = await kv.apply({ op: 'put', request_id: `r${i}`, key: `k${i}`, value: 'v' });
      expect(result.ok && kv.walStats.durableLsn >= result.lsn).toBe(true);
    }
    expect(kv.walStats.syncs).toBe(10);
    await kv.close();
  });

  it('close runs an interval sync still owed', async () => {
    const dir = workspace.fresh('interval-close');
    const kv = await DurableKv.open(dir, { fsync: 'none', sync: syncPolicy('none', ['put=interval:60000']) });
    await kv.apply({ op: 'put', request_id: 'r1', key: 'k1', value: 'v' });
    expect(kv.walStats.durableLsn).toBe(0);
    await kv.close();
    expect(kv.walStats).toMatchObject({ durableLsn: 1, syncs: 1 });
  });
});

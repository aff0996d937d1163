/**
 * Unit tests of the WAL record, the scanner and the on-disk log: round trips, every
 * kind of damage, group commit batching, recovery with quarantine, rotation, and a
 * store refusing a log with a hole at its start (`E_WAL_GAP`).
 */
import { readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkspace } from '../../lib/testing.ts';
import { DurableKv } from './node_durable_kv.ts';
import { QUARANTINE_DIR, Wal, repairWal, segmentName } from './node_wal.ts';
import { encodeWalRecord, scanWal, type WalEntry } from './record.ts';

const workspace = makeWorkspace('week10-wal');
afterAll(() => workspace.remove());
const utf8 = new TextEncoder();

function entry(i: number, value = `value-${i}`): WalEntry {
  return { term: 1, op: 'put', key: `k${i}`, request_id: `r${i}`, if_version: null, value: utf8.encode(value) };
}
function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

describe('scanWal', () => {
  it('reads back every record it was given, in order (property)', () => {
    fc.assert(fc.property(fc.array(fc.string(), { maxLength: 20 }), (values) => {
      const bytes = joined(values.map((v, i) => encodeWalRecord(i + 1, entry(i, v)).bytes));
      const scan = scanWal(bytes, 1);
      expect(scan.damage).toBeNull();
      expect(scan.records.map((r) => new TextDecoder().decode(r.value))).toEqual(values);
      expect(scan.end).toBe(bytes.length);
    }));
  });

  it('stops at a record cut at any byte, keeping every record before it (property)', () => {
    const parts = [1, 2, 3].map((i) => encodeWalRecord(i, entry(i)).bytes);
    const all = joined(parts);
    const keep = parts[0]!.length + parts[1]!.length;
    fc.assert(fc.property(fc.integer({ min: keep + 1, max: all.length - 1 }), (cut) => {
      const scan = scanWal(all.subarray(0, cut), 1);
      expect(scan.records.map((r) => r.lsn)).toEqual([1, 2]);
      expect(scan.damage).toMatchObject({ kind: 'torn', at: keep });
    }));
  });

  it('reports a flipped bit in any record as corrupt at that record (property)', () => {
    const parts = [1, 2, 3].map((i) => encodeWalRecord(i, entry(i)).bytes);
    const all = joined(parts);
    fc.assert(fc.property(fc.integer({ min: parts[0]!.length + 4, max: all.length - 1 }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
      const bad = all.slice();
      bad[at]! ^= 1 << bit;
      const scan = scanWal(bad, 1);
      expect(scan.damage).not.toBeNull();
      expect(scan.records.length).toBeLessThanOrEqual(Math.floor(at >= parts[0]!.length + parts[1]!.length ? 2 : 1));
      expect(scan.records[0]?.lsn).toBe(1);
    }));
  });

  it('calls a zero-filled tail torn and an out-of-order lsn corrupt', () => {
    const one = encodeWalRecord(1, entry(1)).bytes;
    expect(scanWal(joined([one, new Uint8Array(64)]), 1).damage).toMatchObject({ kind: 'torn', at: one.length });
    const three = encodeWalRecord(3, entry(3)).bytes;
    expect(scanWal(joined([one, three]), 1).damage).toMatchObject({ kind: 'corrupt', at: one.length });
  });
});

describe('Wal', () => {
  it('group commit writes many concurrent appends with fewer fdatasyncs, acking in lsn order', async () => {
    const dir = workspace.fresh('group');
    const { wal } = await Wal.open(dir, { fsync: 'group' });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 64 }, (_, i) => wal.append(entry(i)).then((r) => order.push(r.lsn))));
    expect(order).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(wal.stats.syncs).toBeLessThan(64);
    expect(wal.stats.syncs).toBe(wal.stats.batches);
    await wal.close();
    const { recovery } = await Wal.open(dir, { fsync: 'group' });
    expect(recovery.records.length).toBe(64);
  });

  it('group: a turn that gathers appends for as long as an fdatasync takes starts writing them at once', async () => {
    // A clock that ticks 1 ms per reading: the first fdatasync "takes" 1 ms, so the second
    // append of a later turn has gathered long enough to start the writer early.
    let ticks = 0;
    const { wal } = await Wal.open(workspace.fresh('gather'), { fsync: 'group', now: () => ticks++ });
    await wal.append(entry(0));
    expect(wal.stats).toMatchObject({ batches: 1, syncs: 1 });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) => wal.append(entry(i + 1)).then((r) => order.push(r.lsn))));
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    expect(wal.stats.batches).toBe(3); // records 2–3 start the writer; 4–11 queue behind their write
    await wal.close();
    // Negative control: a clock that never moves times no fdatasync, so one turn stays one batch.
    const { wal: still } = await Wal.open(workspace.fresh('gather-still'), { fsync: 'group', now: () => 0 });
    await still.append(entry(0));
    await Promise.all(Array.from({ length: 10 }, (_, i) => still.append(entry(i + 1))));
    expect(still.stats).toMatchObject({ batches: 2, syncs: 2 });
    await still.close();
  });

  it('appends a durable: false record with no fdatasync of its own, in lsn order behind durable ones', async () => {
    const dir = workspace.fresh('lazy');
    const { wal } = await Wal.open(dir, { fsync: 'group' });
    await wal.append(entry(0), { durable: false });
    expect(wal.stats).toMatchObject({ batches: 1, syncs: 0 });
    const order: number[] = [];
    const durable = wal.append(entry(1)).then((r) => order.push(r.lsn));
    await Promise.resolve(); // the next turn: written after the durable one, in a batch of its own
    const lazy = wal.append(entry(2), { durable: false }).then((r) => order.push(r.lsn));
    await Promise.all([durable, lazy]);
    expect(order).toEqual([2, 3]);
    expect(wal.stats.syncs).toBe(1);
    await wal.close();
    const { wal: again, recovery } = await Wal.open(dir, { fsync: 'group' });
    expect(recovery.records.map((r) => r.lsn)).toEqual([1, 2, 3]);
    await again.close();
  });

  it('always makes every append its own synced write; none syncs nothing', async () => {
    for (const [policy, syncs] of [['always', 10], ['none', 0]] as const) {
      const { wal } = await Wal.open(workspace.fresh(policy), { fsync: policy });
      await Promise.all(Array.from({ length: 10 }, (_, i) => wal.append(entry(i))));
      expect(wal.stats.syncs).toBe(syncs);
      await wal.close();
    }
  });

  it('none: a forceSync append resolves only once an fdatasync covers it, and later plain appends wait their turn behind it', async () => {
    const { wal } = await Wal.open(workspace.fresh('force-none'), { fsync: 'none' });
    await wal.append(entry(0));
    expect(wal.stats).toMatchObject({ syncs: 0, durableLsn: 0 });
    const order: number[] = [];
    const forced = wal.append(entry(1), { forceSync: true }).then((r) => order.push(r.lsn) && wal.stats.durableLsn);
    const plain = wal.append(entry(2)).then((r) => order.push(r.lsn));
    expect(await forced).toBeGreaterThanOrEqual(2); // durable when it resolved
    await plain;
    expect(order).toEqual([2, 3]);
    expect(wal.stats.syncs).toBe(1);
    await wal.close();
  });

  it('sync() makes every written record durable with one fdatasync, and none when nothing is owed', async () => {
    const { wal } = await Wal.open(workspace.fresh('sync-call'), { fsync: 'group' });
    for (let i = 0; i < 3; i++) await wal.append(entry(i), { durable: false });
    expect(wal.stats).toMatchObject({ syncs: 0, durableLsn: 0 });
    expect(await wal.sync()).toBe(3);
    expect(await wal.sync()).toBe(3);
    expect(wal.stats).toMatchObject({ syncs: 1, durableLsn: 3 });
    await wal.close();
    await expect(wal.sync()).rejects.toMatchObject({ code: 'E_WAL_CLOSED' });
  });

  it('quarantines a torn tail to an fsynced file, cuts it, and appends after the last good record', async () => {
    const dir = workspace.fresh('torn');
    const { wal } = await Wal.open(dir, { fsync: 'always' });
    for (let i = 0; i < 3; i++) await wal.append(entry(i));
    await wal.close();
    const path = join(dir, segmentName(1));
    const size = statSync(path).size;
    truncateSync(path, size - 5);
    const opened = await Wal.open(dir, { fsync: 'always' });
    expect(opened.recovery.records.map((r) => r.lsn)).toEqual([1, 2]);
    expect(opened.recovery.damage?.code).toBe('E_WAL_TORN');
    const q = readdirSync(join(dir, QUARANTINE_DIR));
    expect(q.length).toBe(1);
    expect(readFileSync(join(dir, QUARANTINE_DIR, q[0]!)).length).toBe(opened.recovery.damage!.bytes);
    const next = await opened.wal.append(entry(9));
    expect(next.lsn).toBe(3);
    await opened.wal.close();
    const again = await Wal.open(dir, { fsync: 'always' });
    expect(again.recovery.damage).toBeNull();
    expect(again.recovery.records.map((r) => r.key)).toEqual(['k0', 'k1', 'k9']);
    await again.wal.close();
  });

  it('refuses a corrupt record before the tail with E_WAL_CORRUPT, moving nothing; repairWal then cuts it and every later segment', async () => {
    const dir = workspace.fresh('corrupt');
    const { wal } = await Wal.open(dir, { fsync: 'always' });
    for (let i = 0; i < 3; i++) await wal.append(entry(i));
    await wal.rotate();
    for (let i = 3; i < 5; i++) await wal.append(entry(i));
    await wal.close();
    const path = join(dir, segmentName(1));
    const bytes = readFileSync(path);
    bytes[bytes.length - 3]! ^= 0xff; // inside record 3
    writeFileSync(path, bytes);
    const refused = await Wal.open(dir, { fsync: 'always' }).then(() => null, (e: unknown) => e as { code: string; message: string });
    expect(refused?.code).toBe('E_WAL_CORRUPT');
    expect(refused?.message).toMatch(/lsn 3\.\.5 cannot be replayed/);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('wal-'))).toEqual([segmentName(1), segmentName(4)]);
    await expect(repairWal(dir, 4)).rejects.toMatchObject({ code: 'E_WAL_CORRUPT' }); // past the damage: cut at 3
    const cut = await repairWal(dir, 3);
    expect(cut.quarantined.length).toBe(2);
    expect(readdirSync(dir).filter((n) => n.startsWith('wal-'))).toEqual([segmentName(1)]);
    const opened = await Wal.open(dir, { fsync: 'always' });
    expect(opened.recovery.damage).toBeNull();
    expect(opened.recovery.records.map((r) => r.lsn)).toEqual([1, 2]);
    expect(opened.wal.nextLsn).toBe(3);
    await opened.wal.close();
  });

  it('a zero-filled tail (preallocation, a crash after the file grew) keeps its own verdict: E_WAL_TORN, every record kept', async () => {
    const dir = workspace.fresh('zero-tail');
    const { wal } = await Wal.open(dir, { fsync: 'always' });
    for (let i = 0; i < 3; i++) await wal.append(entry(i));
    await wal.close();
    const path = join(dir, segmentName(1));
    const size = statSync(path).size;
    truncateSync(path, size + 4096); // the file grew; the data never landed
    const opened = await Wal.open(dir, { fsync: 'always' });
    expect(opened.recovery.damage).toMatchObject({ code: 'E_WAL_TORN', offset: size, reason: 'zero-filled tail' });
    expect(opened.recovery.records.map((r) => r.lsn)).toEqual([1, 2, 3]);
    await opened.wal.close();
  });

  it('a record cut short in a segment that later segments follow is corrupt, not torn', async () => {
    const dir = workspace.fresh('torn-middle');
    const { wal } = await Wal.open(dir, { fsync: 'always' });
    for (let i = 0; i < 3; i++) await wal.append(entry(i));
    await wal.rotate();
    await wal.append(entry(3));
    await wal.close();
    truncateSync(join(dir, segmentName(1)), statSync(join(dir, segmentName(1))).size - 2);
    await expect(Wal.open(dir, { fsync: 'always' })).rejects.toMatchObject({ code: 'E_WAL_CORRUPT' });
  });

  it('rotates to a new segment and drops only segments a checkpoint covers', async () => {
    const dir = workspace.fresh('rotate');
    const { wal } = await Wal.open(dir, { fsync: 'group' });
    for (let i = 0; i < 3; i++) await wal.append(entry(i));
    expect(await wal.rotate()).toBe(4);
    await wal.append(entry(3));
    expect(await wal.dropThrough(2)).toEqual([]);
    expect(await wal.dropThrough(3)).toEqual([segmentName(1)]);
    await wal.close();
    const { recovery } = await Wal.open(dir, { fsync: 'group' });
    expect(recovery.records.map((r) => r.lsn)).toEqual([4]);
  });
});

describe('DurableKv refuses a log that does not continue its state', () => {
  it('fails with E_WAL_GAP when the first segment is gone, instead of serving a state with a hole in it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'civictrust-w10-gap-'));
    try {
      const kv = await DurableKv.open(dir, { fsync: 'always' });
      for (let i = 1; i <= 2; i++) await kv.apply({ op: 'put', request_id: `a-${i}`, key: `k${i}`, value: 'v' });
      await kv.checkpoint(); // rotates: later writes go to a second segment
      for (let i = 3; i <= 4; i++) await kv.apply({ op: 'put', request_id: `a-${i}`, key: `k${i}`, value: 'v' });
      await kv.close();
      // Lose every snapshot and the first segment: the log now starts after lsn 1 with nothing before it.
      await rm(join(dir, 'snapshots'), { recursive: true, force: true });
      const segments = (await readdir(join(dir, 'wal'))).filter((name) => name.startsWith('wal-')).sort();
      expect(segments.length).toBeGreaterThan(1);
      await rm(join(dir, 'wal', segments[0] as string));
      await expect(DurableKv.open(dir, { fsync: 'always' })).rejects.toMatchObject({ code: 'E_WAL_GAP' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

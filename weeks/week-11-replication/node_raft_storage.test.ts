/**
 * Tests of Raft storage on the WAL: a Ready round-trips through a reopen, a rewritten
 * suffix replaces the old one, a node abandoned without close (SIGKILL-like) restarts
 * from what was durable, a torn tail is quarantined and reported, compaction keeps the
 * log restorable from its fresh segment alone, and a missing snapshot refuses to start.
 */
import { appendFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkspace } from '../../lib/testing.ts';
import { Wal } from '../../lib/wal.ts';
import { RaftStorage } from './node_raft_storage.ts';
import type { Entry, HardState, Snapshot } from './raft_types.ts';

const workspace = makeWorkspace('week11-storage');
afterAll(() => workspace.remove());
const utf8 = new TextEncoder();

function entry(index: number, term: number, text: string | null = `cmd-${index}`): Entry {
  return { index, term, data: text === null ? null : utf8.encode(text) };
}
function ready(entries: Entry[], hardState: HardState | null = null, snapshot: Snapshot | null = null) {
  return { entries, hardState, snapshot };
}

describe('RaftStorage', () => {
  it('restores the hard state and entries a save made durable, no-ops included', async () => {
    const dir = workspace.fresh('roundtrip');
    const { storage, restore } = await RaftStorage.open(dir);
    expect(restore).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
    await storage.save(ready([entry(1, 1, null), entry(2, 1), entry(3, 1, '')], { term: 1, vote: 'n1', commit: 2 }));
    await storage.close();
    const again = await RaftStorage.open(dir);
    expect(again.restore.hardState).toEqual({ term: 1, vote: 'n1', commit: 2 });
    expect(again.restore.entries).toEqual([entry(1, 1, null), entry(2, 1), entry(3, 1, '')]);
    expect(again.damage).toBeNull();
    await again.storage.close();
  });

  it('commits a 51-record Ready with one write and one fdatasync (group commit)', async () => {
    const { storage } = await RaftStorage.open(workspace.fresh('group'));
    await storage.save(ready(Array.from({ length: 50 }, (_, i) => entry(i + 1, 1)), { term: 1, vote: null, commit: 0 }));
    // Appends made in one synchronous turn share the WAL's first write.
    expect(storage.stats).toMatchObject({ saves: 1, records: 51, syncs: 1 });
    await storage.close();
  });

  it('waits for an fdatasync when term, vote or entries change, and not when only the commit index moves', async () => {
    const dir = workspace.fresh('must-sync');
    const { storage } = await RaftStorage.open(dir);
    await storage.save(ready([entry(1, 2)], { term: 2, vote: 'n1', commit: 0 }));
    const synced = storage.stats.syncs;
    expect(synced).toBe(1);
    await storage.save(ready([], { term: 2, vote: 'n1', commit: 1 })); // commit only: resolves before its sync
    expect(storage.stats.syncs).toBe(synced);
    await storage.save(ready([], { term: 3, vote: null, commit: 1 })); // a new term must be durable first
    expect(storage.stats.syncs).toBeGreaterThan(synced);
    await storage.close();
    const again = await RaftStorage.open(dir);
    expect(again.restore.hardState).toEqual({ term: 3, vote: null, commit: 1 });
    await again.storage.close();
  });

  it('replaces the stored suffix when an entry at or below the last index is saved', async () => {
    const dir = workspace.fresh('suffix');
    const { storage } = await RaftStorage.open(dir);
    await storage.save(ready([entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)]));
    await storage.save(ready([entry(3, 2, 'new-3')], { term: 2, vote: 'n2', commit: 2 }));
    await storage.save(ready([], { term: 3, vote: null, commit: 3 }));
    await storage.close();
    const { storage: reopened, restore } = await RaftStorage.open(dir);
    expect(restore.entries).toEqual([entry(1, 1), entry(2, 1), entry(3, 2, 'new-3')]);
    expect(restore.hardState).toEqual({ term: 3, vote: null, commit: 3 });
    await reopened.close();
  });

  it('reads back what a model log holds after any sequence of saves (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ back: fc.nat(3), count: fc.integer({ min: 0, max: 3 }), term: fc.integer({ min: 1, max: 5 }) }), { maxLength: 8 }),
      async (steps) => {
        const dir = workspace.fresh('model');
        const { storage } = await RaftStorage.open(dir);
        let model: Entry[] = [];
        for (const [s, step] of steps.entries()) {
          const from = Math.max(1, model.length + 1 - step.back);
          const batch = Array.from({ length: step.count }, (_, i) => entry(from + i, step.term, `s${s}-${i}`));
          if (batch.length > 0) model = [...model.slice(0, from - 1), ...batch];
          await storage.save(ready(batch));
        }
        await storage.close();
        const { storage: reopened, restore } = await RaftStorage.open(dir);
        await reopened.close();
        rmSync(dir, { recursive: true, force: true });
        expect(restore.entries).toEqual(model);
      },
    ), { numRuns: 15, seed: 1111 });
  });

  it('restarts from what was durable when the process is abandoned without close (SIGKILL-like)', async () => {
    const dir = workspace.fresh('abandon');
    const { storage } = await RaftStorage.open(dir);
    await storage.save(ready([entry(1, 1), entry(2, 1)], { term: 1, vote: 'n1', commit: 1 }));
    // No close: the first handle is simply dropped, as a killed process drops it.
    const { storage: second, restore } = await RaftStorage.open(dir);
    expect(restore.entries).toEqual([entry(1, 1), entry(2, 1)]);
    expect(restore.hardState).toEqual({ term: 1, vote: 'n1', commit: 1 });
    await second.close();
  });

  it('quarantines a torn tail, reports E_WAL_TORN and keeps the records before it', async () => {
    const dir = workspace.fresh('torn');
    const { storage } = await RaftStorage.open(dir);
    await storage.save(ready([entry(1, 1), entry(2, 1)], { term: 1, vote: null, commit: 0 }));
    await storage.close();
    const segment = readdirSync(join(dir, 'wal')).find((name) => name.endsWith('.log')) as string;
    appendFileSync(join(dir, 'wal', segment), new Uint8Array([0, 0, 0, 90, 1, 2, 3])); // a record cut short
    const { storage: reopened, restore, damage } = await RaftStorage.open(dir);
    expect(damage?.code).toBe('E_WAL_TORN');
    expect(restore.entries).toEqual([entry(1, 1), entry(2, 1)]);
    expect(readdirSync(join(dir, 'wal', 'quarantine'))).toHaveLength(1);
    await reopened.save(ready([entry(3, 1)]));
    await reopened.close();
    const third = await RaftStorage.open(dir);
    expect(third.damage).toBeNull();
    expect(third.restore.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    await third.storage.close();
  });

  it('restores from a compacted log: the snapshot, the entries after it, the hard state', async () => {
    const dir = workspace.fresh('compact');
    const { storage } = await RaftStorage.open(dir);
    await storage.save(ready(Array.from({ length: 10 }, (_, i) => entry(i + 1, 1)), { term: 1, vote: 'n1', commit: 8 }));
    const snapshot: Snapshot = { index: 8, term: 1, data: utf8.encode('state@8') };
    await storage.compact(snapshot);
    expect(readdirSync(join(dir, 'wal')).filter((name) => name.endsWith('.log'))).toHaveLength(1);
    await storage.save(ready([entry(11, 2)], { term: 2, vote: null, commit: 10 }));
    await storage.close();
    const { storage: reopened, restore } = await RaftStorage.open(dir);
    expect(restore.snapshot).toEqual(snapshot);
    expect(restore.entries.map((e) => e.index)).toEqual([9, 10, 11]);
    expect(restore.hardState).toEqual({ term: 2, vote: null, commit: 10 });
    await reopened.close();
  });

  it('installs a leader snapshot from a Ready, dropping the entries it replaces', async () => {
    const dir = workspace.fresh('install');
    const { storage } = await RaftStorage.open(dir);
    await storage.save(ready([entry(1, 1), entry(2, 1)]));
    const snapshot: Snapshot = { index: 20, term: 3, data: utf8.encode('leader-state') };
    await storage.save(ready([entry(21, 3)], { term: 3, vote: null, commit: 20 }, snapshot));
    await storage.close();
    const { storage: reopened, restore } = await RaftStorage.open(dir);
    expect(restore.snapshot).toEqual(snapshot);
    expect(restore.entries).toEqual([entry(21, 3)]);
    await reopened.close();
  });

  it('refuses to start with E_RAFT_SNAPSHOT_MISSING when the named snapshot file is damaged', async () => {
    const dir = workspace.fresh('snapgone');
    const { storage } = await RaftStorage.open(dir);
    await storage.save(ready([entry(1, 1)]));
    await storage.compact({ index: 1, term: 1, data: utf8.encode('s') });
    await storage.close();
    const file = readdirSync(join(dir, 'snap'))[0] as string;
    writeFileSync(join(dir, 'snap', file), 'tampered');
    await expect(RaftStorage.open(dir)).rejects.toMatchObject({ code: 'E_RAFT_SNAPSHOT_MISSING' });
  });

  it('refuses with E_RAFT_STORAGE_CORRUPT a log whose entries leave a hole', async () => {
    const dir = workspace.fresh('hole');
    const { storage } = await RaftStorage.open(dir);
    await expect(storage.save(ready([entry(1, 1), entry(3, 1)]))).rejects.toMatchObject({ code: 'E_RAFT_STORAGE_CORRUPT' });
    await storage.close();
    const { wal } = await Wal.open(join(dir, 'wal'), { fsync: 'none' });
    for (const index of [1, 3]) await wal.append({ term: 1, op: 'put', key: 'raft.entry', request_id: `i${index}`, if_version: null, value: new Uint8Array([1]) });
    await wal.close();
    await expect(RaftStorage.open(dir)).rejects.toMatchObject({ code: 'E_RAFT_STORAGE_CORRUPT' });
  });
});

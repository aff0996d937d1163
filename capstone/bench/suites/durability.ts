/**
 * The `durability` suite: week 10's DurableKv against SQLite and against the raw system
 * calls underneath it. Every put carries a 100-byte value and is acknowledged only after
 * fdatasync.
 *
 * | figure | subject | peer / limit | target |
 * |---|---|---|---|
 * | 1 writer: put latency vs raw | DurableKv `always`, one put at a time | limit: `pwrite` + `fdatasync` of a record of the same size | ≤ 1.2× |
 * | 1 writer: put latency vs SQLite | the same | peer: better-sqlite3, WAL mode, `synchronous=FULL`, one row per transaction | — |
 * | 64 writers: throughput vs SQLite | DurableKv `group`, 64 concurrent writers | peer: SQLite as above (one connection: its writes are serial anyway) | ≥ 10× |
 * | 64 writers: throughput vs raw batches | the same | limit: one `pwrite` + `fdatasync` per 64 records | ≥ 0.4× |
 * | 64 writers: p99 vs one fsync | p99 put latency under group commit | limit: p99 of one `pwrite` + `fdatasync` | ≤ 3× |
 * | 64 writers: bare group commit p99 vs one fsync | the least a group commit does (one loop: `pwrite` what is queued, `fdatasync`, release) | limit: as above | — |
 * | 64 writers: p99 vs bare group commit | DurableKv `group`, 64 writers | limit: the bare group commit | — |
 *
 * The bare group commit shows what the disk allows: under 64 writers every slow
 * `fdatasync` holds up every writer, so the tail of any group commit carries the disk's
 * worst syncs, which one writer's p99 mostly does not see. The last figure is the share of
 * the tail that is DurableKv's own.
 *
 * After every trial the subject is reopened (a real recovery) and must hold every write
 * it acknowledged; the raw files must have the exact length written. Files live in the
 * suite's scratch directory under `$TMPDIR`: TMPDIR decides which disk is measured (on
 * tmpfs fdatasync costs nothing and every ratio is meaningless).
 * @module
 */
import { close, fdatasync, open, statSync, write } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DurableKv, encodeWalRecord, type FsyncPolicy } from '../../../lib/wal.ts';
import type { Figure, Suite, SuiteContext, Trial, Workload } from '../harness.ts';
import { seededRandom, seededText } from '../random.ts';

/** Bytes in every value put. */
export const VALUE_BYTES = 100;
/** Concurrent writers in the group-commit figures. */
export const WRITERS = 64;

function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'w', 0o640, (error, fd) => (error ? reject(error) : resolve(fd))));
}
function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
}
function pwrite(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => write(fd, bytes, 0, bytes.length, position, (error, n) => (error ? reject(error) : n === bytes.length ? resolve() : reject(new Error('short write')))));
}
function sync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

/** Numbers every trial's files, so no two trials of any workload share a path. */
let trials = 0;

/** The suite's inputs: seeded 100-byte values and the WAL record size they make. */
function makeValues(count: number, seed: number): { values: string[]; recordBytes: number } {
  const random = seededRandom(seed);
  const values = Array.from({ length: count }, () => seededText(random, VALUE_BYTES));
  const probe = encodeWalRecord(1, { term: 0, op: 'put', key: 'k000000', request_id: 'r000000', if_version: null, value: new TextEncoder().encode(values[0]!) });
  return { values, recordBytes: probe.bytes.length };
}

/** DurableKv under `policy`, `writers` concurrent writers, each put's latency recorded. */
function durableWorkload(ctx: SuiteContext, label: string, policy: FsyncPolicy, writers: number, values: readonly string[]): Workload {
  return {
    label,
    async prepare(): Promise<Trial> {
      const dir = join(ctx.tmpDir, `durable-${policy}-${writers}-${trials++}`);
      const kv = await DurableKv.open(dir, { fsync: policy });
      const latencies: number[] = [];
      return {
        async run() {
          let next = 0;
          const writer = async (): Promise<void> => {
            while (next < values.length) {
              const i = next++;
              const start = performance.now();
              const result = await kv.apply({ op: 'put', request_id: `r${String(i).padStart(6, '0')}`, key: `k${String(i).padStart(6, '0')}`, value: values[i]! });
              latencies.push((performance.now() - start) / 1000);
              if (!result.ok) throw new Error(`put ${i} refused: ${result.code}`);
            }
          };
          await Promise.all(Array.from({ length: writers }, writer));
        },
        async finish() {
          const stats = kv.walStats;
          await kv.close();
          const again = await DurableKv.open(dir, { fsync: policy });
          ctx.check(again.appliedLsn === values.length, `${label}: reopened store holds ${again.appliedLsn} of ${values.length} acknowledged puts`);
          ctx.check(policy === 'none' || stats.syncs >= 1, `${label}: no fdatasync was issued`);
          await again.close();
        },
        latencies: () => latencies,
      };
    },
  };
}

/**
 * A workload of raw appends to a fresh file `name-<trial>.log`: `run` writes `ops` records
 * of `recordBytes` through the descriptor and records each one's latency; afterwards the
 * file must hold exactly those bytes.
 */
function appendFileWorkload(ctx: SuiteContext, label: string, name: string, recordBytes: number, ops: number,
  run: (fd: number, latencies: number[]) => Promise<void>): Workload {
  return {
    label,
    async prepare(): Promise<Trial> {
      const path = join(ctx.tmpDir, `${name}-${trials++}.log`);
      const fd = await openFd(path);
      const latencies: number[] = [];
      return {
        run: () => run(fd, latencies),
        async finish() {
          await closeFd(fd);
          ctx.check(statSync(path).size === ops * recordBytes, `${label}: file has ${statSync(path).size} bytes, expected ${ops * recordBytes}`);
        },
        latencies: () => latencies,
      };
    },
  };
}

/** Raw `pwrite` + `fdatasync` of `perSync` records of `recordBytes` at a time. */
function rawWorkload(ctx: SuiteContext, label: string, recordBytes: number, ops: number, perSync: number): Workload {
  const batch = new Uint8Array(recordBytes * perSync).fill(0x61);
  return appendFileWorkload(ctx, label, `raw-${perSync}`, recordBytes, ops, async (fd, latencies) => {
    let position = 0;
    for (let done = 0; done < ops; done += perSync) {
      const n = Math.min(perSync, ops - done);
      const start = performance.now();
      await pwrite(fd, batch.subarray(0, n * recordBytes), position);
      await sync(fd);
      const seconds = (performance.now() - start) / 1000;
      for (let k = 0; k < n; k++) latencies.push(seconds);
      position += n * recordBytes;
    }
  });
}

/**
 * The least any group commit does: `writers` writers in a closed loop queue a record each;
 * one loop writes whatever is queued with one `pwrite`, `fdatasync`s it, and releases
 * those writers. No store, no encoding, no pipelining: the tail this disk gives every group
 * commit, whatever runs on top.
 */
function bareGroupWorkload(ctx: SuiteContext, label: string, recordBytes: number, ops: number, writers: number): Workload {
  const records = new Uint8Array(recordBytes * writers).fill(0x61);
  return appendFileWorkload(ctx, label, `bare-${writers}`, recordBytes, ops, async (fd, latencies) => {
    let queued: { resolve(): void; reject(error: unknown): void }[] = [];
    let position = 0;
    let flushing = false;
    const flush = async (): Promise<void> => {
      while (queued.length > 0) {
        const group = queued;
        queued = [];
        try {
          await pwrite(fd, records.subarray(0, group.length * recordBytes), position);
          await sync(fd);
        } catch (error) {
          for (const waiter of [...group, ...queued]) waiter.reject(error);
          queued = [];
          break;
        }
        position += group.length * recordBytes;
        for (const waiter of group) waiter.resolve();
      }
      flushing = false;
    };
    const put = (): Promise<void> => new Promise((resolve, reject) => {
      queued.push({ resolve, reject });
      if (!flushing) {
        flushing = true;
        queueMicrotask(() => void flush());
      }
    });
    let next = 0;
    await Promise.all(Array.from({ length: writers }, async () => {
      while (next < ops) {
        next++;
        const start = performance.now();
        await put();
        latencies.push((performance.now() - start) / 1000);
      }
    }));
  });
}

/** better-sqlite3: WAL journal, synchronous=FULL, one row per transaction. */
function sqliteWorkload(ctx: SuiteContext, values: readonly string[]): Workload {
  return {
    label: 'SQLite WAL sync=FULL',
    prepare(): Trial {
      const path = join(ctx.tmpDir, `sqlite-${trials++}.db`);
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, request_id TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO kv (key, value, request_id) VALUES (?, ?, ?)');
      const latencies: number[] = [];
      return {
        run() {
          // Autocommit: every statement is its own transaction, fsynced before it returns.
          for (const [i, value] of values.entries()) {
            const start = performance.now();
            insert.run(`k${String(i).padStart(6, '0')}`, value, `r${i}`);
            latencies.push((performance.now() - start) / 1000);
          }
        },
        finish() {
          const row = db.prepare('SELECT count(*) AS n FROM kv').get() as { n: number };
          db.close();
          ctx.check(row.n === values.length, `SQLite holds ${row.n} of ${values.length} rows`);
        },
        latencies: () => latencies,
      };
    },
  };
}

/** The `durability` suite. */
export const DURABILITY_SUITE: Suite = {
  name: 'durability',
  title: 'durable 100-byte puts: DurableKv vs SQLite vs raw pwrite+fdatasync',
  figures(ctx): Figure[] {
    const single = ctx.short ? 20 : 400;
    const many = ctx.short ? 256 : 12_800;
    const tail = ctx.short ? 128 : 3_200;
    const one = makeValues(single, ctx.seed);
    const group = makeValues(many, ctx.seed + 1);
    const ours1 = durableWorkload(ctx, 'DurableKv always', 'always', 1, one.values);
    const ours64 = durableWorkload(ctx, `DurableKv group ×${WRITERS}`, 'group', WRITERS, group.values);
    const oursTail = durableWorkload(ctx, `DurableKv group ×${WRITERS}`, 'group', WRITERS, group.values.slice(0, tail));
    const bareTail = bareGroupWorkload(ctx, `bare group commit ×${WRITERS}`, group.recordBytes, tail, WRITERS);
    const oneSync = rawWorkload(ctx, 'pwrite+fdatasync', group.recordBytes, tail, 1);
    return [
      { name: '1 writer: put vs raw append+fdatasync', metric: 'latency', unit: 'put', ops: single, bytesPerOp: one.recordBytes,
        subject: ours1, peer: rawWorkload(ctx, 'pwrite+fdatasync', one.recordBytes, single, 1), relation: 'limit', target: { atMost: 1.2 } },
      { name: '1 writer: put vs SQLite', metric: 'latency', unit: 'put', ops: single,
        subject: ours1, peer: sqliteWorkload(ctx, one.values), relation: 'peer' },
      { name: `${WRITERS} writers: puts/s vs SQLite`, metric: 'throughput', unit: 'put', ops: many,
        subject: ours64, peer: sqliteWorkload(ctx, group.values), relation: 'peer', target: { atLeast: 10 } },
      { name: `${WRITERS} writers: puts/s vs raw ${WRITERS} per fdatasync`, metric: 'throughput', unit: 'put', ops: many, bytesPerOp: group.recordBytes,
        subject: ours64, peer: rawWorkload(ctx, `pwrite+fdatasync ×${WRITERS}`, group.recordBytes, many, WRITERS), relation: 'limit', target: { atLeast: 0.4 } },
      { name: `${WRITERS} writers: p99 vs one fdatasync`, metric: 'p99', unit: 'put', ops: tail,
        subject: oursTail, peer: oneSync, relation: 'limit', target: { atMost: 3 } },
      { name: `${WRITERS} writers: bare group commit p99 vs one fdatasync`, metric: 'p99', unit: 'put', ops: tail,
        subject: bareTail, peer: oneSync, relation: 'limit' },
      { name: `${WRITERS} writers: p99 vs bare group commit`, metric: 'p99', unit: 'put', ops: tail,
        subject: oursTail, peer: bareTail, relation: 'limit' },
    ];
  },
};

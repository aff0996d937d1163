/**
 * The `logger` suite: week 1's record log against the system calls underneath it.
 *
 * | figure | subject | limit |
 * |---|---|---|
 * | append 100 B (no sync) | `LogWriter.append` (encode + `FileHandle.write`) | `fs.write` of the same pre-encoded bytes on an `O_APPEND` fd |
 * | append 100 B + sync | `LogWriter.append` with `sync: true` (write + fsync) | `fs.write` + `fs.fdatasync` per record |
 * | CLI start-up | `node capstone/bin/civictrust.mjs log --help` (loads week 1's group, as `log append` does) | `node -e 0` |
 *
 * Every record is 100 bytes on disk (newline included), generated from the run's seed.
 * After each trial the file is read back and must equal the expected bytes exactly, on
 * both sides, so a writer that drops or reorders records fails the run instead of
 * looking fast. Files live in the suite's scratch directory (under `$TMPDIR`): point
 * `TMPDIR` at the disk you care about, since fsync on tmpfs costs nothing.
 * @module
 */
import { execFile } from 'node:child_process';
import { close, fdatasync, open, write } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRecord, LogWriter, type LogRecord } from '../../../lib/logger.ts';
import type { Figure, Suite, SuiteContext, Trial, Workload } from '../harness.ts';
import { seededRandom, seededText } from '../random.ts';

/** The encoded size of every record, newline included. */
export const RECORD_BYTES = 100;

/** The `civictrust` executable, as an absolute path. */
const CLI_BIN = fileURLToPath(new URL('../../bin/civictrust.mjs', import.meta.url));

/**
 * Builds `count` distinct records of exactly {@link RECORD_BYTES} encoded bytes each,
 * from a seed: fixed timestamp, counter ids, a seeded message padded to size.
 * @param count - how many records
 * @param seed - the generator's seed
 * @returns the records and their concatenated encoding
 */
export function makeRecords(count: number, seed: number): { records: LogRecord[]; lines: Uint8Array[]; bytes: Uint8Array } {
  const random = seededRandom(seed);
  const shell = (i: number, msg: string): LogRecord => ({
    ts: '2026-01-01T00:00:00.000Z',
    id: `r-${String(i).padStart(8, '0')}`,
    level: 'info',
    msg,
  });
  // Every record has the same shape, so one probe gives the message length for all.
  const overhead = encodeRecord(shell(0, 'x')).length - 1;
  const msgLength = RECORD_BYTES - overhead;
  if (msgLength < 1) throw new RangeError(`record overhead ${overhead} leaves no room for a message`);
  const records: LogRecord[] = [];
  const lines: Uint8Array[] = [];
  const bytes = new Uint8Array(count * RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    const record = shell(i, seededText(random, msgLength));
    const line = encodeRecord(record);
    if (line.length !== RECORD_BYTES) throw new RangeError(`record ${i} encodes to ${line.length} bytes, not ${RECORD_BYTES}`);
    records.push(record);
    lines.push(line);
    bytes.set(line, i * RECORD_BYTES);
  }
  return { records, lines, bytes };
}

/** `fs.open` as a promise. */
function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, 0o640, (error, fd) => (error ? reject(error) : resolve(fd))));
}

/** `fs.close` as a promise. */
function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
}

/** `fs.write` of a whole buffer at the fd's position (the end, under O_APPEND), as a promise. */
function writeFd(fd: number, bytes: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) =>
    write(fd, bytes, 0, bytes.length, null, (error, written) => (error ? reject(error) : resolve(written))),
  );
}

/** `fs.fdatasync` as a promise. */
function fdatasyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

/** Runs a command and resolves with its stdout; rejects on a non-zero exit. */
function runProcess(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, [...args], { encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

/** The two append workloads over one set of records, writing fresh files in `dir`. */
function appendWorkloads(ctx: SuiteContext, data: ReturnType<typeof makeRecords>, sync: boolean): { subject: Workload; peer: Workload } {
  let trial = 0;
  const fresh = (kind: string): string => join(ctx.tmpDir, `${kind}-${sync ? 'sync' : 'nosync'}-${trial++}.log`);
  // Read back and compare byte for byte: a fast writer that loses records must fail.
  const verify = async (path: string, who: string): Promise<void> => {
    const got = await readFile(path);
    ctx.check(got.length === data.bytes.length, `${who} wrote ${got.length} bytes, expected ${data.bytes.length}`);
    ctx.check(Buffer.compare(got, data.bytes) === 0, `${who} wrote different bytes than the encoded records`);
    await unlink(path);
  };

  const subject: Workload = {
    label: sync ? 'LogWriter.append sync' : 'LogWriter.append',
    async prepare(): Promise<Trial> {
      const path = fresh('logwriter');
      const writer = await LogWriter.open(path, { sync });
      return {
        async run() {
          for (const record of data.records) await writer.append(record);
        },
        async finish() {
          await writer.close();
          await verify(path, 'LogWriter.append');
        },
      };
    },
  };

  const peer: Workload = {
    label: sync ? 'fs.write+fdatasync' : 'raw fs.write',
    async prepare(): Promise<Trial> {
      const path = fresh('raw');
      const fd = await openFd(path, 'a');
      let short = 0;
      return {
        async run() {
          for (const line of data.lines) {
            if ((await writeFd(fd, line)) !== line.length) short++;
            if (sync) await fdatasyncFd(fd);
          }
        },
        async finish() {
          await closeFd(fd);
          ctx.check(short === 0, `raw fs.write returned ${short} short writes`);
          await verify(path, 'raw fs.write');
        },
      };
    },
  };
  return { subject, peer };
}

/** CLI start-up against a bare node start, `ops` invocations per trial. */
function startupWorkloads(ctx: SuiteContext, ops: number): { subject: Workload; peer: Workload } {
  const subject: Workload = {
    label: 'civictrust log --help',
    prepare: () => ({
      async run() {
        for (let i = 0; i < ops; i++) {
          const out = await runProcess(process.execPath, [CLI_BIN, 'log', '--help']);
          ctx.check(out.startsWith('Usage: civictrust log <verb>'), `civictrust log --help printed ${JSON.stringify(out.slice(0, 80))}`);
        }
      },
    }),
  };
  const peer: Workload = {
    label: 'node -e 0',
    prepare: () => ({
      async run() {
        for (let i = 0; i < ops; i++) await runProcess(process.execPath, ['-e', '0']);
      },
    }),
  };
  return { subject, peer };
}

/** The `logger` suite. */
export const LOGGER_SUITE: Suite = {
  name: 'logger',
  title: 'week 1 record log: LogWriter appends vs raw fs.write, CLI start-up vs node -e 0',
  figures(ctx: SuiteContext): readonly Figure[] {
    const plainOps = ctx.short ? 200 : 20_000;
    const syncOps = ctx.short ? 10 : 2_000;
    const startOps = ctx.short ? 1 : 5;
    const plain = appendWorkloads(ctx, makeRecords(plainOps, ctx.seed), false);
    const synced = appendWorkloads(ctx, makeRecords(syncOps, ctx.seed + 1), true);
    const startup = startupWorkloads(ctx, startOps);
    return [
      {
        name: `append ${RECORD_BYTES} B (no sync)`, metric: 'throughput', unit: 'rec', ops: plainOps, bytesPerOp: RECORD_BYTES,
        ...plain, relation: 'limit', target: { atLeast: 0.7 },
      },
      {
        name: `append ${RECORD_BYTES} B + sync`, metric: 'throughput', unit: 'rec', ops: syncOps, bytesPerOp: RECORD_BYTES,
        ...synced, relation: 'limit', target: { atLeast: 0.8 },
      },
      {
        name: 'CLI start-up', metric: 'latency', unit: 'run', ops: startOps,
        ...startup, relation: 'limit', target: { atMost: 5 },
      },
    ];
  },
};

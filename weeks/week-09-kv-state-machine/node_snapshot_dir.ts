/**
 * Snapshot files on disk: written so that a crash at any instant leaves either the old
 * file set or the new one, and loaded so that a damaged newest file falls back to the
 * previous good one with the failure reported.
 *
 * Writing, step by step (what `strace -f -e trace=openat,write,fsync,rename` shows):
 *
 * 1. open `snapshot-<lsn>.ctkv.tmp` exclusively and write the bytes;
 * 2. `fsync` the file: its data is on disk before any name points at it;
 * 3. `rename` it to `snapshot-<lsn>.ctkv`: atomic on POSIX, readers see all or nothing;
 * 4. `fsync` the directory: the rename itself is on disk (without it, a power cut can
 *    bring back the old directory entry).
 * @module
 */
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorFactory, isCivicError } from '../../lib/errors.ts';
import { KV_ERRORS } from './catalog.ts';
import { KvStateMachine, type KvStateMachineOptions } from './state_machine.ts';

/** Snapshot file names: `snapshot-` + the LSN as 16 zero-padded digits + `.ctkv`, so names sort by LSN. */
export const SNAPSHOT_FILE = /^snapshot-(\d{16})\.ctkv$/;

/** A snapshot file that was skipped, and why. */
export interface SnapshotFailure {
  /** The file's path. */
  readonly file: string;
  /** The refusal's code (`E_SNAPSHOT_*`, or an `E_IO`-style code when it could not be read). */
  readonly code: string;
  /** The refusal's message. */
  readonly message: string;
}

/** What {@link loadNewestSnapshot} found. */
export interface SnapshotLoad {
  /** The restored state machine. */
  readonly machine: KvStateMachine;
  /** The file it came from. */
  readonly file: string;
  /** Newer files that were refused, newest first: each one is reported, none applied. */
  readonly failures: readonly SnapshotFailure[];
}

const fail = errorFactory(KV_ERRORS);

/** The file name of the snapshot at `lsn`. */
export function snapshotFileName(lsn: number): string {
  return `snapshot-${String(lsn).padStart(16, '0')}.ctkv`;
}

// #region write-snapshot
/**
 * Writes `bytes` as the snapshot at `lsn` in `dir`, durably: temp file, fsync, rename,
 * directory fsync.
 * @returns the final path
 */
export async function writeSnapshot(dir: string, bytes: Uint8Array, lsn: number): Promise<string> {
  const final = join(dir, snapshotFileName(lsn));
  const temp = `${final}.tmp`;
  await rm(temp, { force: true }); // a leftover from a crash mid-write is garbage by definition
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, final);
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return final;
}
// #endregion write-snapshot

/** The snapshot files of `dir`, newest (highest LSN) first. */
export async function listSnapshots(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => SNAPSHOT_FILE.test(name));
  return names.sort().reverse().map((name) => join(dir, name));
}

// #region load-snapshot
/**
 * Restores the newest snapshot of `dir` that passes every check, reporting each newer
 * one it had to skip.
 * @param dir - the snapshot directory
 * @param options - the digest the restored machine hashes with (default: the pure one)
 * @throws CivicError `E_SNAPSHOT_NONE` when no file passes (the failures are in its message)
 */
export async function loadNewestSnapshot(dir: string, options: Pick<KvStateMachineOptions, 'hashText'> = {}): Promise<SnapshotLoad> {
  const failures: SnapshotFailure[] = [];
  for (const file of await listSnapshots(dir)) {
    try {
      const machine = KvStateMachine.restore(new Uint8Array(await readFile(file)), options);
      return { machine, file, failures };
    } catch (error) {
      const code = isCivicError(error) ? error.code : 'E_SNAPSHOT_MALFORMED';
      failures.push({ file, code, message: error instanceof Error ? error.message : String(error) });
    }
  }
  const detail = failures.map((f) => `${f.file}: ${f.code}`).join('; ');
  throw fail('E_SNAPSHOT_NONE', `Cannot load a snapshot from ${dir}: ${failures.length === 0 ? 'there is none' : `every file was refused (${detail})`}`);
}
// #endregion load-snapshot

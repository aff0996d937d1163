/**
 * Node adapter between the gate table and the file system: which week folders exist,
 * which of them are built, and how a learner names a week on the command line.
 *
 * Vitest's file filter matches by substring, so `week-1` would also select
 * `week-10-…`. This module resolves a week to the one folder named `week-NN-<slug>`
 * and hands the runner that folder's exact `gate.test.ts` path.
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GateError } from './gate_error.ts';
import { GATE_TABLE } from './table.ts';

/** One chapter folder under `weeks/`. */
export interface WeekFolder {
  /** Week number, 1-24. */
  readonly week: number;
  /** Absolute path of the folder. */
  readonly dir: string;
  /** Folder name, e.g. `week-01-cli-logger`. */
  readonly name: string;
  /** Absolute path of the folder's `gate.test.ts`, or `undefined` while the week is not built. */
  readonly gateFile: string | undefined;
}

/** `week-NN-<slug>`: two-digit week, lower-case slug words joined by dashes. */
const FOLDER_NAME = /^week-(\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** `1`, `01`, `week-1`, `week-01`. */
const WEEK_ARG = /^(?:week-)?(\d{1,2})$/;

/**
 * Lists the week folders under `<root>/weeks`, keyed by week number.
 * Entries that are not `week-NN-<slug>` directories for a week in the table are ignored.
 * @param root - the repository root (or a fixture tree shaped like it)
 * @returns a map from week number to its folder; empty when `weeks/` does not exist
 * @throws {@link GateError} `E_GATE_DUPLICATE_WEEK` when two folders claim one week
 */
export function findWeekFolders(root: string): Map<number, WeekFolder> {
  const weeksDir = resolve(root, 'weeks');
  const folders = new Map<number, WeekFolder>();
  for (const name of listDirectories(weeksDir).sort()) {
    const match = FOLDER_NAME.exec(name);
    const week = Number(match?.[1]);
    if (match === null || week < 1 || week > GATE_TABLE.length) continue;
    const previous = folders.get(week);
    if (previous !== undefined) {
      throw new GateError(
        'E_GATE_DUPLICATE_WEEK',
        `Rename one of the week folders: both ${previous.name} and ${name} claim week ${week}`,
      );
    }
    const dir = join(weeksDir, name);
    const gate = join(dir, 'gate.test.ts');
    folders.set(week, { week, dir, name, gateFile: isFile(gate) ? gate : undefined });
  }
  return folders;
}

/**
 * Parses the week argument of `npm run gate -- <week>`.
 * @param arg - `1`, `01`, `week-1`, `week-01` (any week in 1-24) or `all`
 * @returns the week number, or `'all'`
 * @throws {@link GateError} `E_GATE_UNKNOWN_WEEK` for anything else (`0`, `25`, `week-x`, ``)
 */
export function parseWeekArg(arg: string): number | 'all' {
  if (arg === 'all') return 'all';
  const week = Number(WEEK_ARG.exec(arg)?.[1]);
  if (Number.isInteger(week) && week >= 1 && week <= GATE_TABLE.length) return week;
  throw new GateError(
    'E_GATE_UNKNOWN_WEEK',
    `Cannot run gate: no week ${JSON.stringify(arg)} (expected 1-${GATE_TABLE.length}, week-N or all)`,
  );
}

/**
 * The gate file of a week, relative to the root, where it is or where it belongs.
 * @param week - week number, 1-24
 * @param folder - the week's folder, or `undefined` when there is none yet
 * @returns e.g. `weeks/week-01-cli-logger/gate.test.ts`, or `weeks/week-02-<slug>/gate.test.ts`
 */
export function gatePath(week: number, folder: WeekFolder | undefined): string {
  const name = folder?.name ?? `week-${String(week).padStart(2, '0')}-<slug>`;
  return `weeks/${name}/gate.test.ts`;
}

/** Names of the directories directly inside `dir`; none when `dir` does not exist. */
function listDirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Whether `path` exists and is a regular file. */
function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

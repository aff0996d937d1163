/**
 * Test support: a scratch directory for one test file, with fresh numbered paths in
 * it, readable by other users (the permission drills run commands as `nobody`).
 * @module
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A scratch directory and the paths handed out inside it. */
export interface Workspace {
  /** The directory itself. */
  readonly dir: string;
  /** A new path inside it, never handed out before: `<dir>/<n>-<name>`. */
  fresh(name: string): string;
  /** Deletes the directory and everything in it (call it from `afterAll`). */
  remove(): void;
}

/** Makes a scratch directory named after `label`, e.g. `civictrust-week1-XXXXXX`. */
export function makeWorkspace(label: string): Workspace {
  const dir = mkdtempSync(join(tmpdir(), `civictrust-${label}-`));
  chmodSync(dir, 0o755); // reachable by `nobody` for the permission cases
  let serial = 0;
  return {
    dir,
    fresh: (name) => join(dir, `${(serial += 1)}-${name}`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

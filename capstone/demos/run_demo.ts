/**
 * Test support for the demo tests: `run.mjs` as a real child process, under the tsx
 * loader, from the repository root.
 * @module
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TSX_LOADER } from '../../lib/testing.ts';

const RUN = fileURLToPath(new URL('./run.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a demo run printed, and how it ended (`code` null when it was killed, e.g. at the timeout). */
export interface DemoRun {
  /** The exit status, or null when the process ended by a signal. */
  code: number | null;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Runs `run.mjs` with `args`, killed after `timeoutMs`, and collects what it printed (up to 32 MiB per stream). */
export function runDemo(args: readonly string[], timeoutMs: number): Promise<DemoRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX_LOADER, RUN, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }));
  });
}

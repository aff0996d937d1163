/**
 * Test support: runs a CLI entry point (week 1's by default) as a real child
 * process and collects what it printed. Gates use it wherever only a real process
 * tells the truth: exit statuses, concurrent appenders, file permissions, signals.
 * @module
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The tsx loader, as a URL `node --import` accepts from any working directory. */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** What a finished CLI process left behind. */
export interface CliResult {
  /** The exit status, or -1 when a signal ended the process. */
  readonly code: number;
  /** Everything written to stdout. */
  readonly stdout: string;
  /** Everything written to stderr. */
  readonly stderr: string;
}

/** Options of {@link runCliProcess}. */
export interface RunCliOptions {
  /** Bytes or text fed to stdin, which is then closed. */
  readonly stdin?: string | Uint8Array;
  /** The working directory. */
  readonly cwd?: string;
  /** Run as this user id (needs root; uses `node_run_as.ts`, which loads `spec` first). */
  readonly uid?: number;
  /** With `uid`: the CLI to run, as a module exporting a `CliSpec` (default week 1's). */
  readonly spec?: {
    /** The module's path or URL. */
    readonly module: string | URL;
    /** The name of its exported `CliSpec`. */
    readonly name: string;
  };
  /** A command to run node under, e.g. `['prlimit', '--fsize=50']`. */
  readonly prefix?: readonly string[];
  /** The TypeScript entry point to run (default: week 1's `node_main.ts`). */
  readonly entry?: string | URL;
}

/**
 * Runs `civictrust <args>` through an entry point and waits for it to exit.
 * With `uid`, week 1's `node_run_as.ts` drops privileges first and runs `spec`
 * (`entry` is then ignored).
 */
export function runCliProcess(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const entry = options.uid !== undefined
    ? fileURLToPath(new URL('./node_run_as.ts', import.meta.url))
    : options.entry !== undefined ? (typeof options.entry === 'string' ? options.entry : fileURLToPath(options.entry))
      : fileURLToPath(new URL('./node_main.ts', import.meta.url));
  const spec = options.spec === undefined ? [] : ['--spec', `${typeof options.spec.module === 'string' ? options.spec.module : fileURLToPath(options.spec.module)}#${options.spec.name}`];
  const asUser = options.uid === undefined ? [] : ['--uid', String(options.uid), ...spec, '--'];
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
  const child = spawn(command as string, [...prefixArgs, '--import', TSX_LOADER, entry, ...asUser, ...args], {
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.on('error', () => {}); // the CLI may stop reading early (oversize input)
  child.stdin.end(options.stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** The code in the first `error[CODE]:` line of stderr, or undefined. */
export function errorCodeOf(stderr: string): string | undefined {
  return /^error\[([A-Z0-9_]+)\]:/m.exec(stderr)?.[1];
}

/**
 * Test support for network gates: a real server process ({@link startServerProcess}),
 * a raw TCP peer that can misbehave on purpose ({@link RawPeer}), and a poller for
 * JSON-lines logs that another process is still writing ({@link waitForRecords}).
 * Only a real process and a real socket tell the truth about startup failures,
 * signals, half-sent frames and crashes.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TSX_LOADER } from '../../lib/testing.ts';
import { FrameDecoder, MAX_FRAME_BYTES_LIMIT } from './frame.ts';

/** How a server process ended. */
export interface ProcessExit {
  /** The exit status, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
}

/** A running server process. */
export interface ServerProcess {
  /** The port it printed. */
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
  /** The child process handle. */
  readonly child: ChildProcess;
  /** Everything it has written to stderr so far. */
  stderr(): string;
  /** Everything it has written to stdout so far. */
  stdout(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<ProcessExit>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

/** Options of {@link startServerProcess}. */
export interface StartServerOptions {
  /** The TypeScript or JavaScript entry to run (default: week 2's `node_main.ts`, with `echo serve` prepended to the args). */
  readonly entry?: string;
  /** How long to wait for the `listening` line. Default 15 s. */
  readonly timeoutMs?: number;
}

const WEEK2_MAIN = fileURLToPath(new URL('./node_main.ts', import.meta.url));

/**
 * Starts a server process and waits until it prints `listening HOST:PORT`.
 * @param args - for the default entry, the flags after `echo serve` (`--port 0` is added
 *   unless a port is given); for another entry, its whole argument list
 * @param options - entry and startup deadline
 * @returns the running process
 * @throws Error with the process's stderr when it exits or stays silent instead
 */
export function startServerProcess(args: readonly string[] = [], options: StartServerOptions = {}): Promise<ServerProcess> {
  const entry = options.entry ?? WEEK2_MAIN;
  const argv = options.entry === undefined
    ? ['echo', 'serve', ...(args.includes('--port') || args.includes('-p') ? [] : ['--port', '0']), ...args]
    : [...args];
  const loader = entry.endsWith('.ts') ? ['--import', TSX_LOADER] : [];
  const child = spawn(process.execPath, [...loader, entry, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<ProcessExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not print "listening" within ${options.timeoutMs ?? 15_000} ms; stderr:\n${err}`));
    }, options.timeoutMs ?? 15_000);
    const onData = () => {
      const match = /^listening (?:\[[^\]]+\]|[^\s:]+):(\d+)$/m.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({
        port: Number(match[1]),
        pid: child.pid as number,
        child,
        stderr: () => err,
        stdout: () => out,
        exited,
        stop: (signal: NodeJS.Signals = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${exit.code ?? exit.signal}) before listening; stderr:\n${err}`));
    });
  });
}

/**
 * A raw TCP client for tests: writes exactly the bytes it is given, split exactly as
 * given, and reads whole frames back. It can stop mid-frame, dribble, or hang up.
 */
export class RawPeer {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES_LIMIT });
  readonly #frames: Uint8Array[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;
  /** Resolves when the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('error', () => {}); // a reset shows up as 'close'
    socket.on('data', (chunk: Uint8Array) => {
      this.#frames.push(...this.#decoder.push(chunk));
      this.#waiter?.();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.#closed = true;
      this.#waiter?.();
      resolve();
    }));
  }

  /** Connects to `host:port`. */
  static open(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  /** True once the socket has closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Writes bytes; resolves once Node has handed them to the kernel. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.#socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /** Writes `bytes` (if any), then sends FIN. */
  end(bytes?: Uint8Array): void {
    if (bytes === undefined) this.#socket.end();
    else this.#socket.end(bytes);
  }

  /** Closes at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  /**
   * The next whole frame payload received.
   * @param timeoutMs - how long to wait
   * @throws Error when the socket closes or the time runs out first
   */
  async readFrame(timeoutMs = 5000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length === 0) {
      if (this.#closed) throw new Error('the connection closed before a frame arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.#frames.shift() as Uint8Array;
  }
}

/** One record of a JSON-lines log, as plain JSON (fields flattened, as week 1 writes them). */
export type LoggedRecord = Readonly<Record<string, unknown>>;

/**
 * Reads a JSON-lines log that another process is still appending to, until
 * `done(records)` holds. Only complete lines are parsed.
 * @param path - the log file
 * @param done - the condition to wait for
 * @param timeoutMs - how long to wait
 * @returns the records read when the condition held
 * @throws Error listing the records seen when the time runs out
 */
export async function waitForRecords(path: string, done: (records: readonly LoggedRecord[]) => boolean, timeoutMs = 10_000): Promise<LoggedRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const records = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((line) => JSON.parse(line) as LoggedRecord);
    if (done(records)) return records;
    if (Date.now() > deadline) {
      throw new Error(`log condition not met within ${timeoutMs} ms; records:\n${records.map((r) => JSON.stringify(r)).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

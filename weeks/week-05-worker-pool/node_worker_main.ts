/**
 * The loop inside each pool worker thread: load the handler module, say which task
 * types it serves, then run the batches it is sent strictly one after another, each
 * task after the one before, and post every outcome back as data, on the results port
 * the pool handed over in `workerData`. A thrown error is turned into `{code, message,
 * definite}` here, before it reaches `postMessage`, because structured clone would
 * strip its class and its code.
 *
 * This thread owns nothing the pool reads: it keeps only the handler module's own
 * state (a key cache, for instance), and the pool never looks inside it.
 * @module
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { encodeTaskError, type FromWorker, type ToWorker, type WireResult } from './wire.ts';

/** A task handler: one input in, one output out (or a promise of it). */
export type TaskHandler = (input: never) => unknown;

/** What a handler module must export: `handlers`, an object of task handlers by type. */
export interface HandlerModule {
  /** The handlers, keyed by task type. */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
}

/** Runs one batch of tasks in order, timing each handler call. */
async function runBatch(handlers: Readonly<Record<string, TaskHandler>>, tasks: Extract<ToWorker, { kind: 'batch' }>['tasks']): Promise<WireResult[]> {
  const results: WireResult[] = [];
  for (const task of tasks) {
    const handler = Object.hasOwn(handlers, task.type) ? handlers[task.type] : undefined;
    const started = performance.now();
    try {
      if (handler === undefined) {
        throw Object.assign(new Error(`Cannot run task ${task.id}: no handler for type ${task.type}`), { code: 'E_TASK_UNKNOWN', definite: true });
      }
      const value = await handler(task.input as never);
      results.push({ id: task.id, ok: true, value, runMs: performance.now() - started });
    } catch (thrown) {
      results.push({ id: task.id, ok: false, error: encodeTaskError(thrown), runMs: performance.now() - started });
    }
  }
  return results;
}

/** Posts a batch's outcomes; a value that cannot be cloned becomes `E_TASK_UNCLONEABLE` for its task alone. */
function postResults(port: MessagePort, batch: number, results: WireResult[]): void {
  try {
    port.postMessage({ kind: 'done', batch, results } satisfies FromWorker);
  } catch {
    const safe = results.map((result): WireResult => {
      if (!result.ok) return result;
      try {
        structuredClone(result.value);
        return result;
      } catch (error) {
        return { id: result.id, ok: false, runMs: result.runMs, error: { code: 'E_TASK_UNCLONEABLE', message: `Cannot return the result of task ${result.id}: ${(error as Error).message}`, definite: false } };
      }
    });
    port.postMessage({ kind: 'done', batch, results: safe } satisfies FromWorker);
  }
}

/**
 * Serves tasks until the pool says stop. Called by the bootstrap with a function that
 * loads the handler module (through tsx, so it may be TypeScript) and the port on
 * which to post each batch's `done` (default: the parent port).
 */
export async function serveTasks(load: () => Promise<unknown>, results?: MessagePort): Promise<void> {
  const port = parentPort;
  if (port === null) throw new TypeError('serveTasks runs inside a worker thread only');
  const answers = results ?? port;
  let handlers: Readonly<Record<string, TaskHandler>>;
  try {
    const loaded = (await load()) as Partial<HandlerModule>;
    if (typeof loaded.handlers !== 'object' || loaded.handlers === null) throw new TypeError('the module does not export `handlers`');
    handlers = loaded.handlers;
  } catch (error) {
    port.postMessage({ kind: 'load-failed', error: { code: 'E_WORKER_LOAD', message: `Cannot load the handler module: ${(error as Error).message}`, definite: true } } satisfies FromWorker);
    return;
  }
  // #region serial
  // Batches run strictly in the order they arrive: the next starts only after this
  // one's `done` is posted, even when handlers are async. So a batch the pool has no
  // answer for means the thread has not started any batch behind it.
  let previous = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    previous = previous.then(async () => {
      if (message.kind === 'stop') {
        port.close();
        answers.close();
        return;
      }
      postResults(answers, message.batch, await runBatch(handlers, message.tasks));
    }).catch(() => {
      // An answer that cannot be posted must not let the next batch start unseen: end
      // the thread, and the pool counts this batch as the one it died in.
      process.exit(1);
    });
  });
  // #endregion serial
  port.postMessage({ kind: 'ready', types: Object.keys(handlers).filter((type) => typeof handlers[type] === 'function') } satisfies FromWorker);
}

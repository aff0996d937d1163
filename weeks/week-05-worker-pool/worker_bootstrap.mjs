/**
 * The first file a pool worker thread runs. Plain JavaScript on purpose: Node starts a
 * thread from a file it can load with no loader at all, under `node --import tsx`,
 * under vitest and from the CLI alike. On Node 20 the module hooks that tsx installs
 * in the main thread do not reach worker threads, so this file asks tsx for a scoped
 * loader (`tsImport`) and loads the worker runtime and the handler module through it;
 * both may then be TypeScript. `workerData.results` is the port for batch answers.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { runtime, handlers, results } = workerData;
const { serveTasks } = await tsImport(runtime, import.meta.url);
await serveTasks(() => tsImport(handlers, import.meta.url), results);

/**
 * The week 12 replica process: week 11's replica (`runReplicaProcess`) applying committed
 * entries to {@link TtlDedupeKv}, so a retried request id gets its first answer on every
 * replica for the dedupe TTL, and a later one is refused instead of applied twice.
 *
 * ```text
 *  node --import tsx weeks/week-12-election/node_cluster_main.ts --config cluster.json --id n1 [--ttl-ms 600000]
 * ```
 *
 * Same config, output and signals as week 11's `node_replica_main.ts`.
 * @module
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { replicaProcessMain } from '../../lib/replication.ts';
import { TtlDedupeKv } from './dedupe_ttl.ts';

/** How long a request id's first answer is kept for its retries by default: 10 minutes. */
export const DEFAULT_DEDUPE_TTL_MS = 10 * 60 * 1000;

/**
 * Starts the week 12 replica with the arguments given (`--ttl-ms N` is taken out before the
 * rest go to week 11's process).
 * @param argv - the arguments after the script name
 */
export function clusterNodeMain(argv: readonly string[]): void {
  const rest = [...argv];
  const at = rest.indexOf('--ttl-ms');
  let ttlMs = DEFAULT_DEDUPE_TTL_MS;
  if (at >= 0) {
    ttlMs = Number(rest[at + 1]);
    rest.splice(at, 2);
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) {
      process.stderr.write('error[E_USAGE_VALUE]: Cannot start: --ttl-ms takes a positive integer\n');
      process.exitCode = 2;
      return;
    }
  }
  replicaProcessMain(rest, { app: () => new TtlDedupeKv({ ttlMs }), usage: 'node_cluster_main.ts [--ttl-ms N]' });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) clusterNodeMain(process.argv.slice(2));

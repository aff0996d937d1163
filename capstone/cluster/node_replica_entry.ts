/**
 * The process each node of a launched cluster runs: week 12's replica (week 11's Raft
 * replica applying through the replicated TTL dedupe table), reached through its barrel.
 *
 * ```text
 *  node --import tsx capstone/cluster/node_replica_entry.ts --config cluster.json --id n1 [--ttl-ms N]
 * ```
 * @module
 */
import { clusterNodeMain } from '../../lib/election.ts';

clusterNodeMain(process.argv.slice(2));

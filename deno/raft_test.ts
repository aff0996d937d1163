/**
 * The Raft core under Deno: week 11's deterministic simulator runs a few seeds of faults
 * (drops, duplicates, partitions, crashes and restarts) with every invariant checked, and
 * each client history must be linearizable.
 * @module
 */
import { checkOperations, kvModel } from '../weeks/week-11-replication/linearizability.ts';
import { runSeed } from '../weeks/week-11-replication/sim.ts';
import { assert, assertEquals } from './assert.ts';

/** Seeds run here: a handful, so the check stays quick; `npm run sim` sweeps thousands under Node. */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

for (const seed of SEEDS) {
  Deno.test(`Raft simulator: seed ${seed} keeps every invariant and a linearizable history`, () => {
    const result = runSeed(seed);
    assert(result.commitIndex > 0, `seed ${seed}: nothing was committed`);
    assertEquals(checkOperations(kvModel, result.history).verdict, 'ok', `seed ${seed}: linearizability verdict`);
  });
}

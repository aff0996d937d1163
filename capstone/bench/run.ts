/**
 * Entry point of `npm run bench`: the one list of suites, handed to the bench CLI.
 *
 * To add a suite, write `capstone/bench/suites/<name>.ts` exporting a `Suite` (see
 * `harness.ts`) and add it to {@link SUITES}. A bare run runs them in this order.
 * @module
 */
import { nodeIo } from '../../lib/cli.ts';
import { benchMain } from './cli.ts';
import type { Suite } from './harness.ts';
import { CLUSTER_SUITE } from './suites/cluster.ts';
import { DURABILITY_SUITE } from './suites/durability.ts';
import { FRAMING_SUITE } from './suites/framing.ts';
import { HASHING_SUITE } from './suites/hashing.ts';
import { LOGGER_SUITE } from './suites/logger.ts';
import { POOL_SUITE } from './suites/pool.ts';
import { SIGNING_SUITE } from './suites/signing.ts';

/** Every benchmark suite, in run order. */
export const SUITES: readonly Suite[] = [LOGGER_SUITE, FRAMING_SUITE, POOL_SUITE, HASHING_SUITE, SIGNING_SUITE, DURABILITY_SUITE, CLUSTER_SUITE];

process.exitCode = await benchMain(process.argv.slice(2), nodeIo(), SUITES);

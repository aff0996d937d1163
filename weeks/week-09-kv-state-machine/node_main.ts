/**
 * Runs week 9's CLI as a process: `node --import tsx weeks/week-09-kv-state-machine/node_main.ts kv serve --keys DIR`.
 * The gate and the CLI tests start `kv serve`, `kv put`, `kv get` and `kv del` through this entry point.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK9_CLI } from './node_kv_cli.ts';

await runMain(WEEK9_CLI);

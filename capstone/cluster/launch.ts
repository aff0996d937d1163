/**
 * `npm run cluster -- [flags]`: the cluster launcher, which is `civictrust cluster start`
 * run as its own program (same flags, output, exit statuses and error codes).
 *
 * ```text
 *  npm run cluster                       3 nodes in a new temp directory, until Ctrl-C
 *  npm run cluster -- --nodes 5 --dir ./c --json
 *  npm run cluster -- --dir ./c          restart a stopped cluster with its data
 * ```
 * @module
 */
import { nodeIo, runCli } from '../../lib/cli.ts';
import { loadCli } from '../civictrust.ts';

const argv = ['cluster', 'start', ...process.argv.slice(2)];
process.exitCode = await runCli(argv, await loadCli(argv), nodeIo());

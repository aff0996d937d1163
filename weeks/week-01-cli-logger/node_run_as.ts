/**
 * Runs a week's CLI after dropping root privileges:
 * `node --import tsx node_run_as.ts --uid 65534 [--spec FILE.ts#EXPORT] -- log append …`.
 * Root ignores file modes and may bind any port, so a drill that needs a refusal must
 * first become an ordinary user. All code is loaded while still root (the spec module
 * included); only the command itself runs as the target user, the way daemons drop
 * privileges after binding their ports. Without `--spec`, week 1's CLI runs.
 * @module
 */
import { pathToFileURL } from 'node:url';
import type { CliSpec } from './cli.ts';
import { runMain } from './node_cli.ts';
import { WEEK1_CLI } from './node_log_cli.ts';

const argv = process.argv.slice(2);
const end = argv.indexOf('--');
const options = new Map<string, string>();
for (let i = 0; i + 1 < (end === -1 ? 0 : end); i += 2) options.set(argv[i] as string, argv[i + 1] as string);
const uid = options.get('--uid');
const specArg = options.get('--spec');
if (end === -1 || uid === undefined || !/^\d+$/.test(uid) || [...options.keys()].some((k) => k !== '--uid' && k !== '--spec')) {
  process.stderr.write('usage: node_run_as.ts --uid N [--spec FILE.ts#EXPORT] -- <civictrust arguments>\n');
  process.exit(2);
}
let spec: CliSpec = WEEK1_CLI;
if (specArg !== undefined) {
  const [file, name] = specArg.split('#') as [string, string | undefined];
  spec = (await import(pathToFileURL(file).href) as Record<string, CliSpec>)[name ?? ''] as CliSpec;
}
if (process.getuid?.() === 0) {
  process.setgroups?.([]); // drop root's supplementary groups too
  process.setgid?.(Number(uid));
  process.setuid?.(Number(uid));
}
process.argv.splice(2, end + 1);
await runMain(spec);

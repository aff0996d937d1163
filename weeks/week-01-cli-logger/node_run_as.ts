/**
 * Runs week 1's CLI after dropping root privileges: `node --import tsx node_run_as.ts
 * --uid 65534 -- log append …`. Root ignores file modes, so a permission drill run
 * as root must first become an ordinary user. All code is loaded while still root;
 * only the command itself runs as the target user, the way daemons drop privileges
 * after binding their ports.
 * @module
 */
import { runMain } from './node_cli.ts';
import { WEEK1_CLI } from './node_log_cli.ts';

const [flag, uid, separator] = process.argv.slice(2, 5);
if (flag !== '--uid' || uid === undefined || !/^\d+$/.test(uid) || separator !== '--') {
  process.stderr.write('usage: node_run_as.ts --uid N -- <civictrust arguments>\n');
  process.exit(2);
}
if (process.getuid?.() === 0) {
  process.setgroups?.([]); // drop root's supplementary groups too
  process.setgid?.(Number(uid));
  process.setuid?.(Number(uid));
}
process.argv.splice(2, 3);
await runMain(WEEK1_CLI);

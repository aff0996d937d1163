#!/usr/bin/env node
/**
 * `npm run demo -- <name> [flags]`: runs one of the monthly demos. Each demo is a zx
 * script that starts real processes on 127.0.0.1, checks what they do, prints a
 * verdict per step, and exits 0 only when every check passed.
 *
 *   npm run demo -- --help            this list
 *   npm run demo -- month-1 --help    one demo's flags
 *   npm run demo -- month-1 --quick   a short run (about 12 s)
 *
 * An unknown name exits 2 with `error[E_DEMO_UNKNOWN]: …` and a `hint:` line.
 * @module
 */
import { register } from 'tsx/esm/api';

/** The demos, by the name given on the command line. */
export const DEMOS = {
  'month-1': {
    file: './month_1.mjs',
    summary: 'Byte Wrangler: framed echo under load from 50 clients, /healthz traced by request id, SIGKILL and recovery',
  },
  'month-2': {
    file: './month_2.mjs',
    summary: 'Signed and Shielded: one node accepting only signed requests under overload control; replay, tamper, overload, Slowloris, drain',
  },
  'month-3': {
    file: './month_3.mjs',
    summary: 'Many Nodes, One Truth: a 3-node replicated KV cluster under signed write load; leader SIGKILLed, failover, catch-up, duplicate, linearizability proven',
  },
};

/** The usage text. */
function usage() {
  const width = Math.max(...Object.keys(DEMOS).map((name) => name.length));
  return [
    'Usage: npm run demo -- <name> [flags]',
    '       node --import tsx capstone/demos/run.mjs <name> [flags]',
    '',
    'Runs one monthly demo against real processes on 127.0.0.1 and prints a verdict per step.',
    '',
    'Demos:',
    ...Object.entries(DEMOS).map(([name, demo]) => `  ${name.padEnd(width)}  ${demo.summary}`),
    '',
    'Run `npm run demo -- <name> --help` for the flags of one demo.',
    '',
  ].join('\n');
}

const [name, ...rest] = process.argv.slice(2);
if (name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
} else if (name === undefined) {
  process.stderr.write(usage());
  process.stderr.write('error[E_DEMO_UNKNOWN]: Cannot run a demo: no name given\nhint: Name one of the demos listed above\n');
  process.exitCode = 2;
} else if (!Object.hasOwn(DEMOS, name)) {
  process.stderr.write(`error[E_DEMO_UNKNOWN]: Cannot run demo ${JSON.stringify(name)}: no such demo\n`);
  process.stderr.write(`hint: Choose one of ${Object.keys(DEMOS).join(', ')} (npm run demo -- --help lists them)\n`);
  process.exitCode = 2;
} else {
  // The demos import the TypeScript barrels of lib/. Under `node --import tsx` the loader
  // is already there; started as plain `node run.mjs`, register it here.
  if (!process.execArgv.some((arg) => arg.includes('tsx'))) register();
  const demo = await import(DEMOS[name].file);
  process.exitCode = await demo.main(rest);
}

// #region clock-demo
/** Demo: the same CLI session twice, with injected and with real time and ids. @module */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_COMMANDS, runCli, type CliIo, type CliSpec } from '../../../lib/cli.ts';
import { counterIds, randomIds, steppingClock, systemClock, type Clock, type IdSource } from '../../../lib/clock.ts';
import { LOG_ERRORS } from '../../../lib/errors.ts';

const spec: CliSpec = { name: 'civictrust', version: 'demo', groups: [LOG_COMMANDS], catalog: LOG_ERRORS };
const dir = mkdtempSync(join(tmpdir(), 'ct-clock-'));

/** Appends two records to a fresh log, reads it back, and returns all that was printed. */
async function session(clock: Clock, ids: IdSource): Promise<string> {
  const file = join(mkdtempSync(join(dir, 'run-')), 'events.log');
  let printed = '';
  const io: CliIo = {
    stdout: (text) => void (printed += text),
    stderr: (text) => void (printed += text),
    stdin: async function* () {},
    clock,
    ids,
  };
  await runCli(['log', 'append', '-f', file, 'first'], spec, io);
  await runCli(['log', 'append', '-f', file, 'second'], spec, io);
  await runCli(['log', 'read', '-f', file], spec, io);
  return printed;
}

const fixed = () => session(steppingClock(Date.UTC(2026, 0, 1), 1000), counterIds('r'));
const [a, b] = [await fixed(), await fixed()];
console.log(`injected clock and ids: the two runs are ${a === b ? 'identical' : 'different'}\n${a}`);
const [c, d] = [await session(systemClock, randomIds), await session(systemClock, randomIds)];
console.log(`system clock and random ids: the two runs are ${c === d ? 'identical' : 'different'}\n${c}`);
rmSync(dir, { recursive: true });
// #endregion clock-demo

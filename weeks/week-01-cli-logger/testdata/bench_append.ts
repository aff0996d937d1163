// #region bench-append
/** Benchmark: appends per second through LogWriter and appendRecord. @module */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { counterIds, steppingClock } from '../../../lib/clock.ts';
import { LogWriter, appendRecord, type LogRecord } from '../../../lib/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'ct-bench-'));
const clock = steppingClock(Date.UTC(2026, 0, 1));
const ids = counterIds('b');
function record(): LogRecord {
  return { ts: new Date(clock.now()).toISOString(), id: ids.next(), level: 'info', msg: 'x'.repeat(64) };
}

/** Runs `appendOne` n times in a row and prints the rate. */
async function measure(label: string, n: number, appendOne: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < n; i += 1) await appendOne();
  const seconds = (performance.now() - start) / 1000;
  const rate = (n / seconds).toFixed(0).padStart(6);
  console.log(`${label.padEnd(34)} ${String(n).padStart(6)} records ${rate} appends/s ${((seconds / n) * 1e6).toFixed(0).padStart(5)} µs each`);
}

for (const sync of [false, true]) {
  const writer = await LogWriter.open(join(dir, `writer-${sync}.log`), { sync });
  await measure(`LogWriter.append, sync: ${sync}`, sync ? 500 : 20_000, () => writer.append(record()));
  await writer.close();
}
const oneShot = join(dir, 'one-shot.log');
await measure('appendRecord (open, write, close)', 5_000, () => appendRecord(oneShot, record()));
rmSync(dir, { recursive: true });
// #endregion bench-append

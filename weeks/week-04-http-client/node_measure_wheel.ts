/**
 * Measures how late the timing wheel fires when a real `setInterval` drives it, next
 * to plain `setTimeout` for the same deadlines, and how many entries each tick looks
 * at. A measurement, not a test: nothing here asserts a number.
 *
 * `node --import tsx weeks/week-04-http-client/node_measure_wheel.ts [--timers 10000]
 * [--tick 10] [--slots 512] [--spread 2000] [--seed 1]`
 * @module
 */
import { parseArgs } from 'node:util';
import { NodeTimerDriver } from './node_timer_driver.ts';
import { seededRandom } from '../../lib/framing.ts';

const { values } = parseArgs({
  options: {
    timers: { type: 'string', default: '10000' },
    tick: { type: 'string', default: '10' },
    slots: { type: 'string', default: '512' },
    spread: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
  },
});
const timers = Number(values.timers);
const tickMs = Number(values.tick);
const slots = Number(values.slots);
const spreadMs = Number(values.spread);
const seed = Number(values.seed);


/** Offsets of the deadlines from the start, in ms. */
const next = seededRandom(seed); // every run schedules the same deadlines
const offsets = Array.from({ length: timers }, () => 50 + next() * spreadMs);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function summary(name: string, late: number[]): string {
  late.sort((a, b) => a - b);
  const early = late.filter((x) => x < 0).length;
  const cells = [0, 50, 90, 99, 100].map((p) => percentile(late, p).toFixed(2).padStart(7));
  return `${name.padEnd(12)} ${cells.join(' ')}   ${String(early).padStart(5)}`;
}

async function measureWheel(): Promise<{ late: number[]; examinedPerTick: number; ticks: number }> {
  const late: number[] = [];
  const deadlines = new Float64Array(timers);
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const driver = new NodeTimerDriver<number>({
    tickMs,
    slots,
    onExpire: (key) => {
      late.push(performance.now() - (deadlines[key] as number));
      if (late.length === timers) done();
    },
  });
  const start = performance.now();
  offsets.forEach((offset, key) => {
    deadlines[key] = start + offset;
    driver.scheduleAt(key, start + offset);
  });
  // The driver's interval is unref'd; keep the process alive while we wait.
  const keepAlive = setInterval(() => {}, 1_000);
  await finished;
  clearInterval(keepAlive);
  const ticks = Math.ceil((performance.now() - start) / tickMs);
  return { late, examinedPerTick: driver.examined / ticks, ticks };
}

async function measureSetTimeout(): Promise<number[]> {
  const late: number[] = [];
  const start = performance.now();
  await Promise.all(
    offsets.map(
      (offset) =>
        new Promise<void>((resolve) => {
          // setTimeout counts from the moment it is called; aim it at the same absolute deadline.
          const deadline = start + offset;
          setTimeout(() => {
            late.push(performance.now() - deadline);
            resolve();
          }, deadline - performance.now());
        }),
    ),
  );
  return late;
}

process.stderr.write(`measuring ${timers} timers over ${spreadMs} ms: wheel (tick ${tickMs} ms, ${slots} slots), then setTimeout\n`);
const wheel = await measureWheel();
process.stderr.write('wheel done\n');
const plain = await measureSetTimeout();
process.stdout.write(`node ${process.version}, ${timers} timers, deadlines uniform over ${spreadMs} ms, seed ${seed}\n`);
process.stdout.write(`lateness (ms)   min     p50     p90     p99     max   early\n`);
process.stdout.write(`${summary('wheel', wheel.late)}\n`);
process.stdout.write(`${summary('setTimeout', plain)}\n`);
process.stdout.write(`wheel: ${wheel.ticks} ticks, ${wheel.examinedPerTick.toFixed(1)} entries examined per tick (a full scan: up to ${timers})\n`);
process.stdout.write(`early = fired before its deadline on performance.now()\n`);

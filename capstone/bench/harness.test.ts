import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../lib/errors.ts';
import { errorCodeOf, runCliProcess } from '../../lib/testing.ts';
import { BENCH_SCHEMA, benchMain, type BenchReport } from './cli.ts';
import { parseProcStat, type Figure, type Suite, type Workload } from './harness.ts';
import { alignColumns, formatCount, formatSeconds, formatValue } from './report.ts';

/** Captures what the CLI writes. */
function captureIo(): { stdout: string; stderr: string; io: { stdout(t: string): void; stderr(t: string): void } } {
  const out = { stdout: '', stderr: '' };
  return Object.assign(out, {
    io: {
      stdout: (t: string) => void (out.stdout += t),
      stderr: (t: string) => void (out.stderr += t),
    },
  });
}

/** A workload that sums `ops` numbers and logs each prepare/run/finish into `events`. */
function countingWorkload(label: string, ops: number, events: string[]): Workload {
  return {
    label,
    prepare() {
      events.push(`${label}:prepare`);
      let sum = 0;
      return {
        run() {
          for (let i = 0; i < ops; i++) sum += i;
          events.push(`${label}:run`);
        },
        finish() {
          events.push(`${label}:finish:${sum}`);
        },
      };
    },
  };
}

/** A tiny suite with one throughput and one latency figure; remembers its scratch dir. */
function fakeSuite(events: string[] = [], seen: { tmpDir?: string } = {}): Suite {
  return {
    name: 'fake',
    title: 'a tiny suite for testing the harness',
    figures(ctx) {
      seen.tmpDir = ctx.tmpDir;
      const ops = ctx.short ? 10 : 100;
      const figures: Figure[] = [
        {
          name: 'sum', metric: 'throughput', unit: 'op', ops, bytesPerOp: 8, relation: 'peer',
          subject: countingWorkload('mine', ops, events), peer: countingWorkload('theirs', ops, events),
          target: { atLeast: 0.5 },
        },
        {
          name: 'latency', metric: 'latency', unit: 'call', ops, relation: 'limit',
          subject: countingWorkload('slow', ops, []), peer: countingWorkload('fast', ops, []),
        },
      ];
      return figures;
    },
  };
}

/** A suite whose figure fails its correctness check after the timed body. */
function checkingSuite(name: string): Suite {
  return {
    name,
    title: 'fails a check',
    figures(ctx) {
      const bad: Workload = { label: 'bad', prepare: () => ({ run() {}, finish: () => ctx.check(1 + 1 === 3, 'one plus one is three') }) };
      return [{ name: 'wrong', metric: 'throughput', unit: 'op', ops: 1, relation: 'peer', subject: bad, peer: bad }];
    },
  };
}

describe('bench harness in short mode', () => {
  it('prints one JSON document on stdout with the environment, options and every figure', async () => {
    const seen: { tmpDir?: string } = {};
    const cap = captureIo();
    const code = await benchMain(['--short', '--json'], cap.io, [fakeSuite([], seen)]);
    expect(code).toBe(EXIT.ok);
    const report = JSON.parse(cap.stdout) as BenchReport;
    expect(report.schema).toBe(BENCH_SCHEMA);
    expect(report.ok).toBe(true);
    expect(report.exit).toBe(0);
    expect(report.env.node).toBe(process.version);
    expect(report.env.cores).toBeGreaterThan(0);
    expect(typeof report.env.cpu).toBe('string');
    expect(report.options).toEqual({ short: true, repeats: 1, warmup: 1, seed: 1, suites: ['fake'] });
    expect(report.suites).toHaveLength(1);
    const suite = report.suites[0]!;
    expect(suite).toMatchObject({ name: 'fake', ok: true, error: null, exit: 0 });
    expect(suite.figures.map((f) => f.name)).toEqual(['sum', 'latency']);
    const sum = suite.figures[0]!;
    expect(sum).toMatchObject({ metric: 'throughput', unit: 'op', ops: 10, bytes_per_op: 8, repeats: 1, warmup: 1, relation: 'peer' });
    expect(sum.subject.label).toBe('mine');
    expect(sum.peer.label).toBe('theirs');
    expect(sum.subject.samples).toHaveLength(1);
    expect(sum.subject.median).toBeGreaterThan(0);
    expect(sum.ratio).toBeCloseTo(sum.subject.median / sum.peer.median, 12);
    // Short-mode numbers are smoke: the target is shown but not judged.
    expect(sum.target).toEqual({ op: '>=', value: 0.5, met: null });
    expect(suite.figures[1]!.target).toBeNull();
    expect(suite.figures[1]!.bytes_per_op).toBeNull();
    // Progress stays on stderr, in the [suite i/n] figure … run r/R form.
    expect(cap.stderr).toContain('[fake 1/2] sum … warm-up');
    expect(cap.stderr).toContain('[fake 2/2] latency … run 1/1');
    // The scratch directory is gone after the suite.
    expect(seen.tmpDir).toBeDefined();
    expect(existsSync(seen.tmpDir!)).toBe(false);
  });

  it('prints aligned rows with the ratio and the target beside each figure in text mode', async () => {
    const cap = captureIo();
    const code = await benchMain(['--short'], cap.io, [fakeSuite()]);
    expect(code).toBe(EXIT.ok);
    expect(cap.stdout).toMatch(/^civictrust bench · node v\d+/);
    const row = cap.stdout.split('\n').find((l) => l.startsWith('fake  sum'));
    expect(row).toMatch(/mine \S+ op\/s \[1 run\]\s+vs peer theirs \S+ op\/s \[1 run\]\s+ratio \d+\.\d\d\s+target ≥ 0\.50 not judged \(short\)$/);
    expect(cap.stdout).toMatch(/fake  latency\s+slow \S+ \S*s\/call/);
    expect(cap.stdout).toContain('1 suite: 1 ok, 0 failed · targets: 0 met, 0 missed, 1 not judged');
  });
});

/** A workload whose trial reports fixed per-operation latencies: 1..100 ms, shuffled. */
function fixedLatencies(label: string, scale: number): Workload {
  const ms = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
  return { label, prepare: () => ({ run() {}, latencies: () => ms.map((m) => (m * scale) / 1000) }) };
}

describe('bench harness percentile figures', () => {
  it('reads p50/p95/p99 from the latencies the trial reports, nearest rank', async () => {
    const suite: Suite = {
      name: 'tail',
      title: 'percentiles',
      figures: () => (['p50', 'p95', 'p99'] as const).map((metric): Figure => ({
        name: metric, metric, unit: 'req', ops: 100, relation: 'peer',
        subject: fixedLatencies('ours', 1), peer: fixedLatencies('theirs', 2), target: { atMost: 1 },
      })),
    };
    const cap = captureIo();
    expect(await benchMain(['--json', '--repeats', '1', '--warmup', '0'], cap.io, [suite])).toBe(EXIT.ok);
    const figures = (JSON.parse(cap.stdout) as BenchReport).suites[0]!.figures;
    expect(figures.map((f) => [f.metric, f.subject.median, f.peer.median, f.ratio, f.target?.met])).toEqual([
      ['p50', 0.05, 0.1, 0.5, true],
      ['p95', 0.095, 0.19, 0.5, true],
      ['p99', 0.099, 0.198, 0.5, true],
    ]);
    const text = captureIo();
    await benchMain(['--repeats', '1', '--warmup', '0'], text.io, [suite]);
    expect(text.stdout).toMatch(/tail  p99\s+ours p99 99\.0 ms\/req/);
  });

  it('fails the suite when a percentile figure gets no latencies', async () => {
    const silent: Workload = { label: 'silent', prepare: () => ({ run() {} }) };
    const suite: Suite = {
      name: 'mute', title: 'no latencies',
      figures: () => [{ name: 'p99', metric: 'p99', unit: 'req', ops: 1, relation: 'peer', subject: silent, peer: silent }],
    };
    const cap = captureIo();
    expect(await benchMain(['--short', '--json'], cap.io, [suite])).not.toBe(EXIT.ok);
    expect((JSON.parse(cap.stdout) as BenchReport).suites[0]!.error?.message).toMatch(/reports no per-operation latencies/);
  });
});

describe('bench harness cpu figures', () => {
  it('counts user, nice, system, irq and softirq ticks of /proc/stat\'s cpu line, at 100 per second', () => {
    const stat = 'cpu  100 20 300 4000 50 6 7 8 0 0\ncpu0 50 10 150 2000 25 3 3 4 0 0\nintr 12345\n';
    expect(parseProcStat(stat)).toBe(4.33); // idle 4000, iowait 50 and steal 8 are not work
    expect(parseProcStat('intr 1\n')).toBeNull();
  });

  it.runIf(process.platform === 'linux')('charges a trial the CPU time it burned, per operation', async () => {
    const burn: Workload = {
      label: 'burn',
      prepare: () => ({
        run() {
          const until = process.cpuUsage().user + 400_000; // 400 ms of this process's own CPU
          while (process.cpuUsage().user < until) Math.sqrt(Math.random());
        },
      }),
    };
    const suite: Suite = { name: 'cpu', title: 'cpu', figures: () => [{ name: 'burn', metric: 'cpu', unit: 'op', ops: 2, relation: 'peer', subject: burn, peer: burn }] };
    const cap = captureIo();
    expect(await benchMain(['--json', '--repeats', '1', '--warmup', '0'], cap.io, [suite])).toBe(EXIT.ok);
    const figure = (JSON.parse(cap.stdout) as BenchReport).suites[0]!.figures[0]!;
    // The machine did at least this process's 400 ms; /proc/stat counts 10 ms ticks, so allow a few.
    expect(figure.subject.median).toBeGreaterThanOrEqual(0.17);
    expect(formatValue(0.00082, 'cpu', 'put')).toBe('cpu 820 µs/put');
  });
});

describe('bench harness in full mode', () => {
  it('runs warm-ups, then alternates which side goes first, with fresh trials each time', async () => {
    const events: string[] = [];
    const cap = captureIo();
    const code = await benchMain(['--json', '--repeats', '3', '--warmup', '2'], cap.io, [fakeSuite(events)]);
    expect(code).toBe(EXIT.ok);
    const order = events.filter((e) => e.endsWith(':run'));
    expect(order).toEqual([
      'mine:run', 'theirs:run', 'mine:run', 'theirs:run', // 2 warm-ups
      'mine:run', 'theirs:run', 'theirs:run', 'mine:run', 'mine:run', 'theirs:run', // 3 runs, ABBA
    ]);
    expect(events.filter((e) => e === 'mine:prepare')).toHaveLength(5);
    expect(events.filter((e) => e.startsWith('mine:finish:'))).toEqual(Array(5).fill('mine:finish:4950'));
    const report = JSON.parse(cap.stdout) as BenchReport;
    const sum = report.suites[0]!.figures[0]!;
    expect(sum.subject.samples).toHaveLength(3);
    expect(sum.subject.min).toBeLessThanOrEqual(sum.subject.median);
    expect(sum.subject.median).toBeLessThanOrEqual(sum.subject.max);
    expect(typeof sum.target?.met).toBe('boolean');
  });

  it('reports a missed target without failing the run', async () => {
    const impossible: Suite = {
      name: 'impossible',
      title: 'a target no machine meets',
      figures: () => [{
        name: 'never', metric: 'throughput', unit: 'op', ops: 10, relation: 'peer',
        subject: countingWorkload('a', 10, []), peer: countingWorkload('b', 10, []), target: { atLeast: 1e12 },
      }],
    };
    const cap = captureIo();
    const code = await benchMain(['--repeats', '1', '--warmup', '0'], cap.io, [impossible]);
    expect(code).toBe(EXIT.ok);
    expect(cap.stdout).toMatch(/target ≥ 1000000000000\.0 missed/);
    expect(cap.stdout).toContain('targets: 0 met, 1 missed');
  });
});

describe('bench failures', () => {
  it('exits with the integrity status when a check fails, and still runs the other suites', async () => {
    const cap = captureIo();
    const code = await benchMain(['--short', '--json'], cap.io, [checkingSuite('broken'), fakeSuite()]);
    expect(code).toBe(EXIT.integrity);
    const report = JSON.parse(cap.stdout) as BenchReport;
    expect(report.ok).toBe(false);
    expect(report.exit).toBe(EXIT.integrity);
    expect(report.suites.map((s) => [s.name, s.ok])).toEqual([['broken', false], ['fake', true]]);
    expect(report.suites[0]!.error?.code).toBe('E_BENCH_CHECK');
    expect(report.suites[0]!.error?.message).toContain('one plus one is three');
    expect(errorCodeOf(cap.stderr)).toBe('E_BENCH_CHECK');
  });

  it('exits with the internal status when a suite throws, and says so in the text report', async () => {
    const crashing: Suite = { name: 'crash', title: 'throws', figures: () => { throw new Error('boom'); } };
    let tornDown = false;
    const withTeardown: Suite = { ...crashing, teardown: () => void (tornDown = true) };
    const cap = captureIo();
    const code = await benchMain(['--short'], cap.io, [withTeardown]);
    expect(code).toBe(EXIT.internal);
    expect(tornDown).toBe(true);
    expect(cap.stdout).toContain('crash  FAILED  error[E_INTERNAL]: boom');
    expect(cap.stdout).toContain('1 suite: 0 ok, 1 failed');
  });

  it.each([
    [['nosuch'], 'E_BENCH_SUITE_UNKNOWN'],
    [['--bogus'], 'E_USAGE_FLAG'],
    [['--repeats', '0'], 'E_USAGE_VALUE'],
    [['--warmup', '-1'], 'E_USAGE_FLAG'],
    [['--seed', 'x'], 'E_USAGE_VALUE'],
  ])('refuses %j with a usage status and %s', async (argv, code) => {
    const cap = captureIo();
    expect(await benchMain(argv, cap.io, [fakeSuite()])).toBe(EXIT.usage);
    expect(errorCodeOf(cap.stderr)).toBe(code);
    expect(cap.stderr).toMatch(/^hint: /m);
    expect(cap.stdout).toBe('');
  });
});

describe('bench help and list', () => {
  it('lists the suites by name and title', async () => {
    const cap = captureIo();
    expect(await benchMain(['--list'], cap.io, [fakeSuite()])).toBe(EXIT.ok);
    expect(cap.stdout).toBe('  fake  a tiny suite for testing the harness\n');
  });

  it('shows the flags and the suites in --help', async () => {
    const cap = captureIo();
    expect(await benchMain(['--help'], cap.io, [fakeSuite()])).toBe(EXIT.ok);
    for (const flag of ['--short', '--repeats', '--warmup', '--seed', '--json', '--list']) expect(cap.stdout).toContain(flag);
    expect(cap.stdout).toContain('fake  a tiny suite');
  });
});

describe('report formatting', () => {
  it('formats counts with SI prefixes and three significant digits', () => {
    expect([412_345, 41_234, 4_123, 812, 8.123, 4_120_000].map(formatCount)).toEqual(['412k', '41.2k', '4.12k', '812', '8.12', '4.12M']);
  });

  it('formats durations in the unit that keeps them readable', () => {
    expect([1.234, 0.0382, 4.1e-6, 8.12e-7].map(formatSeconds)).toEqual(['1.23 s', '38.2 ms', '4.10 µs', '812 ns']);
  });

  it('aligns columns two spaces apart without trailing space', () => {
    expect(alignColumns([['a', 'bbb', ''], ['cc', 'd', 'e']])).toEqual(['a   bbb', 'cc  d    e']);
  });
});

describe('npm run bench as a real process', () => {
  it('runs the logger suite in short mode and prints parseable JSON on stdout, progress on stderr', async () => {
    const entry = new URL('./run.ts', import.meta.url);
    const result = await runCliProcess(['--short', '--json', 'logger'], { entry });
    expect(result.stderr).toContain('[logger 1/3]');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as BenchReport;
    expect(report.ok).toBe(true);
    expect(report.suites[0]!.figures.map((f) => f.name)).toEqual(['append 100 B (no sync)', 'append 100 B + sync', 'CLI start-up']);
  });
});

/**
 * A vitest reporter that ends every run with one plain line, `N passed, N failed`
 * (plus `, N skipped` when tests were skipped), which CI reads instead of vitest's
 * own summary. It is listed after `default` in vitest.config.ts, so its line comes last.
 *
 * A test file that fails outside any test (it does not load, a hook throws) counts as
 * one failure, and so does each unhandled error: a broken run must never print `0 failed`.
 * @module
 */
import type { Reporter, SerializedError, TestModule, Vitest } from 'vitest/node';

/** Prints the closing `N passed, N failed[, N skipped]` line of a vitest run. */
export default class SummaryReporter implements Reporter {
  #log: (line: string) => void = (line) => {
    process.stdout.write(`${line}\n`);
  };

  /** Writes through vitest's logger, so the line is ordered after the default reporter's output. */
  onInit(vitest: Vitest): void {
    this.#log = (line) => vitest.logger.log(line);
  }

  /** Counts the run's test cases and prints the closing line, whether the run passed or not. */
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    this.#log(summaryLine(countTests(testModules, unhandledErrors.length)));
  }
}

/** Test-case totals of one run. */
interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

/** Counts passed, failed and skipped test cases; errors outside tests count as failures. */
function countTests(testModules: ReadonlyArray<TestModule>, unhandledErrors: number): Totals {
  const totals: Totals = { passed: 0, failed: 0, skipped: 0 };
  for (const testModule of testModules) {
    for (const test of testModule.children.allTests()) {
      const { state } = test.result();
      if (state === 'passed') totals.passed += 1;
      else if (state === 'failed') totals.failed += 1;
      else if (state === 'skipped') totals.skipped += 1;
    }
    if (testModule.errors().length > 0) totals.failed += 1;
  }
  totals.failed += unhandledErrors;
  return totals;
}

/** `3 passed, 1 failed`, with `, 2 skipped` only when something was skipped. */
function summaryLine(totals: Totals): string {
  const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : '';
  return `${totals.passed} passed, ${totals.failed} failed${skipped}`;
}

/**
 * The retry rule: full-jitter backoff bounds, the classification table, and the
 * retry loop driven by a fake clock and a fake sleep (no real waiting).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CivicError, errorFactory } from '../../lib/errors.ts';
import { FRAME_ERRORS } from './catalog.ts';
import { backoffDelay, classifyFailure, seededRandom, withRetry, type AttemptFailure, type RetryPolicy } from './retry.ts';

const fail = errorFactory(FRAME_ERRORS);
const POLICY: RetryPolicy = { maxAttempts: 4, maxTotalMs: 10_000, baseDelayMs: 100, maxDelayMs: 1000 };

/** A clock that only moves when the fake sleep says so. */
function fakeTime() {
  let now = 0;
  const slept: number[] = [];
  return {
    clock: { now: () => now },
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
    slept,
    advance: (ms: number) => void (now += ms),
  };
}

describe('backoffDelay', () => {
  it('stays in [0, min(cap, base·2^(retry-1))) for any random draw (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, r) => {
      const ceiling = Math.min(POLICY.maxDelayMs, POLICY.baseDelayMs * 2 ** (retry - 1));
      const delay = backoffDelay(retry, POLICY, () => r);
      return Number.isInteger(delay) && delay >= 0 && delay < ceiling;
    }), { seed: 7 });
  });

  it('spans the whole interval: a draw of 0 waits 0, a draw near 1 waits just under the ceiling', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, POLICY, () => 0))).toEqual([0, 0, 0, 0, 0]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, POLICY, () => 0.9999))).toEqual([99, 199, 399, 799, 999]);
  });

  it('gives the same schedule for the same seed', () => {
    const schedule = (seed: number) => {
      const random = seededRandom(seed);
      return [1, 2, 3, 4].map((n) => backoffDelay(n, POLICY, random));
    };
    expect(schedule(42)).toEqual(schedule(42));
    expect(schedule(1)).not.toEqual(schedule(2));
  });

  it('throws a RangeError for retry 0', () => {
    expect(() => backoffDelay(0, POLICY, () => 0.5)).toThrow(RangeError);
  });
});

describe('classifyFailure', () => {
  // #region classify-table
  const TABLE: readonly [string, unknown, boolean, string][] = [
    // error,                                        idempotent, verdict
    ['E_NET_REFUSED', fail('E_NET_REFUSED', 'x'), false, 'retry: definite_transport'],
    ['E_NET_CONNECT_TIMEOUT', fail('E_NET_CONNECT_TIMEOUT', 'x'), false, 'retry: definite_transport'],
    ['E_NET_UNREACHABLE', fail('E_NET_UNREACHABLE', 'x'), false, 'retry: definite_transport'],
    ['E_NET_RESET, idempotent', fail('E_NET_RESET', 'x'), true, 'retry: idempotent_request'],
    ['E_NET_RESET, not idempotent', fail('E_NET_RESET', 'x'), false, 'stop: indefinite_not_idempotent'],
    ['E_NET_TIMEOUT, not idempotent', fail('E_NET_TIMEOUT', 'x'), false, 'stop: indefinite_not_idempotent'],
    ['E_NET_CLOSED, idempotent', fail('E_NET_CLOSED', 'x'), true, 'retry: idempotent_request'],
    ['E_FRAME_TRUNCATED, idempotent', fail('E_FRAME_TRUNCATED', 'x'), true, 'retry: idempotent_request'],
    ['E_FRAME_OVERSIZE, idempotent', fail('E_FRAME_OVERSIZE', 'x'), true, 'stop: protocol_error'],
    ['E_MESSAGE_MALFORMED, idempotent', fail('E_MESSAGE_MALFORMED', 'x'), true, 'stop: protocol_error'],
    ['E_ECHO_MISMATCH, idempotent', fail('E_ECHO_MISMATCH', 'x'), true, 'stop: protocol_error'],
    ['E_NET_BAD_ADDRESS, idempotent', fail('E_NET_BAD_ADDRESS', 'x'), true, 'stop: not_retryable'],
    ['a TypeError (a bug)', new TypeError('boom'), true, 'stop: not_retryable'],
  ];
  // #endregion classify-table
  it.each(TABLE)('%s → as the table says', (_, error, idempotent, verdict) => {
    const decision = classifyFailure(error, { idempotent });
    expect(`${decision.retry ? 'retry' : 'stop'}: ${decision.reason}`).toBe(verdict);
  });
});

describe('withRetry', () => {
  it('retries a refused connection until the attempts run out, then throws its code with the count', async () => {
    const time = fakeTime();
    const failures: AttemptFailure[] = [];
    let calls = 0;
    const run = withRetry(async () => {
      calls += 1;
      throw fail('E_NET_REFUSED', 'Cannot connect to 127.0.0.1:1: ECONNREFUSED');
    }, { policy: POLICY, idempotent: false, ...time, random: seededRandom(1), onFailure: (f) => failures.push(f) });
    const error = await run.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_NET_REFUSED', definite: true });
    expect((error as Error).message).toMatch(/\(4 attempts in \d+ ms, stopped: attempts_exhausted\)$/);
    expect(calls).toBe(4);
    expect(time.slept).toHaveLength(3);
    time.slept.forEach((ms, i) => expect(ms).toBeLessThan(POLICY.baseDelayMs * 2 ** i));
    expect(failures.map((f) => f.stop ?? 'retry')).toEqual(['retry', 'retry', 'retry', 'attempts_exhausted']);
  });

  it('never retries a protocol error, even for an idempotent request', async () => {
    const time = fakeTime();
    let calls = 0;
    const error = await withRetry(async () => {
      calls += 1;
      throw fail('E_FRAME_OVERSIZE', 'Cannot decode frame: length 4294967295 exceeds max 1048576');
    }, { policy: POLICY, idempotent: true, ...time, random: seededRandom(1) }).catch((e: unknown) => e);
    expect([calls, (error as CivicError).code, time.slept]).toEqual([1, 'E_FRAME_OVERSIZE', []]);
  });

  it('retries a reset only when the caller declared the request idempotent', async () => {
    for (const [idempotent, attempts] of [[false, 1], [true, 4]] as const) {
      const time = fakeTime();
      let calls = 0;
      await withRetry(async () => {
        calls += 1;
        throw fail('E_NET_RESET', 'Cannot talk to 127.0.0.1:7: ECONNRESET');
      }, { policy: POLICY, idempotent, ...time, random: seededRandom(3) }).catch(() => {});
      expect(calls, `idempotent=${idempotent}`).toBe(attempts);
    }
  });

  it('stops when the next wait would end past the time budget', async () => {
    const time = fakeTime();
    let calls = 0;
    const error = await withRetry(async () => {
      calls += 1;
      time.advance(400); // each attempt takes 400 ms
      throw fail('E_NET_REFUSED', 'refused');
    }, { policy: { ...POLICY, maxAttempts: 100, maxTotalMs: 1000 }, idempotent: false, ...time, random: () => 0.5 }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('stopped: budget_exhausted');
    expect(calls).toBeLessThan(4);
  });

  it('returns the first success and reports the failures before it', async () => {
    const time = fakeTime();
    let calls = 0;
    const value = await withRetry(async (attempt) => {
      calls += 1;
      if (attempt < 3) throw fail('E_NET_REFUSED', 'refused');
      return 'ok';
    }, { policy: POLICY, idempotent: false, ...time, random: seededRandom(9) });
    expect([value, calls]).toEqual(['ok', 3]);
  });
});

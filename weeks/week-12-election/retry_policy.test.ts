/**
 * The retry rule: leader hints are followed at once but a hint loop backs off, retries
 * without a hint back off to the next node, indefinite outcomes back off, definite
 * refusals stop at once, the budgets stop the rest, and (a property over random reply
 * sequences) every retry carries the first attempt's request id.
 * @module
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/clock.ts';
import { seededRandom } from '../../lib/framing.ts';
import { DEFAULT_CLUSTER_RETRY_POLICY, classifyOutcome, decideRetry, type AttemptOutcome, type ClusterRetryPolicy, type RetryInput, type RetryStep } from './retry_policy.ts';

const NODES = ['a:1', 'b:2', 'c:3'] as const;
const POLICY: ClusterRetryPolicy = { maxAttempts: 6, maxTotalMs: 10_000, baseDelayMs: 100, maxDelayMs: 1000, maxHintHops: 2 };

function manualClock(start = 0): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

function decide(attempts: readonly AttemptOutcome[], options: { policy?: ClusterRetryPolicy; clock?: Clock; random?: () => number } = {}): RetryStep {
  const input: RetryInput = { nodes: NODES, requestId: 'req-1', startedMs: 0, attempts, policy: options.policy ?? POLICY };
  return decideRetry(input, { clock: options.clock ?? manualClock(), random: options.random ?? (() => 0.5) });
}

function at(node: string, code: string | null, leader: string | null = null): AttemptOutcome {
  return { node, requestId: 'req-1', code, leader };
}

describe('decideRetry', () => {
  describe('when a node is not the leader', () => {
    it('goes straight to the hinted node with no backoff and the same request id', () => {
      expect(decide([at('a:1', 'E_RAFT_NOT_LEADER', 'c:3')])).toEqual({ action: 'retry', node: 'c:3', requestId: 'req-1', delayMs: 0, reason: 'leader_hint' });
    });

    it('tries the next node after a full-jitter backoff when there is no hint', () => {
      const step = decide([at('b:2', 'E_RAFT_NOT_LEADER', null)], { random: () => 0.5 });
      expect(step).toEqual({ action: 'retry', node: 'c:3', requestId: 'req-1', delayMs: 50, reason: 'no_hint' });
    });

    it('ignores a hint that names a node outside the cluster, or the answering node itself', () => {
      expect(decide([at('a:1', 'E_RAFT_NOT_LEADER', 'evil:6666')])).toMatchObject({ node: 'b:2', reason: 'no_hint' });
      expect(decide([at('a:1', 'E_RAFT_NOT_LEADER', 'a:1')])).toMatchObject({ node: 'b:2', reason: 'no_hint' });
    });

    it('does not follow a hint to a node this request could not reach: it tries a third node after a backoff', () => {
      // a:1 was the leader and died; b:2 still names it because no election has finished.
      const step = decide([at('a:1', 'E_NET_REFUSED'), at('b:2', 'E_RAFT_NOT_LEADER', 'a:1')], { random: () => 0.5 });
      expect(step).toMatchObject({ action: 'retry', node: 'c:3', requestId: 'req-1', reason: 'stale_hint' });
      expect((step as { delayMs: number }).delayMs).toBeGreaterThan(0);
      const fromC = decide([at('a:1', 'E_NET_REFUSED'), at('c:3', 'E_RAFT_NOT_LEADER', 'a:1')], { random: () => 0.5 });
      expect(fromC).toMatchObject({ action: 'retry', node: 'b:2', reason: 'stale_hint' });
    });

    it('backs off once two nodes have named each other maxHintHops times in a row', () => {
      const loop = [at('a:1', 'E_RAFT_NOT_LEADER', 'b:2'), at('b:2', 'E_RAFT_NOT_LEADER', 'a:1')];
      expect(decide(loop)).toMatchObject({ node: 'a:1', delayMs: 0, reason: 'leader_hint' });
      const third = decide([...loop, at('a:1', 'E_RAFT_NOT_LEADER', 'b:2')], { random: () => 0.99 });
      expect(third).toMatchObject({ action: 'retry', node: 'b:2', reason: 'hint_loop' });
      expect((third as { delayMs: number }).delayMs).toBeGreaterThan(0);
    });
  });

  describe('when the outcome is indefinite', () => {
    it('retries a timeout or a reset at the next node after a backoff', () => {
      expect(decide([at('c:3', 'E_NET_TIMEOUT')])).toMatchObject({ action: 'retry', node: 'a:1', requestId: 'req-1', delayMs: 50, reason: 'indefinite' });
      expect(decide([at('a:1', 'E_NET_RESET')])).toMatchObject({ action: 'retry', node: 'b:2', reason: 'indefinite' });
    });

    it('retries E_RAFT_UNCERTAIN at the same node, which answered and so is up', () => {
      expect(decide([at('b:2', 'E_RAFT_UNCERTAIN')])).toMatchObject({ action: 'retry', node: 'b:2', reason: 'indefinite' });
    });

    it('doubles the backoff ceiling with each attempt, up to maxDelayMs', () => {
      const history = (n: number) => Array.from({ length: n }, () => at('a:1', 'E_NET_REFUSED'));
      const delays = [1, 2, 3, 4, 5].map((n) => (decide(history(n), { random: () => 0.999 }) as { delayMs: number }).delayMs);
      expect(delays).toEqual([99, 199, 399, 799, 999]);
    });
  });

  describe('when the node refused on purpose', () => {
    it.each(['E_SIG_INVALID', 'E_KV_COMMAND_INVALID', 'E_KV_VERSION_CONFLICT', 'E_KV_REQUEST_ID_REUSED', 'E_DEDUPE_EXPIRED', 'E_TIMESTAMP_EXPIRED'])(
      'gives up at once with %s, marked definite',
      (code) => {
        expect(decide([at('a:1', code)])).toEqual({ action: 'stop', reason: 'refused', code, definite: true });
      },
    );

    it('stops on an unreadable reply with its code, marked indefinite', () => {
      expect(decide([at('a:1', 'E_CLIENT_REPLY_MALFORMED')])).toEqual({ action: 'stop', reason: 'protocol', code: 'E_CLIENT_REPLY_MALFORMED', definite: false });
    });

    it('stops with the answer when the node said ok', () => {
      expect(decide([at('a:1', null)])).toMatchObject({ action: 'stop', reason: 'answered', code: null });
    });
  });

  describe('when the budget runs out', () => {
    it('gives up with E_CLIENT_RETRIES_EXHAUSTED, definite only when no attempt could have applied the command', () => {
      const refusedEverywhere = Array.from({ length: POLICY.maxAttempts }, (_, i) => at(NODES[i % 3] as string, 'E_NET_REFUSED'));
      expect(decide(refusedEverywhere)).toEqual({ action: 'stop', reason: 'attempts_exhausted', code: 'E_CLIENT_RETRIES_EXHAUSTED', definite: true });
      const oneTimeout = [...refusedEverywhere.slice(1), at('a:1', 'E_NET_TIMEOUT')];
      expect(decide(oneTimeout)).toMatchObject({ code: 'E_CLIENT_RETRIES_EXHAUSTED', definite: false });
    });

    it('gives up with E_CLIENT_DEADLINE when the wait would end past the time budget', () => {
      const clock = manualClock();
      clock.advance(POLICY.maxTotalMs - 10);
      expect(decide([at('a:1', 'E_NET_TIMEOUT')], { clock, random: () => 0.5 })).toMatchObject({ action: 'stop', reason: 'deadline', code: 'E_CLIENT_DEADLINE' });
      clock.advance(10);
      expect(decide([at('a:1', 'E_RAFT_NOT_LEADER', 'b:2')], { clock })).toMatchObject({ code: 'E_CLIENT_DEADLINE' });
    });
  });

  it('classifies codes into the documented classes', () => {
    expect(['E_RAFT_NOT_LEADER', 'E_NET_REFUSED', 'E_FENCED_STALE_TERM', 'E_FRAME_OVERSIZE', 'E_KV_NOT_FOUND'].map(classifyOutcome))
      .toEqual(['redirect', 'retry_definite', 'retry_indefinite', 'protocol', 'refused']);
  });

  it('throws RangeError without an attempt, without nodes, or with a bad policy', () => {
    expect(() => decide([])).toThrow(RangeError);
    expect(() => decideRetry({ nodes: [], requestId: 'r', startedMs: 0, attempts: [at('a:1', null)], policy: POLICY }, { clock: manualClock(), random: Math.random })).toThrow(RangeError);
    expect(() => decide([at('a:1', null)], { policy: { ...POLICY, maxHintHops: -1 } })).toThrow(RangeError);
  });
});

/** One scripted reply, as fast-check draws it. */
type Scripted = { readonly code: string | null; readonly hint: number | null; readonly tookMs: number };

const CODES = ['E_RAFT_NOT_LEADER', 'E_RAFT_NOT_LEADER', 'E_RAFT_NOT_LEADER', 'E_RAFT_UNCERTAIN', 'E_NET_TIMEOUT', 'E_NET_RESET', 'E_NET_REFUSED', 'E_FENCED_STALE_TERM', 'E_OVERLOADED', 'E_KV_VERSION_CONFLICT', null] as const;
const scripted = fc.record({ code: fc.constantFrom(...CODES), hint: fc.option(fc.nat({ max: 3 })), tookMs: fc.nat({ max: 400 }) });

/** Drives a decider over scripted replies the way the client does; returns the steps it took. */
function runSchedule(decider: typeof decideRetry, replies: readonly Scripted[], policy: ClusterRetryPolicy, seed: number): { steps: RetryStep[]; attempts: AttemptOutcome[]; clock: Clock } {
  const clock = manualClock(1_000);
  const random = seededRandom(seed);
  const attempts: AttemptOutcome[] = [];
  const steps: RetryStep[] = [];
  let node: string = NODES[0];
  let requestId = 'orig-7';
  for (let i = 0; ; i++) {
    const reply = replies[i % replies.length] as Scripted;
    clock.advance(reply.tookMs);
    const hint = reply.hint === null ? null : (['a:1', 'b:2', 'c:3', 'x:9'][reply.hint] as string);
    attempts.push({ node, requestId, code: reply.code, leader: reply.code === 'E_RAFT_NOT_LEADER' ? hint : null });
    const step = decider({ nodes: NODES, requestId: 'orig-7', startedMs: 1_000, attempts, policy }, { clock, random });
    steps.push(step);
    if (step.action === 'stop') return { steps, attempts, clock };
    clock.advance(step.delayMs);
    node = step.node;
    requestId = step.requestId;
  }
}

/** What is wrong with a schedule, if anything. */
function scheduleProblems(run: ReturnType<typeof runSchedule>, policy: ClusterRetryPolicy): string[] {
  const problems: string[] = [];
  let freeHops = 0;
  for (const step of run.steps) {
    if (step.action !== 'retry') continue;
    if (step.requestId !== 'orig-7') problems.push(`retry with request id ${step.requestId}`);
    if (!(NODES as readonly string[]).includes(step.node)) problems.push(`retry at ${step.node}, outside the cluster`);
    // A backoff may draw 0 ms (full jitter); the bound is on hints followed without one.
    freeHops = step.reason === 'leader_hint' ? freeHops + 1 : 0;
    if (freeHops > policy.maxHintHops) problems.push(`${freeHops} hint hops without backoff in a row`);
    if (step.reason === 'leader_hint' && step.delayMs !== 0) problems.push('a leader hint followed after a wait');
  }
  for (const attempt of run.attempts) if (attempt.requestId !== 'orig-7') problems.push(`attempt sent with ${attempt.requestId}`);
  if (run.attempts.length > policy.maxAttempts) problems.push(`${run.attempts.length} attempts`);
  const last = run.steps.at(-1);
  if (last?.action === 'stop' && last.reason === 'refused' && last.code !== run.attempts.at(-1)?.code) problems.push('gave up with another code than the refusal');
  return problems;
}

describe('decideRetry over random reply sequences', () => {
  const policies = fc.record({
    maxAttempts: fc.integer({ min: 1, max: 12 }), maxTotalMs: fc.integer({ min: 1, max: 20_000 }),
    baseDelayMs: fc.integer({ min: 1, max: 200 }), maxDelayMs: fc.integer({ min: 200, max: 2_000 }), maxHintHops: fc.integer({ min: 0, max: 4 }),
  });

  it('reuses the original request id on every retry, stays in the cluster, and ends within its budgets', () => {
    fc.assert(fc.property(fc.array(scripted, { minLength: 1, maxLength: 20 }), policies, fc.integer(), (replies, policy, seed) => {
      const run = runSchedule(decideRetry, replies, policy, seed);
      expect(scheduleProblems(run, policy)).toEqual([]);
    }), { numRuns: 500 });
  });

  it('negative control: a decider that draws a fresh request id per retry is caught', () => {
    let fresh = 0;
    const broken: typeof decideRetry = (input, deps) => {
      const step = decideRetry(input, deps);
      return step.action === 'retry' ? { ...step, requestId: `fresh-${++fresh}` } : step;
    };
    const replies: Scripted[] = [{ code: 'E_NET_TIMEOUT', hint: null, tookMs: 1 }, { code: null, hint: null, tookMs: 1 }];
    expect(scheduleProblems(runSchedule(broken, replies, DEFAULT_CLUSTER_RETRY_POLICY, 1), DEFAULT_CLUSTER_RETRY_POLICY)).toContain('retry with request id fresh-1');
  });

  it('negative control: without the hop bound a two-node hint loop retries with no delay until the attempts run out', () => {
    const loop: Scripted[] = [{ code: 'E_RAFT_NOT_LEADER', hint: 1, tookMs: 0 }, { code: 'E_RAFT_NOT_LEADER', hint: 0, tookMs: 0 }];
    const unbounded = { ...DEFAULT_CLUSTER_RETRY_POLICY, maxHintHops: DEFAULT_CLUSTER_RETRY_POLICY.maxAttempts };
    const spun = runSchedule(decideRetry, loop, unbounded, 1);
    expect(spun.steps.filter((s) => s.action === 'retry' && s.reason === 'leader_hint')).toHaveLength(unbounded.maxAttempts - 1);
    expect(scheduleProblems(spun, DEFAULT_CLUSTER_RETRY_POLICY)).toContain('3 hint hops without backoff in a row');
    const bounded = runSchedule(decideRetry, loop, DEFAULT_CLUSTER_RETRY_POLICY, 1);
    expect(scheduleProblems(bounded, DEFAULT_CLUSTER_RETRY_POLICY)).toEqual([]);
    expect(bounded.clock.now()).toBeGreaterThan(spun.clock.now()); // the bounded client waited between hops
  });
});

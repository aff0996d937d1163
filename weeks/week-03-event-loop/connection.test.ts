/**
 * Unit and property tests of the connection state machine: the full transition table
 * against its reviewed copy, and invariants over random event sequences.
 * Set UPDATE_GOLDEN=1 to rewrite `testdata/connection_table.txt`, then review the diff.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SAMPLE_EVENTS, SAMPLE_STATES, renderTransitionTable } from './_transition_table.ts';
import {
  CONNECTION_PHASES, checkOutboundLimits, connectionStep, initialConnectionState, timerFor,
  type ConnectionEvent, type ConnectionState,
} from './connection.ts';

const GOLDEN = fileURLToPath(new URL('./testdata/connection_table.txt', import.meta.url));

describe('the transition table', () => {
  it('matches the reviewed copy in testdata/connection_table.txt, cell for cell', () => {
    const table = renderTransitionTable(connectionStep);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, table);
    expect(table).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('covers every phase and every event type', () => {
    expect(new Set(SAMPLE_STATES.map(([, s]) => s.phase))).toEqual(new Set(CONNECTION_PHASES));
    const types: ConnectionEvent['type'][] = ['data', 'decoded', 'reply', 'written', 'bad-frame', 'drain', 'end', 'error', 'timeout', 'shutdown', 'cut', 'close'];
    expect(new Set(SAMPLE_EVENTS.map(([, e]) => e.type))).toEqual(new Set(types));
  });

  it('refuses every event once closed, and refuses each timer outside its own phase', () => {
    for (const [, event] of SAMPLE_EVENTS) {
      expect(connectionStep({ ...initialConnectionState(), phase: 'closed' }, event).ok).toBe(false);
    }
    for (const phase of CONNECTION_PHASES.filter((p) => p !== 'closed')) {
      for (const timer of ['idle_timeout', 'read_timeout', 'slow_reader', 'linger'] as const) {
        const state = { ...initialConnectionState(), phase, midFrame: phase === 'reading-payload' };
        expect(connectionStep(state, { type: 'timeout', timer }).ok, `${phase} × ${timer}`).toBe(timer === timerFor(phase));
      }
    }
  });
});

describe('checkOutboundLimits', () => {
  it('accepts a watermark up to the cap, and refuses the rest with a RangeError', () => {
    expect(() => checkOutboundLimits({ lowWatermarkBytes: 1, maxOutboundBytes: 1 })).not.toThrow();
    expect(() => checkOutboundLimits({ lowWatermarkBytes: 0, maxOutboundBytes: 10 })).toThrow(RangeError);
    expect(() => checkOutboundLimits({ lowWatermarkBytes: 11, maxOutboundBytes: 10 })).toThrow(RangeError);
    expect(() => checkOutboundLimits({ lowWatermarkBytes: 1.5, maxOutboundBytes: 10 })).toThrow(RangeError);
    expect(() => initialConnectionState({ lowWatermarkBytes: 5, maxOutboundBytes: 4 })).toThrow(RangeError);
  });
});

/** Any event, with sizes drawn around the limits. */
const anyEvent: fc.Arbitrary<ConnectionEvent> = fc.oneof(
  fc.constant({ type: 'data' as const }),
  fc.boolean().map((midFrame) => ({ type: 'decoded' as const, midFrame })),
  fc.record({ type: fc.constant('reply' as const), bytes: fc.integer({ min: 1, max: 600 }), queuedBytes: fc.integer({ min: 0, max: 1200 }) }),
  fc.record({ type: fc.constant('written' as const), queuedBytes: fc.integer({ min: 0, max: 1200 }) }),
  fc.constant({ type: 'bad-frame' as const, errorCode: 'E_FRAME_OVERSIZE' }),
  fc.constantFrom<ConnectionEvent>({ type: 'drain' }, { type: 'end' }, { type: 'error', errorCode: 'E_NET_RESET' }, { type: 'shutdown' }, { type: 'cut' }, { type: 'close' }),
  fc.constantFrom('idle_timeout', 'read_timeout', 'slow_reader', 'linger').map((timer) => ({ type: 'timeout' as const, timer })),
);

/** Freezes a state, so a step that mutated its input would throw. */
function frozen(state: ConnectionState): ConnectionState {
  return Object.freeze({ ...state, limits: Object.freeze({ ...state.limits }) });
}

describe('invariants over random event sequences (property)', () => {
  it('one close record, never a write past the cap, pause and resume alternating, closed is final', () => {
    const limits = fc.integer({ min: 1, max: 800 }).chain((low) => fc.record({ lowWatermarkBytes: fc.constant(low), maxOutboundBytes: fc.integer({ min: low, max: 1000 }) }));
    fc.assert(fc.property(limits, fc.array(anyEvent, { maxLength: 60 }), (limit, events) => {
      let state = frozen(initialConnectionState(limit));
      let closeRecords = 0;
      let paused = false;
      for (const event of events) {
        const result = connectionStep(state, event);
        if (!result.ok) {
          expect(result.state).toBe(state); // a refusal changes nothing
          continue;
        }
        for (const action of result.actions) {
          if (action.type === 'log-close') closeRecords += 1;
          if (action.type === 'write' && event.type === 'reply') expect(event.queuedBytes + event.bytes).toBeLessThanOrEqual(limit.maxOutboundBytes);
          if (action.type === 'decode') expect(['reading-header', 'reading-payload']).toContain(state.phase);
          if (action.type === 'pause') expect((paused = !paused)).toBe(true);
          if (action.type === 'resume') expect((paused = !paused)).toBe(false);
        }
        state = frozen(result.state);
        if (state.phase === 'reading-header' || state.phase === 'reading-payload') expect(state.phase === 'reading-payload').toBe(state.midFrame);
        if (state.phase === 'writing') expect(paused).toBe(true);
        expect(closeRecords).toBe(state.phase === 'closing' || state.phase === 'closed' ? 1 : 0);
        if (state.phase === 'closing' || state.phase === 'closed') expect(state.closeReason).toBeDefined();
      }
      if (state.phase === 'closed') for (const [, event] of SAMPLE_EVENTS) expect(connectionStep(state, event).ok).toBe(false);
    }), { seed: 0x3_1, numRuns: 2000 });
  });
});

/**
 * The connection state machine written out as a table: every sample state against
 * every sample event, with the next state and actions or the reason for refusing.
 * The tests compare it with the reviewed copy in `testdata/connection_table.txt`, so
 * any change to any cell shows up as a diff someone has to accept. Private to the
 * week (never re-exported).
 * @module
 */
import type { ConnectionAction, ConnectionEvent, ConnectionState, StepResult } from './connection.ts';
import { initialConnectionState } from './connection.ts';

/** Small limits, so the numbers in the table are easy to check by eye. */
export const TABLE_LIMITS = { lowWatermarkBytes: 100, maxOutboundBytes: 1000 } as const;

const start = initialConnectionState(TABLE_LIMITS);

/** The sample states: each phase, plus the flag combinations that change what an event means. */
export const SAMPLE_STATES: readonly (readonly [string, ConnectionState])[] = [
  ['reading-header', start],
  ['reading-payload', { ...start, phase: 'reading-payload', midFrame: true }],
  ['reading-payload draining', { ...start, phase: 'reading-payload', midFrame: true, draining: true }],
  ['writing', { ...start, phase: 'writing', queuedBytes: 150, maxQueuedBytes: 150, pauses: 1 }],
  ['writing mid-frame', { ...start, phase: 'writing', midFrame: true, queuedBytes: 150, maxQueuedBytes: 150, pauses: 1 }],
  ['writing draining', { ...start, phase: 'writing', draining: true, queuedBytes: 150, maxQueuedBytes: 150, pauses: 1 }],
  ['closing', { ...start, phase: 'closing', closeReason: 'peer_closed' }],
  ['closed', { ...start, phase: 'closed', closeReason: 'peer_closed' }],
];

/** The sample events: every event type, with the payloads that lead to different outcomes. */
export const SAMPLE_EVENTS: readonly (readonly [string, ConnectionEvent])[] = [
  ['data', { type: 'data' }],
  ['decoded at a boundary', { type: 'decoded', midFrame: false }],
  ['decoded mid-frame', { type: 'decoded', midFrame: true }],
  ['reply 50, queue 0', { type: 'reply', bytes: 50, queuedBytes: 0 }],
  ['reply 50, queue 960', { type: 'reply', bytes: 50, queuedBytes: 960 }],
  ['written, queue 40', { type: 'written', queuedBytes: 40 }],
  ['written, queue 150', { type: 'written', queuedBytes: 150 }],
  ['bad-frame', { type: 'bad-frame', errorCode: 'E_FRAME_OVERSIZE' }],
  ['drain', { type: 'drain' }],
  ['end', { type: 'end' }],
  ['error', { type: 'error', errorCode: 'E_NET_RESET' }],
  ['timeout idle_timeout', { type: 'timeout', timer: 'idle_timeout' }],
  ['timeout read_timeout', { type: 'timeout', timer: 'read_timeout' }],
  ['timeout slow_reader', { type: 'timeout', timer: 'slow_reader' }],
  ['timeout linger', { type: 'timeout', timer: 'linger' }],
  ['shutdown', { type: 'shutdown' }],
  ['cut', { type: 'cut' }],
  ['close', { type: 'close' }],
];

/** `log-close(slow_reader warn E_SERVER_SLOW_READER max_outbound_bytes)`, `pause`, … */
function formatAction(action: ConnectionAction): string {
  if (action.type !== 'log-close') return action.type;
  return `log-close(${[action.reason, action.level, action.errorCode, action.limit].filter(Boolean).join(' ')})`;
}

/** The next state, as the table shows it: phase, flags and queue. */
function formatState(state: ConnectionState): string {
  const notes = [state.midFrame ? 'mid-frame' : '', state.draining ? 'draining' : '', state.queuedBytes > 0 ? `queue ${state.queuedBytes}` : '']
    .filter(Boolean);
  return notes.length === 0 ? state.phase : `${state.phase} (${notes.join(', ')})`;
}

/**
 * Renders the full table for a step function (the real one, or a broken one in a
 * negative control).
 * @param step - the state machine to tabulate
 * @returns one line per (state, event) pair, with a header
 */
export function renderTransitionTable(step: (state: ConnectionState, event: ConnectionEvent) => StepResult): string {
  const width = (items: readonly (readonly [string, unknown])[]) => Math.max(...items.map(([name]) => name.length));
  const stateWidth = width(SAMPLE_STATES);
  const eventWidth = width(SAMPLE_EVENTS);
  const lines = [
    `# connectionStep over ${SAMPLE_STATES.length} states × ${SAMPLE_EVENTS.length} events; low watermark ${TABLE_LIMITS.lowWatermarkBytes}, cap ${TABLE_LIMITS.maxOutboundBytes}`,
  ];
  for (const [stateName, state] of SAMPLE_STATES) {
    lines.push('');
    for (const [eventName, event] of SAMPLE_EVENTS) {
      const result = step(state, event);
      const outcome = result.ok
        ? `→ ${formatState(result.state)}${result.actions.length === 0 ? '' : ` : ${result.actions.map(formatAction).join(', ')}`}`
        : `✗ refused: ${result.refused}`;
      lines.push(`${stateName.padEnd(stateWidth)}  ${eventName.padEnd(eventWidth)}  ${outcome}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

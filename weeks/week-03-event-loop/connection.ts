/**
 * The life of one server connection as an explicit state machine: a pure function
 * from (state, event) to (state, actions), with no sockets, timers or clocks in it.
 *
 * A `select`/`poll` loop keeps a record per descriptor and decides, on every
 * readiness event, what to do next. Node's event loop hides the readiness calls, but
 * the per-connection decisions remain, and they are where servers go wrong: reading
 * while the peer will not take our replies, answering after deciding to close, logging
 * a close twice or never. This module makes every one of those decisions in one place.
 * The Node adapter (`node_frame_server.ts`) only reports what happened and performs
 * the actions it gets back.
 *
 * ```
 *                         decoded, a frame left open
 *   ┌────────────────┐ ─────────────────────────────▶ ┌─────────────────┐
 *   │ reading-header │                                │ reading-payload │
 *   └────────────────┘ ◀───────────────────────────── └─────────────────┘
 *          │    ▲            decoded at a boundary          │    ▲
 *          │    │                                           │    │
 *    pause │    │ resume                              pause │    │ resume
 *          ▼    │                                           ▼    │
 *   ┌──────────────────────────────────────────────────────────────────┐
 *   │ writing: reading paused until 'drain'                            │
 *   └──────────────────────────────────────────────────────────────────┘
 *          │ from any phase above: end, error, its own timer, a bad frame,
 *          │ shutdown at a boundary, a reply over the cap, cut (close record)
 *          ▼
 *   ┌─────────┐   close   ┌────────┐
 *   │ closing │ ────────▶ │ closed │   terminal: every later event is refused
 *   └─────────┘           └────────┘
 * ```
 *
 * `pause` when a write leaves the reply queue at or above the low watermark; `resume`
 * on 'drain', in whichever reading phase the open frame (if any) calls for.
 *
 * Invariants: the close record is emitted exactly once, by the step that leaves the
 * reading or writing phases; a reply is written only if the queue stays within
 * `maxOutboundBytes`; `pause` and `resume` alternate, starting with `pause`; once
 * closing, no request is answered.
 * @module
 */

/** The phases of a connection, in the order a healthy one meets them. */
export const CONNECTION_PHASES = ['reading-header', 'reading-payload', 'writing', 'closing', 'closed'] as const;

/**
 * One of {@link CONNECTION_PHASES}:
 * - `reading-header`: reading, at a frame boundary (nothing of the next frame yet, or part of its 4-byte header)
 * - `reading-payload`: reading, inside a frame whose header announced its length
 * - `writing`: the reply queue reached the low watermark; reading is paused until it drains
 * - `closing`: the close is decided and logged; input is dropped, no request is answered
 * - `closed`: the socket is gone and its descriptor released
 */
export type ConnectionPhase = (typeof CONNECTION_PHASES)[number];

// #region outbound-limits
/**
 * How many reply bytes the server may hold in memory for one client: Node's socket
 * buffer (`socket.writableLength`) plus a reply produced and not yet handed to it.
 */
export interface OutboundLimits {
  /** At or above this many queued bytes, stop reading the client's requests until the queue drains. */
  readonly lowWatermarkBytes: number;
  /** A reply that would take the queue above this is not written: the client is cut instead. */
  readonly maxOutboundBytes: number;
}

/** The defaults: pause at 64 KiB, never hold more than 4 MiB (a 1 MiB echo fits with room to spare). */
export const DEFAULT_OUTBOUND_LIMITS: OutboundLimits = { lowWatermarkBytes: 64 * 1024, maxOutboundBytes: 4 * 1024 * 1024 };
// #endregion outbound-limits

/**
 * Checks a pair of limits: whole numbers, watermark at least 1, cap at least the
 * watermark. A watermark equal to the cap turns pausing off (the seed's policy: read
 * everything, cut at the cap).
 * @throws RangeError naming the bad limit
 */
export function checkOutboundLimits(limits: OutboundLimits): void {
  const { lowWatermarkBytes: low, maxOutboundBytes: cap } = limits;
  if (!Number.isSafeInteger(low) || low < 1) throw new RangeError(`lowWatermarkBytes must be a whole number of at least 1, got ${low}`);
  if (!Number.isSafeInteger(cap) || cap < low) throw new RangeError(`maxOutboundBytes must be a whole number of at least lowWatermarkBytes (${low}), got ${cap}`);
}

/** Why a connection closed, as its close record's `reason` says. */
export type ConnectionCloseReason =
  | 'peer_closed' | 'peer_closed_mid_frame' | 'peer_reset' | 'peer_reset_mid_frame'
  | 'idle_timeout' | 'read_timeout' | 'slow_reader' | 'bad_frame' | 'shutdown' | 'shutdown_grace_expired';

/** The one timer a phase arms; see {@link timerFor}. */
export type TimerKind = 'idle_timeout' | 'read_timeout' | 'slow_reader' | 'linger';

/** Which limit a `slow_reader` close hit. */
export type OutboundLimit = 'max_outbound_bytes' | 'slow_reader_ms';

/** The state of one connection. Plain data: copy it, log it, compare it. */
export interface ConnectionState {
  /** Where the connection stands. */
  readonly phase: ConnectionPhase;
  /** A request frame is begun and unfinished; kept while `writing`, so reading resumes in the right phase. */
  readonly midFrame: boolean;
  /** The server is shutting down: close at the next frame boundary, once replies are queued. */
  readonly draining: boolean;
  /** Reply bytes held for the peer, as last reported by the adapter. */
  readonly queuedBytes: number;
  /** The largest queue reported after a write. */
  readonly maxQueuedBytes: number;
  /** How many times reading was paused. */
  readonly pauses: number;
  /** Set by the step that emitted the close record. */
  readonly closeReason?: ConnectionCloseReason;
  /** The limits this connection runs under. */
  readonly limits: OutboundLimits;
}

// #region events
/** What the adapter reports. Each event is a fact about the socket, the decoder or a timer. */
export type ConnectionEvent =
  | {
    /** A chunk of bytes arrived. */
    readonly type: 'data';
  }
  | {
    /** The chunk is decoded and each complete request in it answered. */
    readonly type: 'decoded';
    /** A frame is begun and unfinished at the end of the chunk. */
    readonly midFrame: boolean;
  }
  | {
    /** The handler produced a reply. */
    readonly type: 'reply';
    /** The reply's size, frame header included. */
    readonly bytes: number;
    /** The queue before the reply: `socket.writableLength`. */
    readonly queuedBytes: number;
  }
  | {
    /** The reply went to the socket. */
    readonly type: 'written';
    /** The queue after the write: `socket.writableLength`. */
    readonly queuedBytes: number;
  }
  | {
    /** The decoder refused a frame header. */
    readonly type: 'bad-frame';
    /** Why, e.g. `E_FRAME_OVERSIZE`. */
    readonly errorCode: string;
  }
  | {
    /** The socket's buffer emptied ('drain'). */
    readonly type: 'drain';
  }
  | {
    /** The peer sent FIN ('end'). */
    readonly type: 'end';
  }
  | {
    /** The socket failed ('error'). */
    readonly type: 'error';
    /** The failure as a catalog code, e.g. `E_NET_RESET`. */
    readonly errorCode: string;
  }
  | {
    /** The phase's timer fired and its deadline has passed. */
    readonly type: 'timeout';
    /** Which timer. */
    readonly timer: TimerKind;
  }
  | {
    /** The server began a graceful shutdown. */
    readonly type: 'shutdown';
  }
  | {
    /** The shutdown grace period ran out. */
    readonly type: 'cut';
  }
  | {
    /** The socket closed and its descriptor is released ('close'). */
    readonly type: 'close';
  };

/** What the adapter must do, in order. */
export type ConnectionAction =
  | {
    /**
     * `decode`: decode the chunk and answer each complete request; `write`: write the
     * reply just reported; `pause`/`resume`: stop or restart reading; `send-error`: write
     * an error reply naming the refused frame; `end`: flush what is queued, then FIN;
     * `destroy`: drop the connection now; `release`: leave the registry, stop the timer.
     */
    readonly type: 'decode' | 'write' | 'pause' | 'resume' | 'send-error' | 'end' | 'destroy' | 'release';
  }
  | {
    /** Write the connection's one close record. */
    readonly type: 'log-close';
    /** The record's `reason`. */
    readonly reason: ConnectionCloseReason;
    /** The record's level: `info` for an orderly close, `warn` for the rest. */
    readonly level: 'info' | 'warn';
    /** The record's `error_code`, if the close is a failure with a code. */
    readonly errorCode?: string;
    /** For `slow_reader`: which limit was hit. */
    readonly limit?: OutboundLimit;
  };
// #endregion events

/** The result of one step: the next state and its actions, or a refusal that changes nothing. */
export type StepResult =
  | {
    /** The event was accepted. */
    readonly ok: true;
    /** The next state. */
    readonly state: ConnectionState;
    /** What to do, in order. */
    readonly actions: readonly ConnectionAction[];
  }
  | {
    /** The event cannot happen in this phase: a bug in whoever reported it. */
    readonly ok: false;
    /** The state, unchanged (the same object). */
    readonly state: ConnectionState;
    /** Why the event was refused. */
    readonly refused: string;
  };

/**
 * The state of a connection just accepted.
 * @param limits - the outbound limits; see {@link checkOutboundLimits}
 * @throws RangeError for limits that fail {@link checkOutboundLimits}
 */
export function initialConnectionState(limits: OutboundLimits = DEFAULT_OUTBOUND_LIMITS): ConnectionState {
  checkOutboundLimits(limits);
  return { phase: 'reading-header', midFrame: false, draining: false, queuedBytes: 0, maxQueuedBytes: 0, pauses: 0, limits };
}

// #region timer-for
/**
 * The one timer each phase arms. Reading at a boundary waits for the idle timeout,
 * inside a frame for the read timeout; paused, the clock that runs is the slow
 * reader's (time we stopped reading is not charged to the peer's read timeout);
 * closing waits for the peer's FIN at most a linger period.
 */
export function timerFor(phase: ConnectionPhase): TimerKind | undefined {
  switch (phase) {
    case 'reading-header': return 'idle_timeout';
    case 'reading-payload': return 'read_timeout';
    case 'writing': return 'slow_reader';
    case 'closing': return 'linger';
    case 'closed': return undefined;
  }
}
// #endregion timer-for

/** A successful step. */
function next(state: ConnectionState, actions: readonly ConnectionAction[] = []): StepResult {
  return { ok: true, state, actions };
}

/** A refused step: same state, the reason. */
function refuse(state: ConnectionState, why: string): StepResult {
  return { ok: false, state, refused: why };
}

/** The reading phase a connection is in, given whether a frame is open. */
function readingPhase(midFrame: boolean): ConnectionPhase {
  return midFrame ? 'reading-payload' : 'reading-header';
}

/** Moves to `closing` with the close record (and `then`, e.g. `end` or `destroy`). */
function close(
  state: ConnectionState,
  record: { reason: ConnectionCloseReason; level: 'info' | 'warn'; errorCode?: string; limit?: OutboundLimit },
  ...then: ConnectionAction[]
): StepResult {
  const log: ConnectionAction = { type: 'log-close', ...record };
  return next({ ...state, phase: 'closing', closeReason: record.reason }, [log, ...then]);
}

/** The close of a peer that went away: mid-frame is a truncation, at a boundary a normal close. */
function peerGone(state: ConnectionState, how: 'closed' | 'reset', errorCode: string | undefined, ...then: ConnectionAction[]): StepResult {
  if (state.midFrame) return close(state, { reason: `peer_${how}_mid_frame`, level: 'warn', errorCode: 'E_FRAME_TRUNCATED' }, ...then);
  return close(state, { reason: `peer_${how}`, level: how === 'closed' ? 'info' : 'warn', errorCode }, ...then);
}

// #region connection-step
/**
 * One step of the connection state machine. Never throws and never mutates `state`.
 * @param state - the connection's current state
 * @param event - what just happened
 * @returns the next state and the actions to perform in order, or `ok: false` with
 *   the reason the event cannot happen in this phase (the state is returned as is)
 */
export function connectionStep(state: ConnectionState, event: ConnectionEvent): StepResult {
  const { phase } = state;
  if (phase === 'closed') return refuse(state, 'the connection is closed: no event can follow');
  const reading = phase === 'reading-header' || phase === 'reading-payload';
  const open = reading || phase === 'writing'; // no close record yet
  switch (event.type) {
    case 'data':
      if (reading) return next(state, [{ type: 'decode' }]);
      if (phase === 'closing') return next(state); // read and dropped: closing with unread input would send RST
      return refuse(state, 'reading is paused until the reply queue drains');

    case 'decoded': {
      const moved = { ...state, midFrame: event.midFrame };
      if (phase === 'writing') return next(moved); // the chunk that crossed the watermark is done
      if (!reading) return next(state); // cut while answering this chunk
      if (state.draining && !event.midFrame) return close(moved, { reason: 'shutdown', level: 'info' }, { type: 'end' });
      return next({ ...moved, phase: readingPhase(event.midFrame) });
    }

    case 'reply': {
      if (!open) return refuse(state, 'a closing connection answers no more requests');
      if (event.queuedBytes + event.bytes > state.limits.maxOutboundBytes) {
        // Checked before the write: the server never holds more than the cap for one client.
        const cut = { ...state, queuedBytes: event.queuedBytes };
        return close(cut, { reason: 'slow_reader', level: 'warn', errorCode: 'E_SERVER_SLOW_READER', limit: 'max_outbound_bytes' }, { type: 'destroy' });
      }
      return next({ ...state, queuedBytes: event.queuedBytes + event.bytes }, [{ type: 'write' }]);
    }

    case 'written': {
      if (!open) return refuse(state, 'nothing is written once the connection is closing');
      const measured = { ...state, queuedBytes: event.queuedBytes, maxQueuedBytes: Math.max(state.maxQueuedBytes, event.queuedBytes) };
      if (phase === 'writing' || event.queuedBytes < state.limits.lowWatermarkBytes) return next(measured);
      return next({ ...measured, phase: 'writing', pauses: state.pauses + 1 }, [{ type: 'pause' }]);
    }

    case 'bad-frame':
      if (!reading) return refuse(state, 'frames are decoded only while reading');
      return close(state, { reason: 'bad_frame', level: 'warn', errorCode: event.errorCode }, { type: 'send-error' }, { type: 'end' });

    case 'drain': {
      if (phase === 'closing') return next(state);
      if (phase !== 'writing') return refuse(state, "'drain' follows only a write that reached the watermark, and that write paused reading");
      const drained = { ...state, queuedBytes: 0 };
      if (state.draining && !state.midFrame) return close(drained, { reason: 'shutdown', level: 'info' }, { type: 'end' });
      return next({ ...drained, phase: readingPhase(state.midFrame) }, [{ type: 'resume' }]);
    }

    case 'end':
      if (!open) return next(state);
      return peerGone(state, 'closed', undefined, { type: 'end' });

    case 'error':
      if (!open) return next(state);
      return peerGone(state, 'reset', event.errorCode, { type: 'destroy' });

    case 'timeout':
      if (event.timer !== timerFor(phase)) return refuse(state, `the ${phase} phase arms the ${timerFor(phase)} timer, not ${event.timer}`);
      switch (event.timer) {
        case 'idle_timeout': return close(state, { reason: 'idle_timeout', level: 'warn' }, { type: 'destroy' });
        case 'read_timeout': return close(state, { reason: 'read_timeout', level: 'warn', errorCode: 'E_NET_TIMEOUT' }, { type: 'destroy' });
        case 'slow_reader':
          return close(state, { reason: 'slow_reader', level: 'warn', errorCode: 'E_SERVER_SLOW_READER', limit: 'slow_reader_ms' }, { type: 'destroy' });
        case 'linger': return next(state, [{ type: 'destroy' }]); // the peer never finished closing
      }
      break;

    case 'shutdown':
      if (phase === 'reading-header') return close({ ...state, draining: true }, { reason: 'shutdown', level: 'info' }, { type: 'end' });
      return next({ ...state, draining: true }); // finish the open frame, or wait for the drain

    case 'cut':
      if (!open) return next(state, [{ type: 'destroy' }]);
      return close(state, { reason: 'shutdown_grace_expired', level: 'warn', errorCode: 'E_NET_TIMEOUT' }, { type: 'destroy' });

    case 'close': {
      const closed = { ...state, phase: 'closed' as const };
      if (!open) return next(closed, [{ type: 'release' }]);
      // Gone without 'end' or 'error' first: record it now, so no connection goes unlogged.
      const record = peerGone(state, 'closed', undefined);
      return next({ ...record.state, phase: 'closed' }, [...(record.ok ? record.actions : []), { type: 'release' }]);
    }
  }
  return refuse(state, 'unknown event');
}
// #endregion connection-step

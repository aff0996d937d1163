/**
 * The multi-client event loop (week 3): the per-connection state machine, the
 * request-handler contract and its echo handler, the frame server with per-client
 * outbound limits and in-process loop-delay measurement, the soak report and chart,
 * and the `server` command group.
 * @module server
 * @category Week 03
 */
export {
  SERVER_ERRORS,
  CONNECTION_PHASES, DEFAULT_OUTBOUND_LIMITS, checkOutboundLimits, initialConnectionState, timerFor, connectionStep,
  echoHandler, errorReply,
  LatencyHistogram, closeInterval, DEFAULT_SOAK_LIMITS, judgeSoak,
  niceCeiling, renderSoakSvg,
  LOOP_DELAY_RESOLUTION_MS, LoopDelayMonitor,
  FRAME_SERVER_DEFAULTS, FrameServer,
  SERVER_COMMANDS, WEEK3_CLI, runFrameServerCommand,
} from '../weeks/week-03-event-loop/mod.ts';
export type {
  ServerErrorCode,
  ConnectionPhase, OutboundLimits, ConnectionCloseReason, TimerKind, OutboundLimit, ConnectionState, ConnectionEvent, ConnectionAction, StepResult,
  RequestContext, HandlerResult, FrameHandler,
  ServerSample, SoakInterval, SoakLimits, SoakVerdict,
  SoakChartOptions,
  LoopDelaySummary,
  FrameServerOptions, ShutdownOptions, ShutdownResult, ServerStats,
  ServerSidecar, AttachSidecar,
} from '../weeks/week-03-event-loop/mod.ts';

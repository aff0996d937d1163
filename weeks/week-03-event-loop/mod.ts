/**
 * Week 3's public surface: the connection state machine, the handler contract and
 * the echo handler, the multi-client frame server with its per-client limits and
 * loop-delay measurement, the soak report and chart, and the `server` command group.
 * `lib/server.ts` re-exports from here and nowhere else in this folder.
 * @module
 */
export { SERVER_ERRORS } from './catalog.ts';
export type { ServerErrorCode } from './catalog.ts';
export { CONNECTION_PHASES, DEFAULT_OUTBOUND_LIMITS, checkOutboundLimits, initialConnectionState, timerFor, connectionStep } from './connection.ts';
export type {
  ConnectionPhase, OutboundLimits, ConnectionCloseReason, TimerKind, OutboundLimit, ConnectionState, ConnectionEvent, ConnectionAction, StepResult,
} from './connection.ts';
export { echoHandler, errorReply } from './handler.ts';
export type { RequestContext, HandlerResult, FrameHandler } from './handler.ts';
export { LatencyHistogram, closeInterval, DEFAULT_SOAK_LIMITS, judgeSoak } from './soak_report.ts';
export type { ServerSample, SoakInterval, SoakLimits, SoakVerdict } from './soak_report.ts';
export { niceCeiling, renderSoakSvg } from './soak_chart.ts';
export type { SoakChartOptions } from './soak_chart.ts';
export { LOOP_DELAY_RESOLUTION_MS, LoopDelayMonitor } from './node_loop_delay.ts';
export type { LoopDelaySummary } from './node_loop_delay.ts';
export { FRAME_SERVER_DEFAULTS, FrameServer } from './node_frame_server.ts';
export type { FrameServerOptions, ShutdownOptions, ShutdownResult, ServerStats } from './node_frame_server.ts';
export { SERVER_COMMANDS, WEEK3_CLI, runFrameServerCommand } from './node_server_cli.ts';
export type { ServerSidecar, AttachSidecar } from './node_server_cli.ts';

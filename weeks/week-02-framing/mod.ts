/**
 * Week 2's public surface: the frame codec, the echo message format, timeouts, the
 * retry rule, a structured logger over week 1's records, and the TCP echo server,
 * client and CLI group built from them. `lib/framing.ts` re-exports from here and
 * nowhere else in this folder.
 * @module
 */
export { FRAME_ERRORS } from './catalog.ts';
export type { FrameErrorCode } from './catalog.ts';
export { FRAME_HEADER_BYTES, DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_LIMIT, encodeFrame, FrameDecoder } from './frame.ts';
export type { FrameDecoderState, FrameDecoderOptions } from './frame.ts';
export { MESSAGE_VERSION, MAX_MESSAGE_HEADER_BYTES, MESSAGE_TYPES, isRequestId, frameMessage, frameMessageParts, coalesceParts, parseMessage } from './message.ts';
export type { EchoMessage, MessageType } from './message.ts';
export { DEFAULT_TIMEOUT_POLICY, ActivityTracker } from './timeouts.ts';
export type { TimeoutPolicy, TimeoutReason, Deadline } from './timeouts.ts';
export { DEFAULT_RETRY_POLICY, systemRandom, seededRandom, backoffDelay, failureKind, classifyFailure, withRetry } from './retry.ts';
export type { RandomSource, RetryPolicy, FailureKind, RetryDecision, NoRetryReason, StopReason, AttemptFailure, RetryOptions } from './retry.ts';
export { createLogger, lineSink, textSink, memorySink, nullSink, preciseClock } from './structured_log.ts';
export type { Logger, LoggerOptions, LogOptions, LogFields, LogSink, MemorySink } from './structured_log.ts';
export { formatAddress, listenError, connectError } from './net_errors.ts';
export type { NetAddress } from './net_errors.ts';
export { openFileSink } from './node_log_sink.ts';
export type { FileSink, FileSinkOptions } from './node_log_sink.ts';
export { EchoServer } from './node_echo_server.ts';
export type { EchoServerOptions, CloseOptions, CloseResult, CloseReason } from './node_echo_server.ts';
export { EchoConnection, EchoClient, sendEcho } from './node_echo_client.ts';
export type { ConnectOptions, EchoClientOptions, SendOptions, EchoReply } from './node_echo_client.ts';
export { ECHO_COMMANDS, WEEK2_CLI, openLog, firstSignal } from './node_echo_cli.ts';
export type { OpenedLog, FirstSignal } from './node_echo_cli.ts';
export { startServerProcess, RawPeer, waitForRecords } from './node_test_support.ts';
export type { ServerProcess, StartServerOptions, ProcessExit, LoggedRecord } from './node_test_support.ts';

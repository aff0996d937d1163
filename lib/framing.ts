/**
 * Stream-safe framing over TCP (week 2): the length-prefixed frame codec, the echo
 * message format, connection timeouts, the client retry rule, a structured logger
 * over week 1's records, and the echo server, client and CLI group.
 * @module framing
 * @category Week 02
 */
export {
  FRAME_ERRORS,
  FRAME_HEADER_BYTES, DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_LIMIT, encodeFrame, FrameDecoder,
  MESSAGE_VERSION, MAX_MESSAGE_HEADER_BYTES, MESSAGE_TYPES, isRequestId, frameMessage, frameMessageParts, coalesceParts, parseMessage,
  DEFAULT_TIMEOUT_POLICY, ActivityTracker,
  DEFAULT_RETRY_POLICY, systemRandom, seededRandom, backoffDelay, failureKind, classifyFailure, withRetry,
  createLogger, lineSink, textSink, memorySink, nullSink, preciseClock,
  formatAddress, listenError, connectError,
  openFileSink,
  EchoServer,
  EchoConnection, EchoClient, sendEcho,
  ECHO_COMMANDS, WEEK2_CLI, openLog, firstSignal,
  startServerProcess, RawPeer, waitForRecords,
} from '../weeks/week-02-framing/mod.ts';
export type {
  FrameErrorCode,
  FrameDecoderState, FrameDecoderOptions,
  EchoMessage, MessageType,
  TimeoutPolicy, TimeoutReason, Deadline,
  RandomSource, RetryPolicy, FailureKind, RetryDecision, NoRetryReason, StopReason, AttemptFailure, RetryOptions,
  Logger, LoggerOptions, LogOptions, LogFields, LogSink, MemorySink,
  NetAddress,
  FileSink, FileSinkOptions,
  OpenedLog, FirstSignal,
  EchoServerOptions, CloseOptions, CloseResult, CloseReason,
  ConnectOptions, EchoClientOptions, SendOptions, EchoReply,
  ServerProcess, StartServerOptions, ProcessExit, LoggedRecord,
} from '../weeks/week-02-framing/mod.ts';

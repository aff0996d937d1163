/**
 * Week 6's public surface: the overload ladder and its threshold table, the token
 * bucket, the minimum-progress rule, request deadlines, the task protocol, the
 * overload controller, the overload server with its slow-client defences, the load
 * generator and slow clients, and the `overload` command group.
 * `lib/overload.ts` re-exports from here and nowhere else in this folder.
 * @module
 */
export { OVERLOAD_ERRORS } from './catalog.ts';
export type { OverloadErrorCode } from './catalog.ts';
export { LADDER_LEVELS, OVERLOAD_THRESHOLDS, checkThresholds, initialLadder, ladderStep, admissionFor, predictBurst } from './ladder.ts';
export type { LadderLevel, Priority, LevelThresholds, OverloadThresholds, LoadSample, LadderState, LadderCause, LadderStep, Admission, BurstOutcome } from './ladder.ts';
export { DEFAULT_EGRESS_RATE, checkEgressRate, TokenBucket } from './token_bucket.ts';
export type { EgressRate } from './token_bucket.ts';
export { DEFAULT_PROGRESS_RULE, ProgressMeter } from './progress.ts';
export type { ProgressRule, ProgressVerdict } from './progress.ts';
export { DEADLINE_STAGES, deadlineAfter, remainingMs, isExpired, checkDeadline, deadlineError, firstExpiredStage, checkStageSplit, parseStageSplit, stageEndMs, stageExpired } from './deadline.ts';
export type { DeadlineStage, RequestDeadline, StageCheck, StageSplit } from './deadline.ts';
export { TASK_NAMES, MAX_TASK_ARG, MAX_TIMEOUT_MS, encodeTaskRequest, encodeTaskAnswer, parseTaskRequest, parseTaskAnswer } from './task_message.ts';
export type { TaskName, TaskRequest, TaskAnswer } from './task_message.ts';
export { OverloadController } from './controller.ts';
export type { TaskRunner, TaskInput, TaskOutput, WorkItem, WorkOutcome, OverloadControllerOptions, ControllerStats } from './controller.ts';
export type { GateVerdict, RequestGate, AnswerEvent, AnswerListener } from './request_gate.ts';
export { TASK_HANDLERS } from './node_tasks.ts';
export { DEFAULT_EGRESS_LIMITS, OVERLOAD_SERVER_DEFAULTS, OverloadServer } from './node_overload_server.ts';
export type { ClientRate, EgressLimits, OverloadServerOptions, OverloadCloseReason, OverloadServerStats } from './node_overload_server.ts';
export { TaskClient, runTaskLoad, slowSender, nonReader } from './node_load.ts';
export type { ClientAnswer, LoadPhase, PhaseSummary, NonReaderResult, TaskLoadOptions, LoadInterval, TaskLoadReport, SlowSenderResult } from './node_load.ts';
export { OVERLOAD_COMMANDS, WEEK6_CLI, runOverloadServeCommand } from './node_overload_cli.ts';

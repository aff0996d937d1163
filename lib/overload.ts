/**
 * Overload control (week 6): the overload ladder and its one threshold table, request
 * deadlines checked at every stage, the per-client egress token bucket, the
 * minimum-progress rule against slow senders, the overload controller and server over
 * week 5's worker pool, load and slow-client generators, and the `overload` command group.
 * @module overload
 * @category Week 06
 */
export {
  OVERLOAD_ERRORS,
  LADDER_LEVELS, OVERLOAD_THRESHOLDS, checkThresholds, initialLadder, ladderStep, admissionFor, predictBurst,
  DEFAULT_EGRESS_RATE, checkEgressRate, TokenBucket,
  DEFAULT_PROGRESS_RULE, ProgressMeter,
  DEADLINE_STAGES, deadlineAfter, remainingMs, isExpired, checkDeadline, deadlineError, firstExpiredStage,
  checkStageSplit, parseStageSplit, stageEndMs, stageExpired,
  TASK_NAMES, MAX_TASK_ARG, MAX_TIMEOUT_MS, encodeTaskRequest, encodeTaskAnswer, parseTaskRequest, parseTaskAnswer,
  OverloadController,
  TASK_HANDLERS,
  DEFAULT_EGRESS_LIMITS, OVERLOAD_SERVER_DEFAULTS, OverloadServer,
  TaskClient, runTaskLoad, slowSender, nonReader,
  OVERLOAD_COMMANDS, WEEK6_CLI, runOverloadServeCommand,
} from '../weeks/week-06-overload/mod.ts';
export type {
  OverloadErrorCode,
  LadderLevel, Priority, LevelThresholds, OverloadThresholds, LoadSample, LadderState, LadderCause, LadderStep, Admission, BurstOutcome,
  EgressRate,
  ProgressRule, ProgressVerdict,
  DeadlineStage, RequestDeadline, StageCheck, StageSplit,
  TaskName, TaskRequest, TaskAnswer,
  TaskRunner, TaskInput, TaskOutput, WorkItem, WorkOutcome, OverloadControllerOptions, ControllerStats,
  ClientRate, EgressLimits, OverloadServerOptions, OverloadCloseReason, OverloadServerStats,
  GateVerdict, RequestGate, AnswerEvent, AnswerListener,
  ClientAnswer, LoadPhase, PhaseSummary, NonReaderResult, TaskLoadOptions, LoadInterval, TaskLoadReport, SlowSenderResult,
} from '../weeks/week-06-overload/mod.ts';

/**
 * Idle-timeout bookkeeping: a hashed timing wheel with O(1) schedule, cancel and
 * reschedule, and its Node driver (week 4).
 * @module timers
 * @category Week 04
 */
export { TimingWheel, NodeTimerDriver } from '../weeks/week-04-http-client/mod.ts';
export type { TimingWheelOptions, TimerDriverOptions } from '../weeks/week-04-http-client/mod.ts';

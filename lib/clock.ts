/**
 * Injected time and ids (week 1).
 * @module
 */
export { systemClock, randomIds, steppingClock, counterIds } from '../weeks/week-01-cli-logger/mod.ts';
export type { Clock, IdSource } from '../weeks/week-01-cli-logger/mod.ts';

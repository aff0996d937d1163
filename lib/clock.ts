/**
 * Injected time and ids (week 1).
 * @module clock
 * @category Week 01
 */
export { systemClock, randomIds, steppingClock, counterIds } from '../weeks/week-01-cli-logger/mod.ts';
export type { Clock, IdSource } from '../weeks/week-01-cli-logger/mod.ts';

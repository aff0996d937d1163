/**
 * Everything CivicTrust's weeks have built so far, in one place: the entry point of
 * the capstone. Weeks never import this module; they import the topic barrels beside
 * it, which are also the modules of the API reference (one per topic, by week).
 * @module
 */
export * from './errors.ts';
export * from './bytes.ts';
export * from './clock.ts';
export * from './cli.ts';
export * from './logger.ts';
export * from './testing.ts';
export * from './framing.ts';
export * from './server.ts';
export * from './timers.ts';
export * from './http.ts';
export * from './pool.ts';
export * from './overload.ts';
export * from './hashing.ts';
export * from './signing.ts';
export * from './kv.ts';
export * from './wal.ts';
export * from './replication.ts';
export * from './election.ts';

/**
 * The `civictrust` command line: every week's command groups under one program,
 * with one merged error catalog behind one exit-code table.
 * @module
 */
import { readFileSync } from 'node:fs';
import { LOG_COMMANDS, type CliSpec } from '../lib/cli.ts';
import { LOG_ERRORS, mergeCatalogs } from '../lib/errors.ts';
import { ECHO_COMMANDS, FRAME_ERRORS } from '../lib/framing.ts';
import { HTTP_COMMANDS, HTTP_ERRORS, SERVER_HEALTH_COMMANDS } from '../lib/http.ts';
import { HASH_COMMANDS, HASH_ERRORS } from '../lib/hashing.ts';
import { OVERLOAD_COMMANDS, OVERLOAD_ERRORS } from '../lib/overload.ts';
import { POOL_COMMANDS, POOL_ERRORS } from '../lib/pool.ts';
import { SERVER_ERRORS } from '../lib/server.ts';
import { ENVELOPE_COMMANDS, KEY_COMMANDS, SIGN_ERRORS } from '../lib/signing.ts';
import { NODE_COMMANDS } from './node/mod.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The whole CLI as data; `capstone/bin/civictrust.mjs` runs it. */
export const CIVICTRUST: CliSpec = {
  name: 'civictrust',
  version: pkg.version,
  groups: [LOG_COMMANDS, ECHO_COMMANDS, SERVER_HEALTH_COMMANDS, HTTP_COMMANDS, POOL_COMMANDS, OVERLOAD_COMMANDS, HASH_COMMANDS, KEY_COMMANDS, ENVELOPE_COMMANDS, NODE_COMMANDS],
  catalog: mergeCatalogs(LOG_ERRORS, FRAME_ERRORS, SERVER_ERRORS, HTTP_ERRORS, POOL_ERRORS, OVERLOAD_ERRORS, HASH_ERRORS, SIGN_ERRORS),
};

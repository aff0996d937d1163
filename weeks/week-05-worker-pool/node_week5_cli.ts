/**
 * Week 5's whole CLI: the earlier weeks' groups plus `pool`, over one merged catalog.
 * @module
 */
import { mergeCatalogs, LOG_ERRORS } from '../../lib/errors.ts';
import { LOG_COMMANDS, type CliSpec } from '../../lib/cli.ts';
import { POOL_ERRORS } from './catalog.ts';
import { POOL_COMMANDS } from './node_pool_cli.ts';

/** Week 5's CLI: `log` and `pool`. */
export const WEEK5_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-05',
  groups: [LOG_COMMANDS, POOL_COMMANDS],
  catalog: mergeCatalogs(LOG_ERRORS, POOL_ERRORS),
};

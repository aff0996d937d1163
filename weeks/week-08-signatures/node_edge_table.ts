/**
 * Prints the edge-case verdict table for the three backends:
 * `node --import tsx weeks/week-08-signatures/node_edge_table.ts`. `ACCEPT` marks a
 * case a verifier accepted; `-` a refusal; `key` and `sig` say where the strict
 * policy refused it.
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { agrees, formatVerdictTable, verdictTable, type EdgeCase } from './edge_table.ts';
import { NOBLE_BACKEND } from './noble_backend.ts';
import { NODE_BACKEND } from './node_crypto_backend.ts';
import { WEBCRYPTO_BACKEND } from './webcrypto_backend.ts';

const file = fileURLToPath(new URL('./testdata/edge_cases.json', import.meta.url));
const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: EdgeCase[] };
const rows = await verdictTable(cases, [NODE_BACKEND, WEBCRYPTO_BACKEND, NOBLE_BACKEND]);
process.stdout.write(`${formatVerdictTable(rows)}\n`);
process.stdout.write(`${rows.length} cases; strict verdicts agree on ${rows.filter(agrees).length}\n`);

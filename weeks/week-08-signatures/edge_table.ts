/**
 * The edge-case verdict table: each Ed25519 edge case run through each backend
 * twice, raw (the backend's own verdict) and under the strict policy of
 * `ed25519.ts`. Raw columns show why a policy is needed (they disagree); the strict
 * columns must agree on every row, and that is what the gate checks.
 * @module
 */
import { Point, verify as nobleVerify } from '@noble/ed25519';
import { isCivicError } from '../../lib/errors.ts';
import { fromHex } from '../../lib/hashing.ts';
import { CURVE_ORDER, importVerifyingKey, verifyStrict, type Ed25519Backend } from './ed25519.ts';
import './noble_backend.ts'; // wires noble's SHA-512 for the raw noble columns

/** One edge case, as stored in `testdata/edge_cases.json`. */
export interface EdgeCase {
  /** Short stable id, e.g. `speccheck-3`. */
  readonly id: string;
  /** Where the case comes from. */
  readonly origin: string;
  /** What the case is built to exercise (empty for the speccheck vectors: see {@link describeCase}). */
  readonly note: string;
  /** Public key A, hex. */
  readonly public_key: string;
  /** Signature R ‖ S, hex. */
  readonly signature: string;
  /** Message, hex. */
  readonly message: string;
}

/** A verdict under the strict policy: accepted, or refused at key import, or refused by verification. */
export type StrictVerdict = 'accept' | 'reject:key' | 'reject:sig';

/** A raw verdict: the backend's boolean, or `error` when it threw. */
export type RawVerdict = 'accept' | 'reject' | 'error';

/** One row of the table. */
export interface VerdictRow {
  /** The case. */
  readonly id: string;
  /** The points' orders and S's range, computed: e.g. `A small, R mixed, S<L`. */
  readonly shape: string;
  /** Raw verdicts by column name (`node`, `webcrypto`, `noble zip215`, `noble strict`). */
  readonly raw: Readonly<Record<string, RawVerdict>>;
  /** Strict verdicts by backend name. */
  readonly strict: Readonly<Record<string, StrictVerdict>>;
}

/** The order class of an encoded point: `small`, `mixed`, `prime`, with `~` for a non-canonical encoding, or `bad`. */
function orderOf(bytes: Uint8Array): string {
  let point: Point;
  try {
    point = Point.fromBytes(bytes, true); // lenient decoding, to classify even non-canonical encodings
  } catch {
    return 'bad';
  }
  let canonical = true;
  try {
    Point.fromBytes(bytes, false);
  } catch {
    canonical = false;
  }
  const order = point.isSmallOrder() ? 'small' : point.isTorsionFree() ? 'prime' : 'mixed';
  return canonical ? order : `${order}~`;
}

/** `A small, R mixed, S<L`: the facts that decide how verifiers treat the case. */
export function describeCase(c: EdgeCase): string {
  const signature = fromHex(c.signature);
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i] as number);
  const range = s === 0n ? 'S=0' : s >= CURVE_ORDER ? 'S>=L' : 'S<L';
  return `A ${orderOf(fromHex(c.public_key))}, R ${orderOf(signature.subarray(0, 32))}, ${range}`;
}

/** The raw verdict of one backend (no policy: the key is imported as it is). */
async function rawVerdict(backend: Ed25519Backend, c: EdgeCase): Promise<RawVerdict> {
  try {
    const key = await backend.importPublicKey(fromHex(c.public_key));
    return (await backend.verify(fromHex(c.signature), fromHex(c.message), key)) ? 'accept' : 'reject';
  } catch {
    return 'error';
  }
}

// #region strict-verdict
/** The verdict of one backend under the strict policy. */
export async function strictVerdict(backend: Ed25519Backend, c: EdgeCase): Promise<StrictVerdict> {
  let key;
  try {
    key = await importVerifyingKey(backend, fromHex(c.public_key));
  } catch (error) {
    if (isCivicError(error)) return 'reject:key';
    throw error;
  }
  return (await verifyStrict(fromHex(c.signature), fromHex(c.message), key)) ? 'accept' : 'reject:sig';
}
// #endregion strict-verdict

/**
 * Runs every case through every backend, raw and strict, plus noble's own `verify`
 * with its default (ZIP-215) and with `{ zip215: false }`.
 */
export async function verdictTable(cases: readonly EdgeCase[], backends: readonly Ed25519Backend[]): Promise<VerdictRow[]> {
  const rows: VerdictRow[] = [];
  for (const c of cases) {
    const raw: Record<string, RawVerdict> = {};
    for (const backend of backends) if (backend.name !== 'noble') raw[backend.name] = await rawVerdict(backend, c);
    const args = [fromHex(c.signature), fromHex(c.message), fromHex(c.public_key)] as const;
    const noble = (zip215: boolean): RawVerdict => {
      try {
        return nobleVerify(...args, { zip215 }) ? 'accept' : 'reject';
      } catch {
        return 'error';
      }
    };
    raw['noble zip215'] = noble(true);
    raw['noble strict'] = noble(false);
    const strict: Record<string, StrictVerdict> = {};
    for (const backend of backends) strict[backend.name] = await strictVerdict(backend, c);
    rows.push({ id: c.id, shape: describeCase(c), raw, strict });
  }
  return rows;
}

/** True when every backend gave the same strict verdict on the row. */
export function agrees(row: VerdictRow): boolean {
  return new Set(Object.values(row.strict)).size === 1;
}

/** The table as fixed-width text, one row per case, raw columns then strict ones. */
export function formatVerdictTable(rows: readonly VerdictRow[]): string {
  const first = rows[0];
  if (first === undefined) return '';
  const rawNames = Object.keys(first.raw);
  const strictNames = Object.keys(first.strict);
  const mark = (v: string): string => (v === 'accept' ? 'ACCEPT' : v === 'error' ? 'error' : v.startsWith('reject:') ? v.slice(7) : '-');
  const header = ['case', 'shape', ...rawNames.map((n) => `raw ${n}`), ...strictNames.map((n) => `strict ${n}`)];
  const body = rows.map((r) => [r.id, r.shape, ...rawNames.map((n) => mark(r.raw[n] ?? '')), ...strictNames.map((n) => mark(r.strict[n] ?? ''))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}

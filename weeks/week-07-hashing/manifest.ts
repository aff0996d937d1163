/**
 * The integrity manifest of a directory of stored artifacts, and the audit verdict
 * for each file. The manifest is itself canonical JSON (so it has one digest of its
 * own) and is read back with the strict parser:
 *
 * ```
 * {"algorithm":"sha256","files":[{"path":"a/b.pdf","sha256":"…","size":1234},…],"version":1}
 * ```
 *
 * Paths are relative, `/`-separated, sorted by UTF-16 code units, and may not climb
 * out of the directory. This module is pure; `node_audit.ts` walks and reads files.
 * @module
 */
import { errorFactory, isCivicError } from '../../lib/errors.ts';
import { HASH_ERRORS } from './catalog.ts';
import { isSha256Hex } from './hex.ts';
import { canonicalBytes } from './jcs.ts';
import { parseStrictJson } from './strict_json.ts';

const fail = errorFactory(HASH_ERRORS);

/** The manifest's file name inside the directory it describes. */
export const MANIFEST_NAME = 'civictrust-manifest.json';

/** One stored file as the manifest records it. */
export interface ManifestEntry {
  /** The path relative to the manifest's directory, `/`-separated. */
  readonly path: string;
  /** The size in bytes. */
  readonly size: number;
  /** The SHA-256 of its bytes, lowercase hex. */
  readonly sha256: string;
}

/** A whole manifest. */
export interface Manifest {
  /** The manifest format version: 1. */
  readonly version: 1;
  /** The digest algorithm: only `sha256`. */
  readonly algorithm: 'sha256';
  /** The files, sorted by path. */
  readonly files: readonly ManifestEntry[];
}

/** True for a relative, normalised, `/`-separated path that stays inside its directory. */
export function isManifestPath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Builds a manifest from entries in any order, sorting them by path. */
export function createManifest(entries: readonly ManifestEntry[]): Manifest {
  const files = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { version: 1, algorithm: 'sha256', files };
}

/** The manifest's bytes: canonical JSON plus a final newline. */
export function encodeManifest(manifest: Manifest): Uint8Array {
  const body = canonicalBytes(manifest);
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  out[body.length] = 0x0a;
  return out;
}

/**
 * Reads a manifest, refusing anything {@link encodeManifest} would not write in
 * meaning: strict JSON, version 1, sha256, safe unique paths, sizes and digests.
 * @throws {@link CivicError} `E_AUDIT_MANIFEST` naming the first problem
 */
export function parseManifest(bytes: Uint8Array): Manifest {
  let value: unknown;
  try {
    value = parseStrictJson(bytes);
  } catch (error) {
    throw fail('E_AUDIT_MANIFEST', `Cannot read manifest: ${isCivicError(error) ? `${error.code}: ${error.message}` : String(error)}`, error);
  }
  const m = value as Partial<Record<string, unknown>> | null;
  if (typeof m !== 'object' || m === null || m.version !== 1 || m.algorithm !== 'sha256' || !Array.isArray(m.files)) {
    throw fail('E_AUDIT_MANIFEST', 'Cannot read manifest: expected {"version":1,"algorithm":"sha256","files":[…]}');
  }
  const seen = new Set<string>();
  const files = m.files.map((entry: unknown, i: number): ManifestEntry => {
    const e = entry as Partial<Record<string, unknown>> | null;
    const ok = typeof e === 'object' && e !== null && typeof e.path === 'string' && isManifestPath(e.path)
      && Number.isSafeInteger(e.size) && (e.size as number) >= 0 && typeof e.sha256 === 'string' && isSha256Hex(e.sha256);
    if (!ok) throw fail('E_AUDIT_MANIFEST', `Cannot read manifest: files[${i}] needs a safe relative path, a size and a lowercase hex sha256`);
    if (seen.has(e.path as string)) throw fail('E_AUDIT_MANIFEST', `Cannot read manifest: ${JSON.stringify(e.path)} is listed twice`);
    seen.add(e.path as string);
    return { path: e.path as string, size: e.size as number, sha256: e.sha256 as string };
  });
  return { version: 1, algorithm: 'sha256', files };
}

/** The verdict on one listed file. */
export type AuditStatus = 'ok' | 'corrupt' | 'missing';

/** What the audit found for one file. */
export interface AuditFinding {
  /** The path, as listed. */
  readonly path: string;
  /** The verdict. */
  readonly status: AuditStatus;
  /** The digest the manifest records. */
  readonly expected: string;
  /** The digest of the bytes found, when the file exists. */
  readonly actual?: string;
  /** The size the manifest records. */
  readonly expectedSize: number;
  /** The size found, when the file exists. */
  readonly actualSize?: number;
}

// #region judge
/**
 * Judges one file: `ok` only when both its size and its digest are the recorded ones.
 * @param entry - the manifest's record
 * @param found - the size and digest of the file now, or undefined if it is gone
 */
export function judgeEntry(entry: ManifestEntry, found: { size: number; sha256: string } | undefined): AuditFinding {
  const base = { path: entry.path, expected: entry.sha256, expectedSize: entry.size };
  if (found === undefined) return { ...base, status: 'missing' };
  const status: AuditStatus = found.sha256 === entry.sha256 && found.size === entry.size ? 'ok' : 'corrupt';
  return { ...base, status, actual: found.sha256, actualSize: found.size };
}
// #endregion judge

/** Counts of each verdict. */
export interface AuditSummary {
  /** Files whose bytes match. */
  readonly ok: number;
  /** Files whose size or digest differs. */
  readonly corrupt: number;
  /** Files that are gone. */
  readonly missing: number;
}

/** Counts the verdicts of an audit. */
export function summarizeAudit(findings: readonly AuditFinding[]): AuditSummary {
  let ok = 0;
  let corrupt = 0;
  let missing = 0;
  for (const f of findings) {
    if (f.status === 'ok') ok++;
    else if (f.status === 'corrupt') corrupt++;
    else missing++;
  }
  return { ok, corrupt, missing };
}

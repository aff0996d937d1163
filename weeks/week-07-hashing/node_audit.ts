/**
 * The integrity audit on disk: build a manifest of a directory by streaming every
 * regular file through SHA-256, write it atomically, and later re-hash each listed
 * file and judge it against the manifest.
 * @module
 */
import { lstat, open, readFile, readdir, rename, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fsError } from '../../lib/logger.ts';
import { toHex } from './hex.ts';
import { MANIFEST_NAME, createManifest, encodeManifest, judgeEntry, parseManifest, type AuditFinding, type Manifest, type ManifestEntry } from './manifest.ts';
import { hashFile } from './node_hash.ts';

/** Lists the regular files under `dir`, recursively, as sorted relative `/` paths (symlinks are not followed). */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(at: string): Promise<void> {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  }
  await walk(dir);
  return out.filter((path) => path !== MANIFEST_NAME && !path.startsWith(`${MANIFEST_NAME}.`));
}

/** What {@link writeManifest} wrote. */
export interface ManifestWritten {
  /** Where the manifest now is: `civictrust-manifest.json` inside the hashed directory. */
  readonly path: string;
  /** The manifest as written: path, size and SHA-256 of every regular file but the manifest itself, sorted by path. */
  readonly manifest: Manifest;
}

/** What {@link auditManifest} found. */
export interface AuditReport {
  /** The manifest file that was checked; the listed paths are relative to its directory. */
  readonly manifestPath: string;
  /** One verdict per file the manifest lists, in manifest order; count them with {@link summarizeAudit}. */
  readonly findings: readonly AuditFinding[];
}

/**
 * Hashes every regular file under `dir` (except the manifest itself) into a manifest.
 * @throws {@link CivicError} `E_FS_*` when the directory cannot be read
 */
export async function buildManifest(dir: string): Promise<Manifest> {
  let paths: string[];
  try {
    paths = await listFiles(dir);
  } catch (error) {
    throw fsError(error, `Cannot list ${dir}`);
  }
  const entries: ManifestEntry[] = [];
  for (const path of paths) {
    const { digest, bytes } = await hashFile(join(dir, path));
    entries.push({ path, size: bytes, sha256: toHex(digest) });
  }
  return createManifest(entries);
}

/**
 * Builds the manifest of `dir` and writes it to `dir/civictrust-manifest.json`:
 * written to a temporary name, flushed, then renamed over the old one.
 * @returns the manifest's path and contents
 */
export async function writeManifest(dir: string): Promise<ManifestWritten> {
  const manifest = await buildManifest(dir);
  const path = join(dir, MANIFEST_NAME);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(encodeManifest(manifest));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    throw fsError(error, `Cannot write ${path}`);
  }
  return { path, manifest };
}

/** Where a manifest is: the path itself, or `MANIFEST_NAME` inside a directory. */
export async function locateManifest(target: string): Promise<string> {
  try {
    return (await stat(target)).isDirectory() ? join(target, MANIFEST_NAME) : target;
  } catch (error) {
    throw fsError(error, `Cannot audit ${target}`);
  }
}

// #region audit
/**
 * Re-hashes every file a manifest lists and judges each one.
 * @param target - a manifest file, or a directory holding `civictrust-manifest.json`
 * @returns the manifest's path and one finding per listed file, in manifest order
 * @throws {@link CivicError} `E_AUDIT_MANIFEST` for a bad manifest, `E_FS_*` when it cannot be read
 */
export async function auditManifest(target: string): Promise<AuditReport> {
  const manifestPath = await locateManifest(target);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(manifestPath);
  } catch (error) {
    throw fsError(error, `Cannot read manifest ${manifestPath}`);
  }
  const manifest = parseManifest(bytes);
  const root = dirname(manifestPath);
  const findings: AuditFinding[] = [];
  for (const entry of manifest.files) {
    const path = join(root, ...entry.path.split('/'));
    let found: { size: number; sha256: string } | undefined;
    // lstat, not stat: a listed file replaced by a symlink is not the stored file.
    const info = await lstat(path).catch(() => undefined);
    if (info?.isFile()) {
      const { digest, bytes: size } = await hashFile(path);
      found = { size, sha256: toHex(digest) };
    }
    findings.push(judgeEntry(entry, found));
  }
  return { manifestPath, findings };
}
// #endregion audit

/**
 * `civictrust hash file|json|manifest|audit`: the command group of week 7.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { CliIo, CliSpec, CommandArgs, CommandGroup, FlagSpec } from '../../lib/cli.ts';
import { LOG_COMMANDS } from '../../lib/cli.ts';
import { EXIT, LOG_ERRORS, errorFactory, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { fsError } from '../../lib/logger.ts';
import { concatBytes } from '../../lib/bytes.ts';
import { HASH_ERRORS } from './catalog.ts';
import { toHex } from './hex.ts';
import { canonicalize } from './jcs.ts';
import { summarizeAudit } from './manifest.ts';
import { auditManifest, writeManifest } from './node_audit.ts';
import { createNodeSha256, hashFile, nodeSha256 } from './node_hash.ts';
import { hashStream } from './sha256.ts';
import { parseStrictJson } from './strict_json.ts';

const fail = errorFactory(HASH_ERRORS);

const JSON_OUT: FlagSpec = { name: 'json', type: 'boolean', help: 'print one JSON object per line instead of text' };

/** Hashes a named file or, for `-`, standard input, as a stream. */
async function digestOperand(operand: string, io: CliIo): Promise<{ digest: Uint8Array; bytes: number }> {
  if (operand === '-') return hashStream(io.stdin(), createNodeSha256());
  try {
    return await hashFile(operand);
  } catch (error) {
    throw fsError(error, `Cannot hash ${operand}`);
  }
}

// #region hash-file-command
async function fileCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  for (const operand of args.positionals) {
    const { digest, bytes } = await digestOperand(operand, io);
    const sha256 = toHex(digest);
    // The text form is sha256sum's, so `sha256sum -c` can check what this prints.
    io.stdout(args.flags.json === true ? `${JSON.stringify({ path: operand, bytes, sha256 })}\n` : `${sha256}  ${operand}\n`);
  }
  return EXIT.ok;
}
// #endregion hash-file-command

/** Reads a whole JSON document from a file or stdin (documents are small; files are streamed elsewhere). */
async function readDocument(operand: string, io: CliIo): Promise<Uint8Array> {
  if (operand !== '-') {
    try {
      return new Uint8Array(await readFile(operand));
    } catch (error) {
      throw fsError(error, `Cannot read ${operand}`);
    }
  }
  const parts: Uint8Array[] = [];
  for await (const chunk of io.stdin()) parts.push(chunk);
  return concatBytes(parts);
}

async function jsonCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const operand = args.positionals[0] ?? '-';
  const canonical = canonicalize(parseStrictJson(await readDocument(operand, io)));
  const bytes = new TextEncoder().encode(canonical);
  const sha256 = toHex(nodeSha256(bytes));
  io.stdout(args.flags.json === true
    ? `${JSON.stringify({ canonical, bytes: bytes.length, sha256 })}\n`
    : `${canonical}\nsha256 ${sha256}\n`);
  return EXIT.ok;
}

async function manifestCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const dir = args.positionals[0] as string;
  const { path, manifest } = await writeManifest(dir);
  io.stdout(args.flags.json === true
    ? `${JSON.stringify({ manifest: path, files: manifest.files.length })}\n`
    : `wrote ${path}: ${manifest.files.length} files\n`);
  return EXIT.ok;
}

// #region audit-command
async function auditCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const { manifestPath, findings } = await auditManifest(args.positionals[0] as string);
  const json = args.flags.json === true;
  for (const f of findings) {
    if (json) io.stdout(`${JSON.stringify(f)}\n`);
    else if (f.status === 'ok') io.stdout(`ok       ${f.path}\n`);
    else if (f.status === 'missing') io.stdout(`MISSING  ${f.path}  expected ${f.expected} (${f.expectedSize} bytes)\n`);
    else io.stdout(`CORRUPT  ${f.path}  expected ${f.expected} (${f.expectedSize} bytes)  actual ${f.actual} (${f.actualSize} bytes)\n`);
  }
  const { ok, corrupt, missing } = summarizeAudit(findings);
  io.stderr(`audited ${findings.length} files in ${manifestPath}: ${ok} ok, ${corrupt} corrupt, ${missing} missing\n`);
  const bad = findings.find((f) => f.status !== 'ok');
  if (bad === undefined) return EXIT.ok;
  if (corrupt > 0) {
    const first = findings.find((f) => f.status === 'corrupt');
    throw fail('E_AUDIT_CORRUPT', `Cannot vouch for ${corrupt} of ${findings.length} files: first is ${first?.path}`);
  }
  throw fail('E_AUDIT_MISSING', `Cannot vouch for ${missing} of ${findings.length} files: ${bad.path} is missing`);
}
// #endregion audit-command

/** The `hash` command group. */
export const HASH_COMMANDS: CommandGroup = {
  noun: 'hash',
  summary: 'SHA-256 of files and streams, canonical JSON, and integrity manifests with their audit',
  commands: [
    {
      verb: 'file',
      summary: 'Print the SHA-256 of each file (or - for stdin), streamed in 64 KiB reads',
      operands: 'FILE|- [FILE|- …]',
      arity: { min: 1, max: 64 },
      flags: [JSON_OUT],
      details: 'The text output is sha256sum\'s ("<hex>  <name>"), so `sha256sum -c` can check it.\nMemory stays at one read buffer whatever the file size.',
      run: fileCommand,
    },
    {
      verb: 'json',
      summary: 'Parse a JSON document strictly (I-JSON) and print its RFC 8785 canonical form and SHA-256',
      operands: '[FILE|-]',
      arity: { min: 0, max: 1 },
      flags: [JSON_OUT],
      details: 'Duplicate member names, lone surrogates, numbers beyond a double, bad UTF-8 and\ntrailing data are refused with an E_JSON_* code and exit status 3.',
      run: jsonCommand,
    },
    {
      verb: 'manifest',
      summary: 'Hash every file under DIR into DIR/civictrust-manifest.json (written atomically)',
      operands: 'DIR',
      arity: { min: 1, max: 1 },
      flags: [JSON_OUT],
      run: manifestCommand,
    },
    {
      verb: 'audit',
      summary: 'Re-hash every file a manifest lists and report each corrupt or missing one',
      operands: 'DIR|MANIFEST',
      arity: { min: 1, max: 1 },
      flags: [JSON_OUT],
      details: 'Prints one line per file (expected and actual digest for a corrupt one).\nExit status 8 (integrity) when any file is corrupt or missing.',
      run: auditCommand,
    },
  ],
};

/** Week 7's CLI: week 1's log group and the hash group, as `node_main.ts` runs it. */
export const WEEK7_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-07',
  groups: [LOG_COMMANDS, HASH_COMMANDS],
  catalog: mergeCatalogs(LOG_ERRORS, HASH_ERRORS),
};

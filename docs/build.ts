/**
 * `npm run docs [-- --out <dir>] [--root <repo>]`: builds the documentation site.
 *
 * `--out` defaults to `docs/_site/` of the root; `--root` (a tree shaped like this
 * repository, for fixtures) defaults to the folder above `docs/`.
 *
 * Progress goes to stderr. On failure every problem is printed as
 * `error[CODE]: message` and the process exits with 1 (build failed) or 2 (bad usage).
 * @module
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSite, DEFAULT_OUT } from './site.ts';
import { DocsBuildError } from './site_links.ts';

/** The repository root: the folder above `docs/`. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs the build for a command line.
 * @param argv - the arguments after the script name
 * @returns the process exit code: 0 built, 1 the build failed, 2 bad usage
 */
export async function main(argv: readonly string[]): Promise<number> {
  let out: string;
  let root: string;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { out: { type: 'string' }, root: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    root = resolve(values.root ?? ROOT);
    out = resolve(values.out ?? resolve(root, DEFAULT_OUT));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error[E_DOCS_USAGE]: Cannot read the command line: ${detail} (usage: npm run docs -- [--out <dir>] [--root <repo>])\n`);
    return 2;
  }
  try {
    await buildSite({ root, out, log: (line) => process.stderr.write(`docs: ${line}\n`) });
    return 0;
  } catch (error) {
    if (error instanceof DocsBuildError) {
      for (const problem of error.problems) process.stderr.write(`${problem}\n`);
      process.stderr.write(`error[${error.code}]: ${error.message}\n`);
      return error.code === 'E_DOCS_USAGE' ? 2 : 1;
    }
    throw error;
  }
}

// Run only as the entry script, so tests can import `main` without starting a build.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

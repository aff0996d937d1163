/**
 * The `civictrust` command line: every week's command groups under one program,
 * with one merged error catalog behind one exit-code table.
 *
 * Each group is loaded on demand. Under tsx, importing a week's barrel costs 30–140 ms
 * (every module it reaches is transformed and linked), and a CLI that many processes
 * start at once (`log append` in a loop, the gates' process drills) should not pay for
 * signing and worker pools to append one record. {@link loadCli} looks at the noun and
 * imports only the barrels that noun needs, with the error catalogs of everything it
 * loaded; anything else (`--help`, `--version`, an unknown noun) gets the whole CLI.
 * @module
 */
import { readFileSync } from 'node:fs';
import { LOG_COMMANDS, type CliSpec, type CommandGroup } from '../lib/cli.ts';
import { LOG_ERRORS, mergeCatalogs, type ErrorCatalog } from '../lib/errors.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The groups one noun brings, and the catalogs of the barrels it loaded. */
interface Loaded {
  readonly groups: readonly CommandGroup[];
  readonly catalogs: readonly ErrorCatalog[];
}

/** Week 2's echo commands (framing). */
async function framing(): Promise<Loaded> {
  const f = await import('../lib/framing.ts');
  return { groups: [f.ECHO_COMMANDS], catalogs: [f.FRAME_ERRORS] };
}

/** Weeks 3 and 4: the server and HTTP commands. */
async function serverAndHttp(): Promise<Loaded> {
  const [f, s, h] = await Promise.all([import('../lib/framing.ts'), import('../lib/server.ts'), import('../lib/http.ts')]);
  return { groups: [h.SERVER_HEALTH_COMMANDS, h.HTTP_COMMANDS], catalogs: [f.FRAME_ERRORS, s.SERVER_ERRORS, h.HTTP_ERRORS] };
}

/** Weeks 5 and 6: the pool and the overload commands. */
async function poolAndOverload(): Promise<Loaded> {
  const [base, p, o] = await Promise.all([serverAndHttp(), import('../lib/pool.ts'), import('../lib/overload.ts')]);
  return { groups: [p.POOL_COMMANDS, o.OVERLOAD_COMMANDS], catalogs: [...base.catalogs, p.POOL_ERRORS, o.OVERLOAD_ERRORS] };
}

/** Weeks 7 and 8: hashing, keys and envelopes. */
async function hashingAndSigning(): Promise<Loaded> {
  const [h, s] = await Promise.all([import('../lib/hashing.ts'), import('../lib/signing.ts')]);
  return { groups: [h.HASH_COMMANDS, s.KEY_COMMANDS, s.ENVELOPE_COMMANDS], catalogs: [h.HASH_ERRORS, s.SIGN_ERRORS] };
}

/**
 * Weeks 9 and 10: the KV commands (week 9's, with week 10's `kv serve --wal`) and the
 * WAL tools; they sign with week 8 and frame with week 2.
 */
async function kvAndWal(): Promise<Loaded> {
  const [echo, signing, k, w] = await Promise.all([framing(), hashingAndSigning(), import('../lib/kv.ts'), import('../lib/wal.ts')]);
  return { groups: [w.DURABLE_KV_COMMANDS, w.WAL_COMMANDS], catalogs: [...echo.catalogs, ...signing.catalogs, k.KV_ERRORS, w.WAL_ERRORS] };
}

/** Week 11's linearizability checker (`lin check`); it reads history files only. */
async function linearizability(): Promise<Loaded> {
  const r = await import('../lib/replication.ts');
  return { groups: [r.LIN_COMMANDS], catalogs: [r.LIN_ERRORS] };
}

/**
 * The replica cluster (weeks 11 and 12 on weeks 8–10): the launcher and its client
 * commands; a replica's refusal may carry any code of the barrels it runs on.
 */
async function cluster(): Promise<Loaded> {
  const [store, r, e, c] = await Promise.all([kvAndWal(), import('../lib/replication.ts'), import('../lib/election.ts'), import('./cluster/mod.ts')]);
  return {
    groups: [c.CLUSTER_COMMANDS],
    catalogs: [...store.catalogs, r.REPLICATION_ERRORS, r.REPLICA_ERRORS, r.LIN_ERRORS, e.ELECTION_ERRORS, c.CLUSTER_ERRORS],
  };
}

/** Everything, in the order the top-level help lists it. */
async function everything(): Promise<Loaded> {
  const [echo, server, poolOverload, signing, store, node, lin, replicas] = await Promise.all([
    framing(), serverAndHttp(), poolAndOverload(), hashingAndSigning(), kvAndWal(), import('./node/mod.ts'), linearizability(), cluster(),
  ]);
  return {
    groups: [LOG_COMMANDS, ...echo.groups, ...server.groups, ...poolOverload.groups, ...signing.groups, node.NODE_COMMANDS, ...store.groups, ...lin.groups, ...replicas.groups],
    catalogs: [...new Set([...echo.catalogs, ...server.catalogs, ...poolOverload.catalogs, ...signing.catalogs, ...store.catalogs, ...lin.catalogs, ...replicas.catalogs])],
  };
}

/** Which loader serves each noun; the node composes every week, so it loads everything. */
const LOADERS: Readonly<Record<string, () => Promise<Loaded>>> = {
  log: async () => ({ groups: [LOG_COMMANDS], catalogs: [] }),
  echo: framing,
  server: serverAndHttp,
  http: serverAndHttp,
  pool: poolAndOverload,
  overload: poolAndOverload,
  hash: hashingAndSigning,
  key: hashingAndSigning,
  envelope: hashingAndSigning,
  node: everything,
  kv: kvAndWal,
  wal: kvAndWal,
  lin: linearizability,
  cluster,
};

/**
 * Builds the CLI for one command line, loading only what its noun needs.
 * @param argv - the arguments after the program name
 * @returns the spec to run: the noun's groups, or every group for anything else
 */
export async function loadCli(argv: readonly string[]): Promise<CliSpec> {
  const noun = argv[0];
  const loader = noun !== undefined && Object.hasOwn(LOADERS, noun) ? LOADERS[noun] : undefined;
  const loaded = await (loader ?? everything)();
  return {
    name: 'civictrust',
    version: pkg.version,
    groups: loaded.groups,
    catalog: mergeCatalogs(LOG_ERRORS, ...loaded.catalogs),
  };
}

#!/usr/bin/env node
// The civictrust executable: loads the TypeScript sources through tsx and runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { loadCli } = await import('../civictrust.ts');
const { runMain } = await import('../../lib/cli.ts');
await runMain(await loadCli(process.argv.slice(2)));

/**
 * Vitest configuration of the gate runner's fixture tree, used only when
 * gates/run.test.ts points the runner at this folder with `--root`.
 * @module
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Keep vite's cache in the repository's node_modules, not in the fixture tree.
  cacheDir: '../../../node_modules/.vite/gate-fixture',
  test: {
    include: ['weeks/**/gate.test.ts'],
  },
});

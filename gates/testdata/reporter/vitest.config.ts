/**
 * Vitest configuration of the summary reporter's fixture, used only when
 * gates/summary_reporter.test.ts runs vitest with `--root` set to this folder.
 * @module
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Keep vite's cache in the repository's node_modules, not in the fixture folder.
  cacheDir: '../../../node_modules/.vite/reporter-fixture',
  test: {
    include: ['*.test.ts'],
  },
});

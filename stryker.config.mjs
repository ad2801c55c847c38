// StrykerJS: mutation testing of the TypeScript layer (src/), with the vitest suites that
// exercise it on the cpu backend (vitest.mutation.config.mts). `npm run mutation` runs this
// and the native mutants (scripts/mutation/native-mutants.mjs); results: docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mts' },
  // src/cuda.ts runs only with a GPU (its suite skips elsewhere): mutating it here would only
  // measure that. Static mutants (module-level constants) would rerun every test per mutant.
  mutate: ['src/**/*.ts', '!src/cuda.ts'],
  ignoreStatic: true,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 60_000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'mutation-results/stryker.json' },
  htmlReporter: { fileName: 'mutation-results/stryker.html' },
  tempDirName: '.stryker-tmp',
  // Re-runs test only the mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: 'mutation-results/stryker-incremental.json',
  cleanTempDir: 'always',
  ignorePatterns: ['dist', 'prebuilds', 'build-tools', 'build-prebuild', 'build-gpu', 'mutation-results', '*.tgz', '.git'],
  thresholds: { high: 90, low: 85, break: null },
};

// The suites mutation testing runs (stryker.config.mjs): everything that exercises src/ on the
// cpu backend. Left out: the packed-tarball and wasm re-runs (they repeat these suites through
// another install or backend) and the GPU suite (it skips without a device).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/worked-values.test.ts', 'test/reference.test.ts', 'test/numerics.test.ts', 'test/bad-input.test.ts',
      'test/schedule.test.ts', 'test/training.test.ts', 'test/backends.test.ts', 'test/backend-move.test.ts',
      'test/native.test.ts', 'test/loader.test.ts', 'test/cuda.test.ts', 'test/options.test.ts',
      'test/complement-entropy.test.ts', 'test/drop-in.test.ts', 'test/torch-parity.test.ts',
    ],
    pool: 'forks',
    env: { MIXLOSS_TEST_QUICK: '1' },  // the largest shapes and longest fits left out (test/support/tf.ts)
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

// The shared suites again on the wasm backend, where the kernels read and write the
// WebAssembly heap directly.
import '@tensorflow/tfjs-backend-wasm';

import { tf } from './support/tf';

(globalThis as { __MIXLOSS_TEST_BACKEND__?: string }).__MIXLOSS_TEST_BACKEND__ = 'wasm';
// Some suites make tensors while they are collected: the backend must be up before that.
await tf.setBackend('wasm');
await tf.ready();

await import('./worked-values.test');
await import('./reference.test');
await import('./numerics.test');
await import('./bad-input.test');
await import('./bad-input-matrix.test');
await import('./training.test');
await import('./options.test');
await import('./complement-entropy.test');
await import('./torch-parity.test');
await import('./drop-in.test');
await import('./information.test');
await import('./head.test');
await import('./conventions.test');
await import('./fuzz-api.test');

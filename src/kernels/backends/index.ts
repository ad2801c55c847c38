// The tfjs backends whose kernels reach tensor memory without a copy, one file each (as tfjs
// registers each backend's kernels from its own folder). A backend not listed takes the
// generic, copying path. A new zero-copy backend adds its file and one line here.
import type { StorageFactory } from '../storage';
import { cpuStorage } from './cpu';
import { wasmStorage } from './wasm';

export { genericStorage } from './generic';

export const ZERO_COPY: Record<string, StorageFactory> = {
  cpu: cpuStorage,
  wasm: wasmStorage,
};

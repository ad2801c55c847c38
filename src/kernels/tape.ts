// An op that throws leaves nothing on a recording gradient tape. tfjs disposes the tensors a tape
// node saves for its backward pass only after that pass; an op that records stock ops (a reshape, a
// transpose, a mask) and then throws from its kernel (a bad class id found natively, a gradient
// that is not finite) would leave those saved copies behind for good.
import { engine } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

interface TapeNode {
  saved?: Tensor[];
}

/** Runs fn; when it throws, the tape nodes it recorded are removed and their saved tensors disposed. */
export function withTapeRollback<T>(fn: () => T): T {
  const state = (engine() as unknown as { state?: { activeTape?: TapeNode[] | null } }).state;
  const tape = state?.activeTape;
  const start = tape?.length ?? 0;
  try {
    return fn();
  } catch (e) {
    if (tape != null && state?.activeTape === tape && tape.length > start) {
      for (const node of tape.splice(start)) for (const t of node.saved ?? []) t.dispose();
    }
    throw e;
  }
}

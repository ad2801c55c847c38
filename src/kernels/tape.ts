// What mixloss reads of tfjs's gradient tape (whether a kernel is recorded, and on which tape),
// and what it takes back off it. An op that throws leaves nothing on a recording gradient tape:
// tfjs disposes the tensors a tape node saves for its backward pass only after that pass, so an op
// that records stock ops (a reshape, a transpose, a mask) and then throws from its kernel (a bad
// class id found natively, a gradient that is not finite) would leave those saved copies behind.
import { engine, registerGradient } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

interface TapeNode {
  saved?: Tensor[];
}

/** The engine's gradient state (not in tfjs's public types). */
interface TapeState {
  activeTape?: TapeNode[] | null;
  gradientDepth?: number;
  kernelDepth?: number;
}

function tapeState(): TapeState | undefined {
  return (engine() as unknown as { state?: TapeState }).state;
}

/** The tape now recording (an identity that changes with each outermost tf.grad), if any. */
export function activeTape(): unknown {
  return tapeState()?.activeTape;
}

/**
 * Whether the kernel now running (called from within its kernel function) is recorded on a
 * gradient tape (tf.grad, optimizer.minimize, model.fit), so that its backward pass may come: tfjs
 * records a kernel while a tape is open and no other kernel is running, so not one run inside
 * another's forward (tf.customGrad's).
 */
export function taped(): boolean {
  const state = tapeState();
  return (state?.gradientDepth ?? 0) > 0 && (state?.kernelDepth ?? 1) <= 1;
}

function disposeSaved(nodes: TapeNode[]): void {
  for (const node of nodes) for (const t of node.saved ?? []) t.dispose();
}

/** Runs fn; when it throws, the tape nodes it recorded are removed and their saved tensors disposed. */
export function withTapeRollback<T>(fn: () => T): T {
  const state = tapeState();
  const tape = state?.activeTape;
  const start = tape?.length ?? 0;
  try {
    return fn();
  } catch (e) {
    if (tape != null && state?.activeTape === tape && tape.length > start) disposeSaved(tape.splice(start));
    throw e;
  }
}

/**
 * Registers, for a backward kernel, a gradient that is an Error naming the op: a second-order
 * gradient (a gradient of the loss's gradient, as double backpropagation and MAML take) would go
 * through the native backward kernel, which has no gradient of its own. tfjs disposes the tensors
 * its tape saved only after a backward pass that succeeds; this one is disposed here first when it
 * is the outermost (no tape above it would go on to use them), so the failed attempt leaves nothing.
 */
export function firstOrderOnly(kernelName: string): void {
  registerGradient({
    kernelName,
    gradFunc: (_dy, _saved, attrs) => {
      const state = tapeState();
      if (state?.gradientDepth === 0 && state.activeTape != null) {
        disposeSaved(state.activeTape);
        state.activeTape = [];
      }
      const op = typeof attrs?.op === 'string' ? attrs.op : 'loss';
      throw new Error(
        `mixloss.${op}: no second-order gradient (a gradient of this loss's gradient): its gradient is a native kernel ` +
          'without a gradient of its own. For double backpropagation or MAML, write the loss with stock tfjs ops (tf.logSoftmax, ...).',
      );
    },
  });
}

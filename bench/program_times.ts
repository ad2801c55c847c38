// GPU time per program on tfjs's webgpu backend: the backend's timestamp queries (tf.time), each
// program named by its shader (mixloss's programs by their name, tfjs's by their class).
import * as tf from '@tensorflow/tfjs';

import { median } from './median';

interface TimedBackend {
  supportTimestampQuery?: boolean;
  runWebGPUProgram(program: { shaderKey?: string; constructor: { name: string } }, ...rest: unknown[]): unknown;
}

/** A program's name: mixloss's shader key without its variant, or tfjs's class name. */
function programName(p: { shaderKey?: string; constructor: { name: string } }): string {
  const key = p.shaderKey ?? '';
  return key.startsWith('mixloss_') ? key.slice('mixloss_'.length).replace(/_[A-Za-z0-9]+_[01]+$/, '') : p.constructor.name;
}

/**
 * Runs `step` (it returns tensors, which are read back and disposed) `reps` times and gives each
 * program's median GPU ms per step, in the order the programs first ran (a name that runs twice
 * in a step is summed); undefined where the device has no timestamp queries.
 */
export async function programTimes(step: () => tf.Tensor[], reps: number): Promise<Array<[string, number]> | undefined> {
  const backend = tf.backend() as unknown as TimedBackend;
  if (!backend.supportTimestampQuery) return undefined;
  const run = backend.runWebGPUProgram;
  const perRep: Array<Map<string, number>> = [];
  for (let i = 0; i < reps; i++) {
    const names: string[] = [];
    backend.runWebGPUProgram = function (this: TimedBackend, program, ...rest) {
      names.push(programName(program));
      return run.call(this, program, ...rest);
    };
    let out: tf.Tensor[] = [];
    let timing: tf.TimingInfo & { getExtraProfileInfo?: () => string };
    try {
      timing = await tf.time(() => {
        out = step();
      });
    } finally {
      backend.runWebGPUProgram = run;
    }
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    const ms = (timing.getExtraProfileInfo?.() ?? '').split(', ').map((entry) => Number(entry.slice(entry.lastIndexOf(': ') + 2)));
    if (ms.length !== names.length) throw new Error(`bench: ${names.length} programs ran but ${ms.length} were timed`);
    const byName = new Map<string, number>();
    names.forEach((name, k) => byName.set(name, (byName.get(name) ?? 0) + ms[k]));
    perRep.push(byName);
  }
  return [...perRep[0].keys()].map((name) => [name, median(perRep.map((m) => m.get(name) ?? 0))]);
}

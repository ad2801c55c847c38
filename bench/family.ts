// `mixloss bench family`: each loss kind's training pass (statistics, loss and gradient: the
// native forwardBackward that tf.grad and model.fit run) beside plain CE's, and the options'
// cost, at one shape (or, with pass 'forward', the forward pass alone: statistics and loss, what
// a loss without a gradient runs); rounds interleave the cases so that drift hits all alike, and
// the table gives medians and each case's ratio to CE measured in the same run. With --baseline, an addon
// built from an earlier commit (scripts/build-baseline.sh) runs in the same rounds: every case
// when it takes the same named arguments (a before/after table), else CE alone.
import * as os from 'os';

import { native } from '../src/native';
import type { LossSpec } from '../src/kernels/attrs';
import { median } from './median';
import { uniformValues } from './random';

interface Case {
  name: string;
  loss: LossSpec;
  classWeights?: boolean;
  /** Class ids with every 8th row ignored (ignoreIndex −100). */
  ignore?: boolean;
  /** Sample weights [B] (a kernel input). */
  sampleWeights?: boolean;
}

const CASES: Case[] = [
  { name: 'CE (no options)', loss: { kind: 'mixed', alpha: 1, beta: 0 } },
  { name: 'EL', loss: { kind: 'mixed', alpha: 0, beta: 1 } },
  { name: 'mixed α=1 β=1', loss: { kind: 'mixed', alpha: 1, beta: 1 } },
  { name: 'Poly-1 ε=-1', loss: { kind: 'mixed', alpha: 1, beta: -1 } },
  { name: 'MAE', loss: { kind: 'mae' } },
  { name: 'focal γ=2', loss: { kind: 'focal', gamma: 2 } },
  { name: 'GCE q=0.7 k=0.5', loss: { kind: 'generalizedCE', q: 0.7, truncation: 0.5 } },
  { name: 'tamed CE a=0.5', loss: { kind: 'tamedCE', a: 0.5 } },
  { name: 'MPCE (argmax statistic)', loss: { kind: 'mpce' } },
  { name: 'complement entropy (COT)', loss: { kind: 'complementEntropy' } },
  { name: 'CE + classWeights', loss: { kind: 'mixed', alpha: 1, beta: 0 }, classWeights: true },
  { name: 'CE + ignoreIndex', loss: { kind: 'mixed', alpha: 1, beta: 0, ignoreIndex: -100 }, ignore: true },
  { name: 'CE + sample weights', loss: { kind: 'mixed', alpha: 1, beta: 0 }, sampleWeights: true },
  { name: 'CE + zLoss', loss: { kind: 'mixed', alpha: 1, beta: 0, zLoss: 1e-4 } },
  { name: 'CE + labelSmoothing 0.1', loss: { kind: 'mixed', alpha: 1, beta: 0, labelSmoothing: 0.1 } },
  { name: 'CE + smoothing + classWeights', loss: { kind: 'mixed', alpha: 1, beta: 0, labelSmoothing: 0.1 }, classWeights: true },
  { name: 'CE + softcap 30', loss: { kind: 'mixed', alpha: 1, beta: 0, softcap: 30 } },
];

/** The addon of an earlier commit: named arguments (lossKinds is there), or positional (before the named spec). */
interface OldAddon {
  forwardBackward(...args: unknown[]): number;
  forward(...args: unknown[]): number;
  info(): { statsPerRow: number };
  lossKinds?: () => unknown;
}

export type Pass = 'training' | 'forward';

export async function family(opts: {
  B: number;
  C: number;
  rounds: number;
  reps: number;
  baseline?: string;
  pass?: Pass;
}): Promise<string> {
  const { B, C, rounds, reps } = opts;
  const forward = opts.pass === 'forward';
  const what = forward
    ? 'Forward pass (native forward: statistics and loss)'
    : 'Training pass (native forwardBackward: statistics, loss and gradient)';
  const addon = native();
  const logits = uniformValues(B * C, 12345, -4, 4);
  const ids = Int32Array.from({ length: B }, (_, r) => (r * 7919) % C);
  const idsIgnored = ids.map((y, r) => (r % 8 === 0 ? -100 : y));
  const classWeights = Float32Array.from({ length: C }, (_, c) => 0.5 + (c % 3) * 0.5);
  const weights = Float32Array.from({ length: B }, (_, r) => (r % 4) * 0.5);
  const rowLoss = new Float32Array(B),
    grad = new Float32Array(B * C);
  const casesOn = (a: Pick<OldAddon, 'forwardBackward' | 'forward' | 'info'>, suffix: string) => {
    const stats = new Float32Array(B * a.info().statsPerRow);
    return CASES.map((c) => {
      const call = {
        logits,
        rows: B,
        classes: C,
        labels: c.ignore ? idsIgnored : ids,
        dense: false,
        loss: c.loss,
        ...(c.classWeights ? { classWeights } : {}),
        ...(c.sampleWeights ? { weights } : {}),
        stats,
        rowLoss,
      };
      const training = { ...call, gradScale: 1 / B, grad };
      return { name: c.name + suffix, run: forward ? () => a.forward(call) : () => a.forwardBackward(training) };
    });
  };
  const runs: Array<{ name: string; run: () => void }> = casesOn(addon as unknown as OldAddon, '');
  const old = opts.baseline ? (require(opts.baseline) as OldAddon) : undefined;
  if (old !== undefined && old.lossKinds === undefined && forward) {
    throw new Error(
      'mixloss bench family: --pass forward needs a baseline with the named API (lossKinds); this one has positional arguments',
    );
  }
  const baselineRuns =
    old === undefined
      ? []
      : old.lossKinds !== undefined
        ? casesOn(old, ' (baseline)')
        : [
            {
              name: 'CE on the baseline addon',
              run: () => {
                const oldStats = new Float32Array(B * old.info().statsPerRow);
                old.forwardBackward(logits, B, C, ids, false, 0, 1, 0, 0, oldStats, rowLoss, 1 / B, grad);
              },
            },
          ];
  runs.push(...baselineRuns);
  const times = new Map<string, number[]>(runs.map((r) => [r.name, []]));
  for (const r of runs) r.run(); // warm-up: pages, threads
  for (let round = 0; round < rounds; round++) {
    for (const r of runs) {
      // The other addon's pool (a baseline's) spins 200 µs after its last loop: 0.5 ms of this
      // thread's own work lets it go to sleep, then one untimed call wakes this case's workers.
      for (const t = process.hrtime.bigint(); process.hrtime.bigint() - t < 500_000n;);
      r.run();
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < reps; k++) r.run();
      times.get(r.name)!.push(Number(process.hrtime.bigint() - t0) / 1e6 / reps);
    }
  }
  const ce = median(times.get(CASES[0].name)!);
  if (old !== undefined && old.lossKinds !== undefined) {
    // Before/after: each case on this addon and on the baseline, in the same rounds.
    const ceBase = median(times.get(`${CASES[0].name} (baseline)`)!);
    return [
      `${what} at ${B} × ${C}, this addon beside the baseline ${opts.baseline}, median of ${rounds}`,
      `interleaved rounds of ${reps} calls (each after 0.5 ms and one untimed call); ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${native().getThreads()} threads.`,
      '',
      '| loss | median ms | × CE | baseline ms | baseline × CE | this / baseline |',
      '|---|---:|---:|---:|---:|---:|',
      ...CASES.map((c) => {
        const m = median(times.get(c.name)!),
          b = median(times.get(`${c.name} (baseline)`)!);
        return `| ${c.name} | ${m.toFixed(3)} | ${(m / ce).toFixed(2)} | ${b.toFixed(3)} | ${(b / ceBase).toFixed(2)} | ${(m / b).toFixed(2)} |`;
      }),
    ].join('\n');
  }
  const lines = [
    `${what} at ${B} × ${C}, median of ${rounds} interleaved rounds`,
    `of ${reps} calls (each after 0.5 ms and one untimed call); ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${native().getThreads()} threads.`,
    '',
    '| loss | median ms | × CE |',
    '|---|---:|---:|',
    ...runs.map((r) => {
      const m = median(times.get(r.name)!);
      return `| ${r.name} | ${m.toFixed(3)} | ${(m / ce).toFixed(2)} |`;
    }),
  ];
  return lines.join('\n');
}

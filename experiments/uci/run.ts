// The experiment: every data set × architecture trained for every seed, method and learning
// rate; per (data set, architecture, method, seed) the learning rate and epoch chosen on
// validation accuracy; then the paper's summary statistics per architecture.
import { DATASETS, loadDataset, standardize } from './datasets';
import { Method } from './methods';
import { stratifiedSplit } from './split';
import { conover, friedman, MethodSummary, PairTest, summarize } from './stats';
import { Arch, ModelSpec, trainAll } from './train';

export interface ExperimentOptions {
  datasets: string[];
  seeds: number;
  archs: Arch[];
  methods: Method[];
  epochs: number;
  learningRates: number[];
  batchSize: number;
  momentum: number;
  dataDir?: string;
  /** Progress: the unit of work about to start or just done, and the fraction of all work done. */
  onProgress?: (p: { dataset: string; arch: Arch; epoch: number; epochs: number; fraction: number }) => void;
}

export interface RunRecord {
  dataset: string;
  arch: Arch;
  method: Method;
  seed: number;
  testAccuracy: number;
  validationAccuracy: number;
  /** 1-based epoch chosen on validation accuracy. */
  epoch: number;
  learningRate: number;
}

export interface ArchSummary {
  baseline: Method;
  methods: Record<string, MethodSummary>;
  friedman: { statistic: number; pValue: number } | null;
  conover: PairTest[];
}

export interface Results {
  datasets: Array<{ name: string; rows: number; features: number; classes: number; source: string }>;
  settings: Omit<ExperimentOptions, 'datasets' | 'onProgress' | 'dataDir'> & { split: string; seedsUsed: number[] };
  runs: RunRecord[];
  summary: Record<string, ArchSummary>;
}

/** The seeds of a run of `count` seeds. */
export const seedList = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

export function runExperiment(options: ExperimentOptions): Results {
  const seeds = seedList(options.seeds);
  const loaded = options.datasets.map((name) => loadDataset(name, options.dataDir));
  // Work per (data set, architecture), for the time left: its steps, each weighted by a fixed
  // per-step cost (tfjs's dispatch, ~0.6 ms here, as many multiply-adds) plus its multiply-adds.
  const work = (d: (typeof loaded)[number], arch: Arch) => {
    const I = d.features.length;
    const C = d.info.classes;
    const steps = Math.ceil(stratifiedSplit(d.y, 1, d.info.name).train.length / options.batchSize);
    return (
      steps *
      (150000 +
        seeds.length *
          options.methods.length *
          options.learningRates.length *
          options.batchSize *
          (arch === 'linear' ? I * C : I * I + I * C))
    );
  };
  const total = loaded.reduce((s, d) => s + options.archs.reduce((t, a) => t + work(d, a), 0), 0);
  let done = 0;

  const runs: RunRecord[] = [];
  for (const data of loaded) {
    const perSeed = seeds.map((seed) => {
      const split = stratifiedSplit(data.y, seed, data.info.name);
      return { seed, split, x: standardize(data, split.train), y: data.y };
    });
    for (const arch of options.archs) {
      const models: ModelSpec[] = [];
      for (const seed of seeds)
        for (const method of options.methods) for (const learningRate of options.learningRates) models.push({ seed, method, learningRate });
      const unit = work(data, arch);
      const result = trainAll({
        dataset: data.info.name,
        arch,
        features: data.features.length,
        classes: data.info.classes,
        seeds: perSeed,
        models,
        epochs: options.epochs,
        batchSize: options.batchSize,
        momentum: options.momentum,
        onEpoch: (epoch) =>
          options.onProgress?.({
            dataset: data.info.name,
            arch,
            epoch,
            epochs: options.epochs,
            fraction: (done + (unit * epoch) / options.epochs) / total,
          }),
      });
      done += unit;
      for (const seed of seeds) {
        for (const method of options.methods) {
          const candidates = models.flatMap((m, i) =>
            m.seed === seed && m.method === method
              ? [{ learningRate: m.learningRate, validation: result.validation[i], test: result.test[i] }]
              : [],
          );
          runs.push({ dataset: data.info.name, arch, method, seed, ...selectRun(candidates) });
        }
      }
    }
  }
  return {
    datasets: loaded.map((d) => ({
      name: d.info.name,
      rows: d.rows,
      features: d.features.length,
      classes: d.info.classes,
      source: d.info.source,
    })),
    settings: {
      seeds: options.seeds,
      seedsUsed: seeds,
      archs: options.archs,
      methods: options.methods,
      epochs: options.epochs,
      learningRates: options.learningRates,
      batchSize: options.batchSize,
      momentum: options.momentum,
      split: 'stratified per class: 60% training, 20% validation, 20% test',
    },
    runs,
    summary: summaries(runs, options.datasets, options.archs, options.methods),
  };
}

/**
 * Of one (data set, architecture, method, seed)'s runs, one per learning rate with its accuracy at
 * each epoch: the learning rate and 1-based epoch with the best validation accuracy, and its test
 * accuracy. Ties (within 1e-12): the earlier epoch, then the learning rate listed first.
 */
export function selectRun(candidates: ReadonlyArray<{ learningRate: number; validation: readonly number[]; test: readonly number[] }>) {
  let best: { testAccuracy: number; validationAccuracy: number; epoch: number; learningRate: number } | null = null;
  for (const c of candidates) {
    c.validation.forEach((v, e) => {
      if (best === null || v > best.validationAccuracy + 1e-12 || (Math.abs(v - best.validationAccuracy) <= 1e-12 && e + 1 < best.epoch)) {
        best = { testAccuracy: c.test[e], validationAccuracy: v, epoch: e + 1, learningRate: c.learningRate };
      }
    });
  }
  if (best === null) throw new Error('selectRun needs at least one run with one epoch');
  return best as { testAccuracy: number; validationAccuracy: number; epoch: number; learningRate: number };
}

/** Per data set, each method's accuracy: the mean over seeds. Rows follow `datasets`, columns `methods`. */
export function accuracyTable(runs: readonly RunRecord[], datasets: readonly string[], arch: Arch, methods: readonly Method[]): number[][] {
  return datasets.map((d) =>
    methods.map((m) => {
      const acc = runs.filter((r) => r.dataset === d && r.arch === arch && r.method === m).map((r) => r.testAccuracy);
      return acc.reduce((s, a) => s + a, 0) / acc.length;
    }),
  );
}

export function summaries(
  runs: readonly RunRecord[],
  datasets: readonly string[],
  archs: readonly Arch[],
  methods: readonly Method[],
): Record<string, ArchSummary> {
  const out: Record<string, ArchSummary> = {};
  const baseline = methods.includes('ce') ? 'ce' : methods[0];
  for (const arch of archs) {
    const table = accuracyTable(runs, datasets, arch, methods);
    const testable = datasets.length >= 2 && methods.length >= 3;
    out[arch] = {
      baseline,
      methods: summarize(table, methods, methods.indexOf(baseline)),
      friedman: testable ? friedman(table) : null,
      conover: testable ? conover(table, methods) : [],
    };
  }
  return out;
}

export const ALL_DATASETS = DATASETS.map((d) => d.name);

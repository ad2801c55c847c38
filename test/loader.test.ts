// How the addon is found: MIXLOSS_ADDON, then the local build, then the prebuild; when none
// loads, the first op says what was tried and what to run. (The prebuild path itself is
// tested from a consumer install in package.test.ts.)
import * as path from 'path';

import { afterEach, describe, expect, it, vi } from 'vitest';

const root = path.join(__dirname, '..');
const localBuild = path.join(root, 'build', 'Release', 'mixloss.node');

async function freshLoader(addon: string | undefined) {
  vi.resetModules();
  vi.stubEnv('MIXLOSS_ADDON', addon ?? '');
  return import('../src/native');
}

describe('addon loader', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('loads the local build by default and reports its path', async () => {
    const loader = await freshLoader(undefined);
    expect(loader.nativeInfo().path).toBe(localBuild);
    expect(loader.packageRoot()).toBe(root);
    expect(loader.prebuildPath()).toBe(path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'mixloss.node'));
  });

  it('MIXLOSS_ADDON names the file to load', async () => {
    const loader = await freshLoader(localBuild);
    expect(loader.nativeInfo().path).toBe(localBuild);
    expect(loader.getNumThreads()).toBeGreaterThanOrEqual(1);
  });

  it('a MIXLOSS_ADDON that does not load: an Error saying what was tried and what to run', async () => {
    const loader = await freshLoader('/nowhere/mixloss.node');
    let message = '';
    try {
      loader.native();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(
      `mixloss: the native addon could not be loaded for ${process.platform}-${process.arch} (Node ${process.version})`,
    );
    expect(message).toMatch(/Tried:\n {4}MIXLOSS_ADDON=\/nowhere\/mixloss\.node: Cannot find module '\/nowhere\/mixloss\.node'/);
    expect(message).not.toContain('local build:'); // an explicit path is the only one tried
    expect(message).toContain('npm install-scripts approve mixloss && npm rebuild mixloss');
    expect(message).toContain('from a clone of mixloss itself: npm run build:native');
    // Still the same error on the next call (nothing half-loaded is cached).
    expect(() => loader.native()).toThrow(/could not be loaded/);
  });
});

// Issue 8, item 1: tfjs-layers is an optional peer; a project with tfjs-core and a backend only
// must load mixloss, and only the layers callback says what to install.
describe('without @tensorflow/tfjs-layers', () => {
  it('require("mixloss") works, the ops run, and FocusScheduleCallback says what to install', async () => {
    const { spawnSync } = await import('child_process');
    const code = `
      const Module = require('module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request.startsWith('@tensorflow/tfjs-layers')) {
          const e = new Error("Cannot find module '" + request + "'"); e.code = 'MODULE_NOT_FOUND'; throw e;
        }
        return resolve.call(this, request, ...rest);
      };
      require('@tensorflow/tfjs-backend-cpu');
      const tf = require('@tensorflow/tfjs-core');
      const m = require(${JSON.stringify(path.join(root, 'dist', 'src', 'index.js'))});
      const loss = m.crossEntropy(tf.tensor2d([[2, 1, 0.1]]), [0]).dataSync()[0];
      let message = '';
      try { new m.FocusScheduleCallback(new m.MixtureState(), m.focusSchedule('F=0')); } catch (e) { message = e.message; }
      console.log(JSON.stringify({ loss, message, layersLoss: typeof m.layersLosses.focalLoss() }));`;
    const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(out.loss).toBeCloseTo(0.417030016278, 6);
    expect(out.message).toMatch(/FocusScheduleCallback needs @tensorflow\/tfjs-layers .*npm install @tensorflow\/tfjs-layers/);
    expect(out.layersLoss).toBe('function');
  });
});

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
    expect(message).toContain(`mixloss: the native addon could not be loaded for ${process.platform}-${process.arch} (Node ${process.version})`);
    expect(message).toMatch(/Tried:\n {4}MIXLOSS_ADDON=\/nowhere\/mixloss\.node: Cannot find module '\/nowhere\/mixloss\.node'/);
    expect(message).not.toContain('local build:');  // an explicit path is the only one tried
    expect(message).toContain('npm install-scripts approve mixloss && npm rebuild mixloss');
    expect(message).toContain('from a clone of mixloss itself: npm run build:native');
    // Still the same error on the next call (nothing half-loaded is cached).
    expect(() => loader.native()).toThrow(/could not be loaded/);
  });
});

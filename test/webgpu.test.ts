// The webgpu suite on Dawn's Vulkan backend (a GPU's driver, or Mesa's lavapipe in CI; see
// support/webgpu-suite.ts), and the parts that need no adapter: optional peers, WGSL directives.
import * as path from 'path';
import { describe, expect, it } from 'vitest';

import { hoistDirectives, hoistsDirectives, installDirectiveHoisting } from '../src/kernels/webgpu/directives';
import { requireOptional } from '../src/optional';
import { webgpuSuite } from './support/webgpu-suite';

await webgpuSuite('vulkan');

describe('optional peers', () => {
  it('a missing package is named with what to install; one that fails to load says why', () => {
    expect(() => requireOptional('mixloss-no-such-package', 'mixloss/webgpu', 'npm install it')).toThrow(
      /^mixloss\/webgpu needs mixloss-no-such-package: npm install it$/,
    );
    const broken = path.join(__dirname, 'fixtures', 'throws-on-load.js');
    expect(() => requireOptional(broken, 'mixloss/webgpu', 'npm install it')).toThrow(
      /needs .*throws-on-load\.js \(installed, but it failed to load: dawn\.node: GLIBCXX_3\.4\.30 not found\): npm install it$/,
    );
  });
});

describe('WGSL directives (no adapter needed)', () => {
  it('hoistDirectives moves enable, requires and diagnostic lines to the front, once each, and leaves the rest', () => {
    const code =
      'struct U { a: f32, };\nfn f() {}\n  enable subgroups;\nfn g() {}\nenable subgroups;\ndiagnostic(off, derivative_uniformity);\n// enable f16 (a comment)\n';
    const out = hoistDirectives(code);
    expect(out.split('\n').slice(0, 3)).toEqual(['enable subgroups;', 'diagnostic(off, derivative_uniformity);', 'struct U { a: f32, };']);
    expect(out.match(/enable subgroups;/g)).toHaveLength(1);
    expect(out).toContain('// enable f16 (a comment)');
    expect(out).toContain('fn f() {}\n');
    expect(hoistDirectives('fn f() {}\n')).toBe('fn f() {}\n');
  });

  it('installDirectiveHoisting makes a device hoist every module it compiles, installed once', () => {
    const seen: string[] = [];
    const device = {
      createShaderModule(d: { code: string }) {
        seen.push(d.code);
        return d;
      },
    };
    expect(hoistsDirectives(device)).toBe(false);
    installDirectiveHoisting(device);
    installDirectiveHoisting(device);
    expect(hoistsDirectives(device)).toBe(true);
    device.createShaderModule({ code: 'fn f() {}\nenable subgroups;\n' });
    expect(seen).toEqual(['enable subgroups;\nfn f() {}\n\n']);
  });
});

#!/usr/bin/env node
// Mutation testing of the native core and the N-API layer: each mutant is one deliberate bug
// (a sign flip, a ×1.0001 on a gradient term, an off-by-one bound, a dropped factor, swapped
// parameters, a removed check). For each, a copy of the sources outside the working tree is
// edited, the addon is rebuilt there (cmake-js, CPU only), and the test suite runs against it
// through MIXLOSS_ADDON, stopping at the first failing test. A mutant is killed when the
// suite fails. The working tree is never touched.
//
//   node scripts/mutation/native-mutants.mjs [--only ID,ID] [--out FILE.json]
//
// The CUDA kernels are not mutated here: their tests need a GPU (see docs/testing.md).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { MUTANTS } from './native-mutants.list.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { values: args } = parseArgs({ options: { only: { type: 'string' }, out: { type: 'string' } } });
const only = args.only ? new Set(args.only.split(',')) : undefined;
const mutants = MUTANTS.filter((m) => !only || only.has(m.id));

/** The suites that exercise the native code on the cpu backend (the slow end-to-end ones left out). */
const SUITES = ['test/worked-values.test.ts', 'test/reference.test.ts', 'test/numerics.test.ts', 'test/bad-input.test.ts',
  'test/options.test.ts', 'test/complement-entropy.test.ts',
  'test/native.test.ts', 'test/cpu_limits.test.ts', 'test/backends.test.ts', 'test/softcap.test.ts'];

// A copy of what the build and the suites read, so that the working tree can change meanwhile.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mixloss-mutants-'));
for (const entry of ['native', 'src', 'test', 'demo', 'CMakeLists.txt', 'scripts/check-isa-symbols.sh', 'package.json', 'tsconfig.json', 'vitest.config.mts']) {
  fs.cpSync(path.join(root, entry), path.join(work, entry), { recursive: true });
}
fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
const addon = path.join(work, 'build', 'Release', 'mixloss.node');

function build() {
  const r = spawnSync('npx', ['cmake-js', 'compile', '--log-level', 'error'], {
    cwd: work, encoding: 'utf8', env: { ...process.env, MIXLOSS_CUDA: 'OFF' },
  });
  return r.status === 0 ? '' : (r.stdout + r.stderr).split('\n').filter((l) => /error/i.test(l)).slice(0, 3).join(' | ');
}

/** The suites against the built addon; `env` adds a mutant's own (MIXLOSS_ROW_LOOPS=clones for code only the clones run). */
function suite(env = {}) {
  const t0 = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', '--bail', '1', ...SUITES], {
    cwd: work, encoding: 'utf8', env: { ...process.env, ...env, MIXLOSS_ADDON: addon }, maxBuffer: 1 << 28,
  });
  // eslint-disable-next-line no-control-regex -- strips the terminal's colour codes
  const failed = /FAIL\s+(\S+)\s+>\s+(.*)/.exec((r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, ''));
  return { passed: r.status === 0, seconds: (Date.now() - t0) / 1000, firstFailure: failed ? `${failed[1]} > ${failed[2].trim()}` : '' };
}

function apply(m) {
  const file = path.join(work, m.file);
  const text = fs.readFileSync(file, 'utf8');
  const at = text.indexOf(m.find);
  if (at < 0 || text.indexOf(m.find, at + 1) >= 0) throw new Error(`mutant ${m.id}: "${m.find}" must occur exactly once in ${m.file}`);
  fs.writeFileSync(file, text.slice(0, at) + m.replace + text.slice(at + m.find.length));
  return () => fs.writeFileSync(file, text);
}

console.log(`baseline: building the unmutated addon in ${work}`);
const baselineBuild = build();
if (baselineBuild) throw new Error(`the unmutated sources do not build: ${baselineBuild}`);
const baseline = suite();
if (!baseline.passed) throw new Error(`the suite fails on the unmutated addon: ${baseline.firstFailure}`);
console.log(`baseline: suite passes in ${baseline.seconds.toFixed(0)} s`);

const results = [];
for (const [i, m] of mutants.entries()) {
  const restore = apply(m);
  let result;
  try {
    const error = build();
    result = error ? { status: 'build error', detail: error } : (() => {
      const s = suite(m.env);
      return { status: s.passed ? 'SURVIVED' : 'killed', detail: s.firstFailure, seconds: s.seconds };
    })();
  } finally {
    restore();
  }
  results.push({ id: m.id, file: m.file, what: m.what, ...result });
  console.log(`[${i + 1}/${mutants.length}] ${m.id.padEnd(28)} ${result.status.padEnd(11)} ${result.detail ?? ''}`);
}
build();  // leave the copy unmutated

const killed = results.filter((r) => r.status === 'killed').length;
const survived = results.filter((r) => r.status === 'SURVIVED');
console.log(`\nnative mutants: ${killed} killed, ${survived.length} survived, ${results.length - killed - survived.length} did not build`);
for (const s of survived) console.log(`  survived: ${s.id} (${s.file}): ${s.what}`);
if (args.out) fs.writeFileSync(args.out, JSON.stringify({ date: new Date().toISOString(), node: process.version, killed, results }, null, 2));
fs.rmSync(work, { recursive: true, force: true });
process.exitCode = survived.length === 0 ? 0 : 1;

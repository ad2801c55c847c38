// The command line (bin/mixloss.js, built by npm install's tsc): --version, --help, and an
// unknown command that says so and lists the commands.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { describe, expect, it } from 'vitest';

import { nativeInfo } from '../src/native';

const root = path.join(__dirname, '..');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(root, 'bin', 'mixloss.js'), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('mixloss command line', () => {
  it('--version prints the package version', () => {
    const r = cli('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  });

  it('--help prints the commands and exits 0; no command prints them on stderr and exits 1', () => {
    const help = cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/bench family +each loss kind beside CE/);
    const none = cli();
    expect(none.status).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/a command is needed\nusage: mixloss <command>/);
  });

  it("bench --out without the chart's packages fails before it runs anything, naming them", () => {
    const out = fs.mkdtempSync(path.join(require('os').tmpdir(), 'mixloss-bench-'));
    const r = spawnSync(
      process.execPath,
      ['-r', path.join(__dirname, 'fixtures', 'without-vega.js'), path.join(root, 'bin', 'mixloss.js'), 'bench', '--quick', '--out', out],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /mixloss bench: the SVG chart needs vega: npm install --no-save vega@5 vega-lite@5, or skip the chart with --no-svg/,
    );
    expect(r.stderr).not.toMatch(/\[ ?1\//); // no row was measured
    expect(fs.readdirSync(out)).toEqual([]);
    fs.rmSync(out, { recursive: true });
  });

  it('an unknown command says so, lists the commands and exits 1', () => {
    const r = cli('benchmark');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown command 'benchmark'\nusage: mixloss <command>/);
  });

  it('bench cpu-op: the op beside its kernel, a row per shape and process', () => {
    const r = cli('bench', 'cpu-op', '--shapes', '8x100', '--rounds', '1', '--reps', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| 8 × 100 \| fresh \| [\d.]+ \| [\d.]+ \| [\d.]+× \| [\d.]+ \| [\d.]+× \|/);
    expect(r.stdout).toMatch(/\| 8 × 100 \| fragmented \|/);
    expect(cli('bench', 'cpu-op', '--shapes', '8by100').stderr).toMatch(/bad shape "8by100": use BxC/);
  });

  it('bench small-ops: small tfjs ops before and after a first training step, one row', () => {
    const r = cli('bench', 'small-ops', '--rounds', '3', '--reps', '20');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| before µs \| after µs \| after \/ before \|\n\|---:\|---:\|---:\|\n\| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
    expect(cli('bench', 'small-ops', '--reps', '0').stderr).toMatch(/--reps must be a positive integer/);
  });

  it('bench cpu-op --baseline: this addon beside another build, processes alternating; bad flags fail before running', () => {
    const r = cli(
      'bench',
      'cpu-op',
      '--shapes',
      '8x100',
      '--rounds',
      '1',
      '--reps',
      '1',
      '--baseline',
      nativeInfo().path,
      '--processes',
      '2',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 fresh processes of each, alternating/);
    expect(r.stdout).toMatch(/\| 8 × 100 \| [\d.]+ \| [\d.]+ \| [\d.]+× \| [\d.]+ \| [\d.]+ \| [\d.]+× \| [\d.]+ \|/);
    const lone = cli('bench', 'cpu-op', '--processes', '2');
    expect(lone.status).not.toBe(0);
    expect(lone.stderr).toMatch(/--processes goes with --baseline/);
    const missing = cli('bench', 'cpu-op', '--baseline', path.join(root, 'no-such.node'));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/no-such\.node: no such file \(build one with scripts\/build-baseline\.sh COMMIT\)/);
  });

  it('bench family --help', () => {
    const r = cli('bench', 'family', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--baseline PATH/);
  });
});

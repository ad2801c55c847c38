// npm run experiment -- [--datasets a,b] [--seeds N] [--archs linear,mlp] [--methods ...]
//   [--epochs E] [--learning-rates 0.01,0.005,0.001] [--batch-size 8] [--backend wasm|cpu] [--out DIR]
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs-core';
import { ALL_DATASETS, ExperimentOptions, runExperiment } from './run';
import { checkMethod, METHODS } from './methods';
import { ARCHS, Arch } from './train';
import { writeReport } from './report';

export const USAGE = `usage: npm run experiment -- [options]
  --datasets a,b,...      data sets (default: all 18: ${ALL_DATASETS.join(', ')})
  --seeds N               seeds 1..N (default 2)
  --archs linear,mlp      architectures (default both)
  --methods m,...         methods (default: ${METHODS.join(',')}; quote F=0,0.5 as "F=0,0.5")
  --epochs E              epochs per run (default 50, the paper's)
  --learning-rates a,b    the sweep, best on validation (default 0.01,0.005,0.001, the paper's)
  --batch-size B          mini-batch rows (default 8, the paper's)
  --backend wasm|cpu      tfjs backend (default wasm when @tensorflow/tfjs-backend-wasm is installed)
  --out DIR               where results.json, report.md and the charts go (default experiment-results)
  --no-charts             skip the SVG charts (they need vega and vega-lite)`;

export interface CliOptions extends Omit<ExperimentOptions, 'onProgress'> {
  out: string;
  backend: 'wasm' | 'cpu';
  charts: boolean;
}

/** Parses and checks the flags; a bad flag is an Error that says what is accepted. */
export function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      datasets: { type: 'string' },
      seeds: { type: 'string' },
      archs: { type: 'string' },
      methods: { type: 'string' },
      epochs: { type: 'string' },
      'learning-rates': { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      'no-charts': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new UsageRequest();
  const integer = (flag: string, v: string | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be an integer >= 1, got '${v}'`);
    return n;
  };
  const list = (v: string | undefined) =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
  // Method names contain commas ('F=0,0.5'): take the longest known name at each position.
  const methods = values.methods === undefined ? [...METHODS] : splitMethods(values.methods);
  const datasets = list(values.datasets) ?? [...ALL_DATASETS];
  for (const d of datasets) if (!ALL_DATASETS.includes(d)) throw new Error(`unknown data set '${d}'; known: ${ALL_DATASETS.join(', ')}`);
  const archs = (list(values.archs) ?? [...ARCHS]) as Arch[];
  for (const a of archs) if (!ARCHS.includes(a)) throw new Error(`unknown architecture '${a}'; known: ${ARCHS.join(', ')}`);
  const learningRates = (list(values['learning-rates']) ?? ['0.01', '0.005', '0.001']).map((s) => {
    const v = Number(s);
    if (!(v > 0 && Number.isFinite(v))) throw new Error(`--learning-rates: each must be a positive number, got '${s}'`);
    return v;
  });
  const backend = values.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got '${backend}'`);
  for (const [name, items] of [
    ['datasets', datasets],
    ['archs', archs],
    ['methods', methods],
    ['learning-rates', learningRates],
  ] as const) {
    if (items.length === 0) throw new Error(`--${name} is empty`);
    if (new Set<unknown>(items).size !== items.length) throw new Error(`--${name} lists an entry twice: ${items.join(',')}`);
  }
  return {
    datasets,
    seeds: integer('seeds', values.seeds, 2),
    archs,
    methods,
    epochs: integer('epochs', values.epochs, 50),
    learningRates,
    batchSize: integer('batch-size', values['batch-size'], 8),
    momentum: 0.9,
    out: values.out ?? 'experiment-results',
    backend,
    charts: !values['no-charts'],
  };
}

export class UsageRequest extends Error {
  constructor() {
    super(USAGE);
  }
}

export function splitMethods(text: string) {
  const out: ReturnType<typeof checkMethod>[] = [];
  const names = [...METHODS].sort((a, b) => b.length - a.length);
  let rest = text.trim();
  while (rest.length > 0) {
    const name = names.find((n) => rest === n || rest.startsWith(n + ','));
    if (!name) checkMethod(rest.split(',')[0]);
    out.push(name as ReturnType<typeof checkMethod>);
    rest = rest.slice(name!.length).replace(/^,/, '').trim();
  }
  return out;
}

function bar(fraction: number, width = 24) {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

const clock = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;

export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (e) {
    if (e instanceof UsageRequest) {
      console.log(USAGE);
      return 0;
    }
    console.error(`mixloss experiment: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.charts) {
    // Checked before hours of training, not after.
    const { checkChartPackages } = await import('./charts');
    checkChartPackages();
  }
  if (options.backend === 'wasm') {
    try {
      require('@tensorflow/tfjs-backend-wasm');
    } catch {
      throw new Error('--backend wasm needs @tensorflow/tfjs-backend-wasm (npm install it, or pass --backend cpu)');
    }
  } else require('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend(options.backend);
  await tf.ready();

  const started = Date.now();
  const tty = process.stderr.isTTY;
  let last = 0;
  const seedsText = `seeds 1–${options.seeds}`;
  const results = runExperiment({
    ...options,
    onProgress: ({ dataset, arch, epoch, epochs, fraction }) => {
      const now = Date.now();
      if (!tty && now - last < 10000 && epoch !== epochs) return;
      last = now;
      const elapsed = (now - started) / 1000;
      const left = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : 0;
      const line = `${bar(fraction)} ${(100 * fraction).toFixed(0).padStart(3)}%  ${dataset} ${arch}  epoch ${epoch}/${epochs}  ${options.methods.length} methods × ${seedsText} × ${options.learningRates.length} learning rates  ${clock(elapsed)} elapsed, ${clock(left)} left`;
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    },
  });
  if (tty) process.stderr.write('\n');
  const seconds = (Date.now() - started) / 1000;
  fs.mkdirSync(options.out, { recursive: true });
  fs.writeFileSync(path.join(options.out, 'results.json'), JSON.stringify(results, null, 1) + '\n');
  await writeReport(results, { dir: options.out, command: commandLine(argv), seconds, backend: options.backend, charts: options.charts });
  console.log(`wrote ${path.join(options.out, 'results.json')} and report.md (${clock(seconds)})`);
  return 0;
}

function commandLine(argv: string[]) {
  const quote = (a: string) => (/^[\w=.,/-]+$/.test(a) && !a.includes(',0.5') ? a : `"${a}"`);
  return ['npm run experiment --', ...argv.map(quote)].join(' ');
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`mixloss experiment: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}

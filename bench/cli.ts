// `mixloss bench`: the benchmark suite on this machine (tfjs backends that load, the native
// kernels, CUDA if a device is present), a table on stdout, and with --out a markdown
// report and an SVG chart.
import * as fs from 'fs';
import * as path from 'path';

import { cpuOp } from './cpu_op';
import { family } from './family';
import { informationBench } from './information';
import { webgpuBench } from './webgpu';
import { markdown, svgChart } from './report';
import { DEFAULT_SHAPES, runSuite } from './suite';

const USAGE = `usage: mixloss bench [options]
       mixloss bench family [options]   (each loss kind beside CE: mixloss bench family --help)

  --quick             fewer samples (a smoke run, about a minute)
  --shapes 256x1000,128x32768
                      batch × classes to run (default ${DEFAULT_SHAPES.map(([b, c]) => `${b}x${c}`).join(',')})
  --backends cpu,wasm tfjs backends to compare on (default: cpu, and wasm when
                      @tensorflow/tfjs-backend-wasm is installed)
  --out DIR           write DIR/benchmarks.md and DIR/benchmarks.svg (needs vega@5 and vega-lite@5)
  --no-svg            with --out, the markdown only`;

/** "128x32768" → [128, 32768] (each at least 1). */
function parseShape(s: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`bad shape ${JSON.stringify(s)}: use BxC, e.g. 128x32768`);
  return [Number(m[1]), Number(m[2])];
}

function positiveInteger(option: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${option} must be a positive integer, got ${v}`);
  return n;
}

function parse(argv: string[]) {
  const opts = { quick: false, shapes: DEFAULT_SHAPES, backends: undefined as string[] | undefined, out: undefined as string | undefined, svg: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-svg') opts.svg = false;
    else if (a === '--out') opts.out = value();
    else if (a === '--backends') opts.backends = value().split(',');
    else if (a === '--shapes') opts.shapes = value().split(',').map(parseShape);
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return opts;
}

const FAMILY_USAGE = `usage: mixloss bench family [--shape 128x32768] [--rounds 15] [--reps 5] [--baseline PATH]

  Each loss kind's and option's training pass beside plain CE's (ratios from the same run).
  --baseline PATH   also CE on an addon built from an earlier commit (scripts/build-baseline.sh)`;

async function familyMain(argv: string[]): Promise<void> {
  const opts = { B: 128, C: 32768, rounds: 15, reps: 5, baseline: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--help' || a === '-h') { console.log(FAMILY_USAGE); return; }
    if (v === undefined) throw new Error(`${a}: unknown option, or it needs a value\n${FAMILY_USAGE}`);
    i++;
    if (a === '--shape') [opts.B, opts.C] = parseShape(v);
    else if (a === '--rounds' || a === '--reps') opts[a === '--rounds' ? 'rounds' : 'reps'] = positiveInteger(a, v);
    else if (a === '--baseline') opts.baseline = path.resolve(v);
    else throw new Error(`unknown option ${a}\n${FAMILY_USAGE}`);
  }
  console.log(await family(opts));
}

const CPU_OP_USAGE = `usage: mixloss bench cpu-op [--shapes 256x1000,128x32768,32x262144] [--rounds 15] [--reps 5]

  The cpu-backend op's training step against the native kernel with a reused output, in a fresh
  and in a fragmented process, with the gradient memory reused and with a fresh array per step.`;

function cpuOpMain(argv: string[]): void {
  const opts = { shapes: [[256, 1000], [128, 32768], [32, 262144]] as Array<[number, number]>, rounds: 15, reps: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--help' || a === '-h') { console.log(CPU_OP_USAGE); return; }
    if (v === undefined) throw new Error(`${a}: unknown option, or it needs a value\n${CPU_OP_USAGE}`);
    i++;
    if (a === '--shapes') opts.shapes = v.split(',').map(parseShape);
    else if (a === '--rounds' || a === '--reps') opts[a === '--rounds' ? 'rounds' : 'reps'] = positiveInteger(a, v);
    else throw new Error(`unknown option ${a}\n${CPU_OP_USAGE}`);
  }
  console.log(cpuOp(opts, (line) => console.log(line)));
}

const INFORMATION_USAGE = `usage: mixloss bench information [--sizes 128,256,512,1024] [--reps 5]

  The Rényi mutual-information regularizer (forward, forward + backward, the alignment search)
  beside a training step of the reproduction's model, and beside numpy's eigh when python3 and
  numpy are installed.`;

async function informationMain(argv: string[]): Promise<void> {
  const opts = { sizes: [128, 256, 512, 1024], reps: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--help' || a === '-h') { console.log(INFORMATION_USAGE); return; }
    if (v === undefined) throw new Error(`${a}: unknown option, or it needs a value\n${INFORMATION_USAGE}`);
    i++;
    if (a === '--sizes') opts.sizes = v.split(',').map((s) => positiveInteger(a, s));
    else if (a === '--reps') opts.reps = positiveInteger(a, v);
    else throw new Error(`unknown option ${a}\n${INFORMATION_USAGE}`);
  }
  console.log(await informationBench(opts, (line) => console.error(line)));
}

const WEBGPU_USAGE = `usage: mixloss bench webgpu [--shapes 256x1000,128x32768,32x262144] [--reps 7]

  The fused loss + gradient beside stock tf.losses.softmaxCrossEntropy + tf.grad and beside one
  tf.mul, on tfjs's webgpu backend (needs the webgpu and @tensorflow/tfjs-backend-webgpu packages
  and a Vulkan driver; see docs/webgpu.md).`;

async function webgpuMain(argv: string[]): Promise<void> {
  const opts = { shapes: [[256, 1000], [128, 32768], [32, 262144]] as Array<[number, number]>, reps: 7 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--help' || a === '-h') { console.log(WEBGPU_USAGE); return; }
    if (v === undefined) throw new Error(`${a}: unknown option, or it needs a value\n${WEBGPU_USAGE}`);
    i++;
    if (a === '--shapes') opts.shapes = v.split(',').map(parseShape);
    else if (a === '--reps') opts.reps = positiveInteger(a, v);
    else throw new Error(`unknown option ${a}\n${WEBGPU_USAGE}`);
  }
  console.log(await webgpuBench(opts, (line) => console.error(line)));
  process.exit(0);  // Dawn keeps Node running while the GPU is referenced
}

const COMMANDS = `usage: mixloss <command>

  bench            the benchmark suite (mixloss bench --help)
  bench family     each loss kind beside CE (mixloss bench family --help)
  bench cpu-op     the cpu-backend op beside its kernel (mixloss bench cpu-op --help)
  bench information
                   the mutual-information regularizer (mixloss bench information --help)
  bench webgpu     the fused loss on tfjs's webgpu backend beside stock (mixloss bench webgpu --help)
  --version        the package version
  --help           this text`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    console.log(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
    return;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(COMMANDS);
    return;
  }
  if (command !== 'bench') throw new Error(`unknown command '${command}'\n${COMMANDS}`);
  if (rest[0] === 'family') return familyMain(rest.slice(1));
  if (rest[0] === 'cpu-op') return cpuOpMain(rest.slice(1));
  if (rest[0] === 'information') return informationMain(rest.slice(1));
  if (rest[0] === 'webgpu') return webgpuMain(rest.slice(1));
  const opts = parse(rest);
  const started = Date.now();
  const rows = await runSuite({
    shapes: opts.shapes,
    backends: opts.backends,
    quick: opts.quick,
    onRow: (r, done, total) => {
      const elapsed = ((Date.now() - started) / 1000).toFixed(0);
      console.log(`[${String(done).padStart(2)}/${total} ${elapsed.padStart(4)}s] ${`${r.B} × ${r.C}`.padEnd(13)} ${r.what.padEnd(40)} ${r.backend.padEnd(5)} ${r.medianMs.toFixed(2).padStart(10)} ms`);
    },
  });
  const report = markdown(rows, `npx mixloss bench ${rest.join(' ')}`.trim());
  console.log(`\n${report}`);
  if (opts.out) {
    fs.mkdirSync(opts.out, { recursive: true });
    fs.writeFileSync(path.join(opts.out, 'benchmarks.md'), report);
    console.log(`wrote ${path.join(opts.out, 'benchmarks.md')}`);
    if (opts.svg) {
      fs.writeFileSync(path.join(opts.out, 'benchmarks.svg'), await svgChart(rows));
      console.log(`wrote ${path.join(opts.out, 'benchmarks.svg')}`);
    }
  }
}

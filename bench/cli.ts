// `mixloss bench`: the benchmark suite on this machine (tfjs backends that load, the native
// kernels, CUDA if a device is present), a table on stdout, and with --out a markdown
// report and an SVG chart.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';

import { cpuOp, cpuOpBeside } from './cpu_op';
import { family } from './family';
import { headBench } from './head';
import { informationBench } from './information';
import { webgpuBench } from './webgpu';
import { checkChartPackages, markdown, svgChart } from './report';
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

/**
 * A command's options through Node's util.parseArgs: `--name value` for each of `values`,
 * `--name` for each of `flags`, and --help (prints usage; undefined is returned). Unknown options
 * and missing values are errors that end with the usage.
 */
function options(
  argv: string[],
  usage: string,
  values: string[],
  flags: string[] = [],
): Record<string, string | boolean | undefined> | undefined {
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(values.map((n) => [n, { type: 'string' as const }])),
        ...Object.fromEntries(flags.map((n) => [n, { type: 'boolean' as const }])),
      },
    }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${usage}`, { cause: e });
  }
  if (parsed.help) {
    console.log(usage);
    return undefined;
  }
  return parsed;
}

const text = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);
const shapes = (v: string | boolean | undefined, fallback: Array<[number, number]>) => text(v)?.split(',').map(parseShape) ?? fallback;
const count = (name: string, v: string | boolean | undefined, fallback: number) =>
  typeof v === 'string' ? positiveInteger(`--${name}`, v) : fallback;

function parse(argv: string[]) {
  const o = options(argv, USAGE, ['out', 'backends', 'shapes'], ['quick', 'no-svg']);
  if (o === undefined) process.exit(0);
  return {
    quick: o.quick === true,
    svg: o['no-svg'] !== true,
    out: text(o.out),
    backends: text(o.backends)?.split(','),
    shapes: shapes(o.shapes, DEFAULT_SHAPES),
  };
}

const FAMILY_USAGE = `usage: mixloss bench family [--shape 128x32768] [--rounds 15] [--reps 5] [--pass training|forward] [--baseline PATH]

  Each loss kind's and option's training pass beside plain CE's (ratios from the same run).
  --pass forward    the forward pass alone (statistics and loss, no gradient) instead
  --baseline PATH   an addon built from an earlier commit (scripts/build-baseline.sh) in the same
                    rounds: every case beside this addon's (CE alone for an addon before the named API)`;

async function familyMain(argv: string[]): Promise<void> {
  const o = options(argv, FAMILY_USAGE, ['shape', 'rounds', 'reps', 'baseline', 'pass']);
  if (o === undefined) return;
  const shape = text(o.shape),
    baseline = text(o.baseline),
    pass = text(o.pass) ?? 'training';
  if (pass !== 'training' && pass !== 'forward') throw new Error(`--pass must be training or forward, got '${pass}'\n${FAMILY_USAGE}`);
  const [B, C] = shape !== undefined ? parseShape(shape) : [128, 32768];
  console.log(
    await family({
      B,
      C,
      rounds: count('rounds', o.rounds, 15),
      reps: count('reps', o.reps, 5),
      baseline: baseline === undefined ? undefined : path.resolve(baseline),
      pass,
    }),
  );
}

const CPU_OP_USAGE = `usage: mixloss bench cpu-op [--shapes 256x1000,128x32768,32x262144] [--rounds 15] [--reps 5]
                            [--baseline PATH [--processes 8]]

  The cpu-backend op's training step against the native kernel with a reused output, in a fresh
  and in a fragmented process, with the gradient memory reused and with a fresh array per step.
  --baseline PATH   an addon built from an earlier commit (scripts/build-baseline.sh): the op and
                    its kernel with this addon and with that one, each in its own fresh process,
                    the two alternating --processes times per shape (gradient memory reused);
                    medians over the processes`;

/** The op benchmarks' default shapes (B × C): a small head, a large one, a few huge rows. */
const OP_SHAPES: Array<[number, number]> = [
  [256, 1000],
  [128, 32768],
  [32, 262144],
];

function cpuOpMain(argv: string[]): void {
  const o = options(argv, CPU_OP_USAGE, ['shapes', 'rounds', 'reps', 'baseline', 'processes']);
  if (o === undefined) return;
  const baseline = text(o.baseline);
  if (baseline === undefined && o.processes !== undefined) throw new Error(`--processes goes with --baseline\n${CPU_OP_USAGE}`);
  const opts = {
    shapes: shapes(o.shapes, OP_SHAPES),
    rounds: count('rounds', o.rounds, 15),
    reps: count('reps', o.reps, 5),
  };
  if (baseline !== undefined) {
    const addon = path.resolve(baseline);
    if (!fs.existsSync(addon)) throw new Error(`--baseline ${baseline}: no such file (build one with scripts/build-baseline.sh COMMIT)`);
    console.log(cpuOpBeside({ ...opts, baseline: addon, processes: count('processes', o.processes, 8) }, (line) => console.log(line)));
    return;
  }
  console.log(cpuOp(opts, (line) => console.log(line)));
}

const INFORMATION_USAGE = `usage: mixloss bench information [--sizes 128,256,512,1024] [--reps 5]

  The Rényi mutual-information regularizer (forward, forward + backward, the alignment search)
  beside a training step of the reproduction's model, and beside numpy's eigh when python3 and
  numpy are installed.`;

async function informationMain(argv: string[]): Promise<void> {
  const o = options(argv, INFORMATION_USAGE, ['sizes', 'reps']);
  if (o === undefined) return;
  const sizes = text(o.sizes)
    ?.split(',')
    .map((v) => positiveInteger('--sizes', v)) ?? [128, 256, 512, 1024];
  console.log(await informationBench({ sizes, reps: count('reps', o.reps, 5) }, (line) => console.error(line)));
}

const WEBGPU_USAGE = `usage: mixloss bench webgpu [--shapes 256x1000,128x32768,32x262144] [--reps 7] [--dawn vulkan|opengl]

  The fused loss + gradient beside stock tf.losses.softmaxCrossEntropy + tf.grad and beside one
  tf.mul, on tfjs's webgpu backend (needs the webgpu and @tensorflow/tfjs-backend-webgpu packages
  and a Vulkan driver, or EGL for --dawn opengl; see docs/webgpu.md).`;

async function webgpuMain(argv: string[]): Promise<void> {
  const o = options(argv, WEBGPU_USAGE, ['shapes', 'reps', 'dawn']);
  if (o === undefined) return;
  const dawn = text(o.dawn) ?? 'vulkan';
  if (dawn !== 'vulkan' && dawn !== 'opengl') throw new Error(`--dawn must be vulkan or opengl, got ${dawn}\n${WEBGPU_USAGE}`);
  const opts = {
    shapes: shapes(o.shapes, OP_SHAPES),
    reps: count('reps', o.reps, 7),
    dawn: dawn as 'vulkan' | 'opengl',
  };
  console.log(await webgpuBench(opts, (line) => console.error(line)));
  process.exit(0); // Dawn keeps Node running while the GPU is referenced
}

const HEAD_USAGE = `usage: mixloss bench head [--shapes 256x256x32768,1024x256x131072,64x512x1048576] [--reps 3] [--stock-everywhere] [--svg FILE]

  One training step of a classifier head (loss and the gradients for hidden, kernel and bias): the
  fused head on the cpu and wasm backends beside the GEMM floor and PyTorch CPU eager (when
  python3-torch is installed), and beside tf.matMul + crossEntropy and stock
  tf.losses.softmaxCrossEntropy on cpu and wasm at the first shape (at every shape with
  --stock-everywhere: tfjs's matMul takes minutes per step past it); peak memory per cell.`;

/** "1024x256x131072" → [N, D, C]. */
function parseHeadShape(s: string): [number, number, number] {
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(s.trim());
  if (!m || [m[1], m[2], m[3]].some((v) => Number(v) < 1))
    throw new Error(`bad shape ${JSON.stringify(s)}: use NxDxC, e.g. 1024x256x131072`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

async function headMain(argv: string[]): Promise<void> {
  const o = options(argv, HEAD_USAGE, ['shapes', 'reps', 'svg'], ['stock-everywhere']);
  if (o === undefined) return;
  const opts = {
    shapes: text(o.shapes)?.split(',').map(parseHeadShape) ?? [
      [256, 256, 32768] as [number, number, number],
      [1024, 256, 131072] as [number, number, number],
      [64, 512, 1048576] as [number, number, number],
    ],
    reps: count('reps', o.reps, 3),
    stockEverywhere: o['stock-everywhere'] === true,
    svg: text(o.svg),
  };
  console.log(await headBench(opts, (line) => console.error(line)));
}

const HEAD_WEBGPU_USAGE = `usage: mixloss bench head-webgpu [--shapes 64x128x8192,256x256x32768] [--reps 5]

  One training step of a classifier head on tfjs's webgpu backend: the fused head's WGSL kernels
  beside tf.matMul + mixloss crossEntropy and stock tf.losses.softmaxCrossEntropy; then headTopK
  beside tf.topk of the logits' log-softmax (needs the webgpu and @tensorflow/tfjs-backend-webgpu
  packages and a Vulkan driver; see docs/webgpu.md).`;

async function headWebGPUMain(argv: string[]): Promise<void> {
  const o = options(argv, HEAD_WEBGPU_USAGE, ['shapes', 'reps']);
  if (o === undefined) return;
  const { headWebGPUBench } = await import('./head_webgpu');
  const opts = {
    shapes: text(o.shapes)?.split(',').map(parseHeadShape) ?? [
      [64, 128, 8192] as [number, number, number],
      [256, 256, 32768] as [number, number, number],
    ],
    reps: count('reps', o.reps, 5),
  };
  console.log(await headWebGPUBench(opts, (line) => console.error(line)));
  process.exit(0); // Dawn keeps Node running while the GPU is referenced
}

const SOFTCAP_USAGE = `usage: mixloss bench softcap [--shapes 256x1000,128x32768,32x262144] [--rounds 15] [--reps 5] [--cap 30]

crossEntropy's training step on the cpu backend without softcap and with softcap fused into the
kernels, alternating in one process, then with the cap as stock tfjs ops before the op.`;

async function softcapMain(argv: string[]): Promise<void> {
  const o = options(argv, SOFTCAP_USAGE, ['shapes', 'rounds', 'reps', 'cap']);
  if (!o) return;
  const cap = text(o.cap) === undefined ? 30 : Number(o.cap);
  if (!(cap > 0 && Number.isFinite(cap))) throw new Error(`--cap must be a number > 0, got ${String(o.cap)}\n${SOFTCAP_USAGE}`);
  const { softcapBench } = await import('./softcap');
  const opts = {
    shapes: shapes(o.shapes, OP_SHAPES),
    rounds: count('rounds', o.rounds, 15),
    reps: count('reps', o.reps, 5),
    cap,
  };
  console.log(await softcapBench(opts, (line) => console.error(line)));
}

const SMALL_OPS_USAGE = `usage: mixloss bench small-ops [--rounds 31] [--reps 2000]

  A mix of small tfjs ops on the cpu backend (what an optimizer's update makes) before any mixloss
  training step and after one, in one process: what the gradient memory's reuse costs the rest
  of the program.`;

async function smallOpsMain(argv: string[]): Promise<void> {
  const o = options(argv, SMALL_OPS_USAGE, ['rounds', 'reps']);
  if (!o) return;
  const { smallOpsBench } = await import('./small_ops');
  console.log(await smallOpsBench({ rounds: count('rounds', o.rounds, 31), reps: count('reps', o.reps, 2000) }));
}

const CURVES_USAGE = `usage: mixloss focus-curves [--F 0,0.1,0.2,0.3,0.4,0.5] [--points 100] [--normalize-peak] [--svg FILE]

The paper's Fig. 1: the mixed loss α·CE + β·EL and |∂L/∂q_y| against p_y for each focus F
(a table on stdout; --svg FILE also draws the chart, which needs vega and vega-lite).`;

async function curvesMain(argv: string[]): Promise<void> {
  const o = options(argv, CURVES_USAGE, ['F', 'points', 'svg'], ['normalize-peak']);
  if (!o) return;
  const Fs = (text(o.F) ?? '0,0.1,0.2,0.3,0.4,0.5').split(',').map((v) => {
    const F = Number(v);
    if (v.trim() === '' || !(F >= 0 && F <= 0.5))
      throw new Error(`--F: each focus must be a number in [0, 0.5], got '${v}'\n${CURVES_USAGE}`);
    return F;
  });
  const svg = text(o.svg);
  const { curvesChart, curvesTable } = await import('./focus_curves');
  // The chart's packages first: a missing one fails before anything is printed.
  if (svg) checkChartPackages();
  const { focusCurves } = await import('../src/analysis');
  const curves = focusCurves(Fs, { points: count('points', o.points, 100), normalizePeak: o['normalize-peak'] === true });
  console.log(curvesTable(curves));
  if (svg) {
    fs.writeFileSync(svg, await curvesChart(curves));
    console.error(`wrote ${svg}`);
  }
}

const COMMANDS = `usage: mixloss <command>

  bench            the benchmark suite (mixloss bench --help)
  bench family     each loss kind beside CE (mixloss bench family --help)
  bench cpu-op     the cpu-backend op beside its kernel (mixloss bench cpu-op --help)
  bench information
                   the mutual-information regularizer (mixloss bench information --help)
  bench webgpu     the fused loss on tfjs's webgpu backend beside stock (mixloss bench webgpu --help)
  bench head       the fused classifier head beside stock, PyTorch and the GEMM floor (mixloss bench head --help)
  bench head-webgpu
                   the fused head's WGSL kernels beside tf.matMul + the loss op (mixloss bench head-webgpu --help)
  bench softcap    crossEntropy with softcap fused beside plain CE and the stock-op cap (mixloss bench softcap --help)
  bench small-ops  small tfjs ops before and after a first training step (mixloss bench small-ops --help)
  focus-curves     the paper's Fig. 1: the loss and its true-class gradient against p_y per F
  --version        the package version
  --help           this text`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    console.log(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
    return;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(COMMANDS);
    return;
  }
  // No command is a mistake (as for git): the commands on stderr, exit status 1.
  if (command === undefined) throw new Error(`a command is needed\n${COMMANDS}`);
  if (command === 'focus-curves') return curvesMain(rest);
  if (command !== 'bench') throw new Error(`unknown command '${command}'\n${COMMANDS}`);
  if (rest[0] === 'family') return familyMain(rest.slice(1));
  if (rest[0] === 'cpu-op') return cpuOpMain(rest.slice(1));
  if (rest[0] === 'information') return informationMain(rest.slice(1));
  if (rest[0] === 'webgpu') return webgpuMain(rest.slice(1));
  if (rest[0] === 'head') return headMain(rest.slice(1));
  if (rest[0] === 'softcap') return softcapMain(rest.slice(1));
  if (rest[0] === 'small-ops') return smallOpsMain(rest.slice(1));
  if (rest[0] === 'head-webgpu') return headWebGPUMain(rest.slice(1));
  const opts = parse(rest);
  // The chart's packages before the run, not after it: a missing one fails in a second.
  if (opts.out && opts.svg) checkChartPackages();
  const started = Date.now();
  const rows = await runSuite({
    shapes: opts.shapes,
    backends: opts.backends,
    quick: opts.quick,
    onRow: (r, done, total) => {
      const elapsed = ((Date.now() - started) / 1000).toFixed(0);
      // Progress on stderr; the report alone on stdout.
      console.error(
        `[${String(done).padStart(2)}/${total} ${elapsed.padStart(4)}s] ${`${r.B} × ${r.C}`.padEnd(13)} ${r.what.padEnd(40)} ${r.backend.padEnd(5)} ${r.medianMs.toFixed(2).padStart(10)} ms`,
      );
    },
  });
  const report = markdown(rows, `npx mixloss bench ${rest.join(' ')}`.trim());
  console.log(report);
  if (opts.out) {
    fs.mkdirSync(opts.out, { recursive: true });
    fs.writeFileSync(path.join(opts.out, 'benchmarks.md'), report);
    console.error(`wrote ${path.join(opts.out, 'benchmarks.md')}`);
    if (opts.svg) {
      fs.writeFileSync(path.join(opts.out, 'benchmarks.svg'), await svgChart(rows));
      console.error(`wrote ${path.join(opts.out, 'benchmarks.svg')}`);
    }
  }
}

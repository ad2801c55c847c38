// The WebGPU programs of the fused losses, run through tfjs-backend-webgpu's runWebGPUProgram on
// the tensors' own GPU buffers:
//   stats   a team of threads per row (32 to 256, several teams to a workgroup of 256), or per
//           slice of a row when few rows have many classes: the row's Partial in one pass over
//           the logits (online max and sum), the team's merged (in workgroup memory, up to 8
//           into 1 per level, or with subgroup reductions), then (whole rows) the row finished
//           and its 16 statistics written;
//   merge   a thread per row: merges the slices' Partials and finishes the row (split rows);
//   rowLoss the per-row losses (reduction 'none'), times the sample weights;
//   reduce  one workgroup: Σ of the weighted row losses and the mean's divisor, written after
//           the rows' statistics (the trailer the backward pass reads);
//   pick    the scalar loss from the trailer;
//   grad    one workgroup per (row, slice): the row's gradient scalars once (workgroup memory),
//           then g_j for each column, from the logits and the statistics (one pass).
// When the class count is a multiple of 4, stats and grad read the logits (and dense targets) and
// write the gradient as vec4: fewer loads, bounds checks and loop steps (measured in docs/webgpu.md).
// Every index is 32-bit (WGSL has no 64-bit integers): kernel.ts refuses larger inputs first.
// Where the device has subgroups (and hoists a program's `enable subgroups;` to the front of its
// module: ./directives.ts), a statistics workgroup that is one team merges with subgroup
// reductions; otherwise, and for smaller teams, in workgroup memory (docs/webgpu.md).
import type { NativeLossKind } from '../../native';
import { MeanOver, STATS_TRAILER } from '../attrs';
import { MASS_TOLERANCE } from '../input_checks';
import { statsLayout, statsSlot } from '../registry';
import type { Needs } from './wgsl/row_math';
import { loadStatsCode, MATH, partialCode, rowMathCode, statsCode, storeStatsCode, subgroupMergeCode } from './wgsl/row_math';

export const WORKGROUP = 256;
/** Columns one gradient workgroup writes (16 per thread). */
export const GRAD_SLICE = WORKGROUP * 16;

/**
 * The statistics tensor: the rows' statistics and the trailer of every backend (the pending-
 * gradient token, 0 here, and the mean's divisor), then Σ of the weighted row losses (the
 * reduce program's sum, which the pick program turns into the loss).
 */
export const TOTAL = STATS_TRAILER;
/** After the total: the rows counted (not ignored), which a Variant.zPerRow gradient divides its z term by. */
export const COUNT = STATS_TRAILER + 1;
export const STATS_LENGTH = (rows: number) => rows * statsLayout().perRow + STATS_TRAILER + 2;
/** A row's statistics (perRow) and its loss value (value), at code-generation time. */
const perRow = () => statsLayout().perRow;
const valueSlot = () => statsSlot('value');

/** Everything that changes a program's code (and so its shader key). */
export interface Variant {
  /** the kind as the registry describes it (its WGSL row is kind_rows.ts's) */
  kind: NativeLossKind;
  needs: Needs;
  dense: boolean;
  /**
   * the labels' buffer holds float32 (class ids from tfjs-layers, or float targets): the
   * buffer's own type, which tfjs keeps when a cast shares it
   */
  labelsFloat: boolean;
  classWeights: boolean;
  sampleWeights: boolean;
  /** label smoothing > 0 on class ids: the smoothing vector u is the class weights, or ones */
  smoothing: boolean;
  ignoreIndex: boolean;
  /** dense rows are the caller's own targets: rows that are not distributions give NaN */
  checkTargets: boolean;
  /**
   * classes % 4 == 0: the row passes read the logits (and dense targets) and write the gradient
   * four floats at a time (vec4), so rows start on a vec4
   */
  vec4: boolean;
  /**
   * the device has subgroups and hoists a program's directives (./directives.ts), and the
   * MIXLOSS_WEBGPU_SUBGROUPS flag allows them: a team of a whole workgroup merges with them
   */
  subgroups: boolean;
  /**
   * z-loss under a class-weighted 'mean' (Liger's convention): the z term is divided by the rows
   * counted, the rest by their class weights
   */
  zPerRow: boolean;
  /** softcap > 0: the loss sees cap·tanh(q/cap), capped where the logits are read (a −∞ logit stays −∞) */
  softcap: boolean;
}

/** Words of a Partial in an f32 buffer (the slices' records): its eight fields, argmax bitcast. */
export const PARTIAL_WORDS = 8;

/** WGSL statements storing the Partial `q` at word `at` of `buffer`. */
export function storePartial(buffer: string, at: string, q: string): string {
  const words = ['max', 'sum', 't_rel', 'mass', 't_exp', 'argmax', 'e_logit', 't_min'];
  return words.map((w, i) => `${buffer}[${at} + ${i}] = ${w === 'argmax' ? `bitcast<f32>(${q}.argmax)` : `${q}.${w}`};`).join(' ');
}

/** A WGSL expression: the Partial at word `at` of `buffer`. */
export function loadPartial(buffer: string, at: string): string {
  const w = (i: number) => `${buffer}[${at} + ${i}]`;
  return `Partial(${w(0)}, ${w(1)}, ${w(2)}, ${w(3)}, ${w(4)}, bitcast<i32>(${w(5)}), ${w(6)}, ${w(7)})`;
}

/** The shader key's part for a variant (needs follow from the kind, dense and smoothing). */
export function variantKey(v: Variant): string {
  const flags = [
    v.dense,
    v.labelsFloat,
    v.classWeights,
    v.sampleWeights,
    v.smoothing,
    v.ignoreIndex,
    v.checkTargets,
    v.vec4,
    v.subgroups,
    v.zPerRow,
    v.softcap,
  ]
    .map((f) => (f ? 1 : 0))
    .join('');
  return `${v.kind.name}_${flags}`;
}

/** The uniforms every program declares (besides tfjs's own), and their values. */
export interface Scalars {
  rows: number;
  classes: number;
  /** slices per row of the stats pass (1: whole rows) */
  chunks: number;
  chunkLen: number;
  /** slices per row of the gradient pass */
  gradChunks: number;
  ignoreIndex: number;
  zLoss: number;
  smoothing: number;
  /** the softcap (0: none) */
  softcap: number;
  /** the kind's parameters, by name */
  params: Record<string, number>;
  /** α and β of a kind linear in the targets (ℓ_j = α(lse − q_j) + β(1 − p_j)), from the addon; else 0 */
  linear: [number, number];
}

/** The kind's uniforms: α and β of a linear kind (lin_alpha, lin_beta), then each registry parameter (p_<name>). */
function kindUniforms(kind: NativeLossKind): string[] {
  return [...(kind.linear ? ['lin_alpha', 'lin_beta'] : []), ...kind.params.map((p) => `p_${p.name}`)];
}

export function uniformDecl(kind: NativeLossKind): string {
  return (
    'rows : i32, classes : i32, chunks : i32, chunkLen : i32, gradChunks : i32, ignoreIndex : i32, zLoss : f32, smoothing : f32, softcap : f32, ' +
    kindUniforms(kind)
      .map((u) => `${u} : f32, `)
      .join('')
  );
}

export function uniformData(kind: NativeLossKind, s: Scalars): Array<{ type: string; data: number[] }> {
  const ints = [s.rows, s.classes, s.chunks, s.chunkLen, s.gradChunks, s.ignoreIndex].map((v) => ({ type: 'int32', data: [v] }));
  const own = [...(kind.linear ? s.linear : []), ...kind.params.map((p) => s.params[p.name])];
  const floats = [s.zLoss, s.smoothing, s.softcap, ...own].map((v) => ({ type: 'float32', data: [v] }));
  return [...ints, ...floats];
}

/** The linear index of this workgroup (tfjs may fold a long dispatch into y and z). */
export const WORKGROUP_INDEX =
  'let wg = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);';

/**
 * The merge pass's main: a thread per row (64 to a workgroup) merges the row's `chunks` records in
 * the input \`slices\` and finishes the row (ml_finish_row).
 */
export function mergeRowsMain(): string {
  return /* wgsl */ `
fn main(index: i32) {
  ${WORKGROUP_INDEX}
  let r = wg * 64 + i32(localIndex);
  if (r >= uniforms.rows) { return; }
  var acc = ml_empty();
  for (var k = 0; k < uniforms.chunks; k = k + 1) {
    let at = (r * uniforms.chunks + k) * ${PARTIAL_WORDS};
    ml_merge(&acc, ${loadPartial('slices', 'at')});
  }
  ml_finish_row(r, acc);
}
`;
}

/**
 * Which (row r, slice `chunk`) this workgroup takes when each row has `slices` of them (a uniform's
 * name), thread `lid` in it; `valid` is false past the last row (workgroups do not return early:
 * every thread must reach the barriers).
 */
function rowSlice(slices: string): string {
  return `${WORKGROUP_INDEX}
  let lid = i32(localIndex);
  let r = wg / uniforms.${slices};
  let chunk = wg % uniforms.${slices};
  let valid = r < uniforms.rows;`;
}

/** Reading labels, weights and the smoothing vector. */
export function inputHelpers(v: Variant): string {
  return /* wgsl */ `
fn ml_label(r: i32) -> i32 { ${v.dense ? 'return -1;' : 'return i32(labels[r]);'} }
fn ml_ignored(r: i32) -> bool {
  ${v.ignoreIndex && !v.dense ? (v.labelsFloat ? 'return labels[r] == f32(uniforms.ignoreIndex);' : 'return labels[r] == uniforms.ignoreIndex;') : 'return false;'}
}
fn ml_bad_label(r: i32) -> bool {
  if (ml_ignored(r)) { return false; }
  ${
    v.dense
      ? 'return false;'
      : v.labelsFloat
        ? 'let y = labels[r]; return !(y >= 0.0 && y < f32(uniforms.classes) && floor(y) == y);'
        : 'let y = labels[r]; return y < 0 || y >= uniforms.classes;'
  }
}
fn ml_u(j: i32) -> f32 { ${v.classWeights ? 'return f32(classWeights[j]);' : 'return 1.0;'} }
fn ml_omega(y: i32) -> f32 { ${v.classWeights && !v.dense ? 'return f32(classWeights[y]);' : 'return 1.0;'} }
fn ml_row_weight(r: i32) -> f32 { ${v.sampleWeights ? 'return f32(weights[r]);' : 'return 1.0;'} }
`;
}

/** Whether a program binds this input four floats at a time (Variant.vec4). */
const wide = (v: Variant, name: string) => v.vec4 && (name === 'logits' || (name === 'labels' && v.dense));

/** One logit by its flat index, in either binding. */
// tfjs declares a binding with its buffer's own type: logits from an int32 cast share the int32
// buffer, so every read converts (a no-op on f32).
const elementAccess = (v: Variant) =>
  softcapCode(v) + `fn ml_logit(i: i32) -> f32 { return ml_cap(f32(${v.vec4 ? 'logits[i >> 2u][i & 3]' : 'logits[i]'})); }\n`;

/**
 * Soft-capping where the logits are read: ml_cap(q) = cap·tanh(q/cap) (f32 or vec4), a −∞ logit
 * (a masked class) left at −∞; ml_chain(q) = 1 − tanh²(q/cap) as 4s/(1 + s)², s = exp(−2|q/cap|)
 * (no cancellation where tanh saturates), 1 on a −∞ logit. tanh as an odd series below 0.3 and
 * (1 − t)/(1 + t) with t = exp(−2|y|) above: no overflow for large |y|. Without softcap ml_cap is
 * the identity.
 */
export function softcapCode(v: Variant): string {
  if (!v.softcap) return 'fn ml_cap(q: f32) -> f32 { return q; }\nfn ml_cap4(q: vec4<f32>) -> vec4<f32> { return q; }\n';
  const tanh = (name: string, T: string) => /* wgsl */ `
fn ${name}(y: ${T}) -> ${T} {
  let a = abs(y);
  let a2 = a * a;
  let series = a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0)))));
  let t = exp(-2.0 * a);
  let r = select((1.0 - t) / (1.0 + t), series, a < ${T}(0.3));
  return select(r, -r, y < ${T}(0.0));
}`;
  return /* wgsl */ `${tanh('ml_tanh', 'f32')}${tanh('ml_tanh4', 'vec4<f32>')}
fn ml_cap(q: f32) -> f32 { return select(uniforms.softcap * ml_tanh(q / uniforms.softcap), q, q < -0x1.fffffep+127f); }
fn ml_cap4(q: vec4<f32>) -> vec4<f32> { return select(uniforms.softcap * ml_tanh4(q / uniforms.softcap), q, q < vec4<f32>(-0x1.fffffep+127f)); }
fn ml_chain(q: f32) -> f32 { let s = exp(-2.0 * abs(q / uniforms.softcap)); let d = 1.0 + s; return select(4.0 * s / (d * d), 1.0, q < -0x1.fffffep+127f); }
fn ml_chain4(q: vec4<f32>) -> vec4<f32> {
  let s = exp(-2.0 * abs(q / uniforms.softcap));
  let d = 1.0 + s;
  return select(4.0 * s / (d * d), vec4<f32>(1.0), q < vec4<f32>(-0x1.fffffep+127f));
}
`;
}

/**
 * The steps of the row loops: a column at a time, or four consecutive columns (Variant.vec4).
 * A step `jv` indexes the wide bindings; its first column is j = jv·n − base.
 */
function steps(v: Variant) {
  const n = v.vec4 ? 4 : 1;
  const T = v.vec4 ? 'vec4<f32>' : 'f32';
  return {
    n,
    T,
    /**
     * the steps of row r's columns [c0, c1) taken by thread lid of `stride`; with vec4 steps both
     * ends round down to a whole step alike, so a row's slices still share its columns out
     */
    loop: (stride: string) => `for (var jv = (base + c0) / ${n} + lid; jv < (base + c1) / ${n}; jv = jv + ${stride}) {
    let j = jv * ${n} - base;`,
    /** the targets (dense) or the smoothing vector u at the step's columns, else 0 */
    u: v.dense
      ? `${T}(labels[jv])`
      : v.smoothing
        ? v.vec4
          ? 'vec4<f32>(ml_u(j), ml_u(j + 1), ml_u(j + 2), ml_u(j + 3))'
          : 'ml_u(j)'
        : `${T}(0.0)`,
    /** column i of the step's value x */
    at: (x: string) => (v.vec4 ? `${x}[i]` : x),
    /** sets g's entry of column `col` (when the step holds it) to `value` */
    set: (col: string, value: string) =>
      v.vec4 ? `if (${col} >= j && ${col} < j + 4) { g[${col} - j] = ${value}; }` : `if (j == ${col}) { g = ${value}; }`,
  };
}

/** The element loop of the stats pass over columns [c0, c1) of row r, by thread `lid` of `stride`, in order. */
function elementLoop(v: Variant): string {
  const st = steps(v);
  return /* wgsl */ `
fn ml_slice_partial(r: i32, c0: i32, c1: i32, lid: i32, stride: i32) -> Partial {
  var p = ml_empty();
  ${v.dense ? '' : 'if (ml_ignored(r) || ml_bad_label(r)) { return p; }\n  let y = ml_label(r);'}
  let base = r * uniforms.classes;
  ${st.loop('stride')}
    let q = ${v.vec4 ? 'ml_cap4' : 'ml_cap'}(${st.T}(logits[jv]));
    let t = ${st.u};
    for (var i = 0; i < ${st.n}; i = i + 1) {
      ${v.dense ? '' : 'if (j + i == y) { continue; }'}
      ml_add(&p, ${st.at('q')}, ${st.at('t')}, j + i);
    }
  }
  return p;
}
`;
}

/**
 * Finishes row r from its merged Partial: statistics, value, checks; writes them and the trailer.
 * `targetLogit`: the WGSL of row r's target logit y as the loss sees it (capped).
 */
export function finishRow(v: Variant, targetLogit = 'ml_logit(r * uniforms.classes + y)'): string {
  return /* wgsl */ `
fn ml_finish_row(r: i32, acc: Partial) {
  var s = ml_zero_stats();
  var bad = false;
  ${
    v.dense
      ? `
  s = ml_finish_dense(acc);
  s.value = ml_dense_row(s).value;
  ${v.checkTargets ? `bad = !(s.t_min >= 0.0) || (s.mass != 0.0 && abs(s.mass - 1.0) > ${MASS_TOLERANCE});` : ''}`
      : `
  if (ml_bad_label(r)) {
    bad = true;
  } else if (!ml_ignored(r)) {
    let y = ml_label(r);
    var u_y = 0.0;
    ${v.smoothing ? 'u_y = ml_u(y); bad = bad || !(acc.t_min >= 0.0) || !(u_y >= 0.0);' : ''}
    s = ml_finish_sparse(acc, ${targetLogit}, y, u_y);
    let omega = ml_omega(y);
    bad = bad || !(ml_finite(omega) && omega >= 0.0);
    s.value = ml_sparse_row(s, omega, s.argmax == y).value;
  }`
  }
  ${v.sampleWeights ? 'let w = ml_row_weight(r); bad = bad || !(ml_finite(w) && w >= 0.0);' : ''}
  if (bad) { s = ml_nan_stats(); }
  ml_store_stats(s, r * ${perRow()});
  if (r == 0) {
    let t = uniforms.rows * ${perRow()};
    result[t] = 0.0;              // no pending-gradient token on this backend
    result[t + 1] = 1.0;          // the mean's divisor (reduce writes it for 'mean')
    result[t + ${TOTAL}] = 0.0;   // Σ of the weighted row losses (reduce)
    result[t + ${COUNT}] = 0.0;   // the rows counted (reduce)
  }
}
`;
}

/**
 * Mentions every input in a branch that never runs: WebGPU's 'auto' layout drops a binding the
 * shader does not use, and tfjs binds every input, which then fails validation.
 */
export function touchInputs(variableNames: string[], components: number[], out: number, intOutput = false): string {
  const sum = variableNames.map((n, i) => `f32(${n}[0]${components[i] === 4 ? '.x' : ''})`).join(' + ');
  const value = out === 4 ? `vec4<f32>(${sum})` : intOutput ? `i32(${sum})` : sum;
  return `fn ml_touch() { if (uniforms.rows < 0) { result[0] = ${value}; } }\n`;
}

export interface ProgramBase {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  variableComponents: number[];
  outputComponent: number;
  uniforms: string;
  getUserCode(): string;
}

/** What a program is: its name (in the shader key), inputs, output, dispatch and WGSL. */
export interface ProgramSpec {
  name: string;
  v: Variant;
  inputs: string[];
  outputShape: number[];
  workgroups: number;
  workgroupSize: number;
  code: () => string;
  /** binds the logits and dense targets four floats at a time where Variant.vec4 says */
  wideInputs?: boolean;
  /** writes the output four floats at a time where Variant.vec4 says (the gradient) */
  wideOutput?: boolean;
  /** uniforms declared after every program's (their values follow uniformData's) */
  extraUniforms?: string;
  /** the output is int32 (the kernel runs the program with that dtype) */
  intOutput?: boolean;
}

/**
 * A program for runWebGPUProgram. Its WGSL is generated only when tfjs compiles it (once per
 * shader key: tfjs caches the pipeline), not on every call.
 */
export function program(p: ProgramSpec): ProgramBase {
  const components = p.inputs.map((n) => (p.wideInputs && wide(p.v, n) ? 4 : 1));
  const out = p.wideOutput && p.v.vec4 ? 4 : 1;
  return {
    variableNames: p.inputs,
    variableComponents: components,
    outputComponent: out,
    outputShape: p.outputShape,
    shaderKey: `mixloss_${p.name}_${variantKey(p.v)}`,
    dispatchLayout: { x: p.outputShape.map((_, i) => i) },
    dispatch: [p.workgroups, 1, 1],
    workgroupSize: [p.workgroupSize, 1, 1],
    uniforms: uniformDecl(p.v.kind) + (p.extraUniforms ?? ''),
    getUserCode: () =>
      touchInputs(p.inputs, components, out, p.intOutput) +
      p.code().replace('fn main(index: i32) {', 'fn main(index: i32) {\n  ml_touch();'),
  };
}

/** The optional inputs' names, in the order every program binds them (kernel.ts passes them so). */
export function optionalInputs(v: Variant): string[] {
  return [...(v.classWeights ? ['classWeights'] : []), ...(v.sampleWeights ? ['weights'] : [])];
}

/** The row math without reading logits: the programs that compute them (the fused head's). */
export function rowMath(v: Variant): string {
  return MATH + partialCode(v.needs) + statsCode(statsLayout()) + rowMathCode(v.kind) + inputHelpers(v);
}

/** The row math; for the programs that bind the logits (wide where Variant.vec4 says). */
function rowCode(v: Variant): string {
  return rowMath(v) + elementAccess(v);
}

/**
 * The threads that share a row's slice of `columns` in the statistics pass: about 16 columns
 * each, from 32 (a warp) to the whole workgroup. Short rows take a team each, several teams to a
 * workgroup, so the tree reduction has fewer levels and no idle threads' merges.
 */
export function statsTeam(columns: number): number {
  let team = 32;
  while (team < WORKGROUP && team * 16 < columns) team *= 2;
  return team;
}

/**
 * Merges each team's Partials in workgroup memory (shared_p, thread tid of the team at lid) into
 * its first thread's: levels of up to 8 to 1, so a barrier per level (3 for a team of 256, not 8).
 */
export function fanIn(team: number): string {
  const levels: string[] = [];
  for (let width = team; width > 1;) {
    const next = Math.max(1, width >> 3);
    levels.push(`if (tid < ${next}) {
    var a = shared_p[lid];
    for (var k = 1; k < ${width / next}; k = k + 1) { ml_merge(&a, shared_p[lid + k * ${next}]); }
    shared_p[lid] = a;
  }
  workgroupBarrier();`);
    width = next;
  }
  return levels.join('\n  ');
}

/**
 * The workgroup's Partials (one team of WORKGROUP) merged into shared_p[0]: each subgroup merges
 * its own with subgroup reductions, its first invocation (by local index, whatever the adapter's
 * layout) files the result, and thread 0 merges those in local-index order.
 */
function subgroupFanIn(): string {
  return /* wgsl */ `let merged = ml_subgroup_merge(p);
  let first = u32(lid) == subgroupMin(u32(lid));
  shared_first[lid] = first;
  if (first) { shared_p[lid] = merged; }
  workgroupBarrier();
  if (lid == 0) {
    var a = shared_p[0];
    for (var k = 1; k < ${WORKGROUP}; k = k + 1) {
      if (shared_first[k]) { ml_merge(&a, shared_p[k]); }
    }
    shared_p[0] = a;
  }
  workgroupBarrier();`;
}

/**
 * The statistics pass over units (row, slice), chunks slices per row of chunkLen columns, a team
 * of statsTeam(chunkLen) threads per unit. chunks = 1: writes the statistics (STATS_LENGTH).
 * chunks > 1: writes the slices' Partials [rows·chunks·8].
 */
export function statsProgram(v: Variant, rows: number, chunks: number, chunkLen: number): ProgramBase {
  const whole = chunks === 1;
  const team = statsTeam(chunkLen);
  const units = WORKGROUP / team;
  // Subgroups only where the team is the whole workgroup: WGSL does not say which invocations
  // share a subgroup, so a subgroup could hold two teams' rows.
  const sub = v.subgroups && team === WORKGROUP;
  const code = () =>
    (sub ? 'enable subgroups;\n' + subgroupMergeCode(v.needs) : '') +
    rowCode(v) +
    elementLoop(v) +
    (whole ? storeStatsCode(statsLayout()) + finishRow(v) : '') +
    /* wgsl */ `
var<workgroup> shared_p: array<Partial, ${WORKGROUP}>;
${sub ? `var<workgroup> shared_first: array<bool, ${WORKGROUP}>;` : ''}
fn main(index: i32) {
  ${WORKGROUP_INDEX}
  let lid = i32(localIndex);
  let tid = lid % ${team};
  let unit = wg * ${units} + lid / ${team};
  let r = unit / uniforms.chunks;
  let chunk = unit % uniforms.chunks;
  let valid = r < uniforms.rows;
  var p = ml_empty();
  if (valid) {
    let c0 = chunk * uniforms.chunkLen;
    let c1 = min(c0 + uniforms.chunkLen, uniforms.classes);
    p = ml_slice_partial(r, c0, c1, tid, ${team});
  }
  ${
    sub
      ? subgroupFanIn()
      : `shared_p[lid] = p;
  workgroupBarrier();
  ${fanIn(team)}`
  }
  if (tid == 0 && valid) {
    ${
      whole
        ? 'ml_finish_row(r, shared_p[lid]);'
        : `
    let q = shared_p[lid];
    let at = unit * ${PARTIAL_WORDS};
    ${storePartial('result', 'at', 'q')}`
    }
  }
}
`;
  const outputShape = whole ? [STATS_LENGTH(rows)] : [rows * chunks * PARTIAL_WORDS];
  return program({
    name: `${whole ? 'stats' : 'slices'}_team${team}${sub ? '_subgroups' : ''}`,
    v,
    inputs: ['logits', 'labels', ...optionalInputs(v)],
    outputShape,
    workgroups: Math.ceil((rows * chunks) / units),
    workgroupSize: WORKGROUP,
    code,
    wideInputs: true,
  });
}

/** Merges each row's slices (a thread per row) and finishes the rows: the statistics (STATS_LENGTH). */
export function mergeProgram(v: Variant, rows: number): ProgramBase {
  const code = () => rowCode(v) + storeStatsCode(statsLayout()) + finishRow(v) + mergeRowsMain();
  return program({
    name: 'merge',
    v,
    inputs: ['logits', 'labels', ...optionalInputs(v), 'slices'],
    outputShape: [STATS_LENGTH(rows)],
    workgroups: Math.ceil(rows / 64),
    workgroupSize: 64,
    code,
    wideInputs: true,
  });
}

/** Reduction 'none': each row's loss times its sample weight (0·∞ stays NaN, as tfjs's mul). */
export function rowLossProgram(v: Variant, rows: number): ProgramBase {
  const code = () =>
    MATH +
    /* wgsl */ `
fn main(index: i32) {
  ${WORKGROUP_INDEX}
  let r = wg * 64 + i32(localIndex);
  if (r >= uniforms.rows) { return; }
  let value = stats[r * ${perRow()} + ${valueSlot()}];
  ${v.sampleWeights ? 'let w = f32(weights[r]); if (w == 1.0) { result[r] = value; } else { result[r] = w * value; }' : 'result[r] = value;'}
}
`;
  return program({
    name: 'rowloss',
    v,
    inputs: ['stats', ...(v.sampleWeights ? ['weights'] : [])],
    outputShape: [rows],
    workgroups: Math.ceil(rows / 64),
    workgroupSize: 64,
    code,
  });
}

/**
 * Reductions 'sum' and 'mean', run with the statistics as its output (read and written in
 * place): Σ_r w_r·ℓ_r and the mean's divisor, over the rows not ignored (meanOver: their count,
 * their class weights as PyTorch, their sample weights, or the count of non-zero sample weights).
 */
export function reduceProgram(v: Variant, rows: number, mean: boolean, meanOver: MeanOver): ProgramBase {
  const zTerm = mean && v.zPerRow;
  const share = !mean
    ? '0.0'
    : meanOver === 'sampleWeights' && v.sampleWeights
      ? 'ml_row_weight(r)'
      : meanOver === 'nonzero' && v.sampleWeights
        ? 'select(0.0, 1.0, ml_row_weight(r) != 0.0)'
        : meanOver === 'classWeights' && v.classWeights && !v.dense
          ? 'ml_omega(ml_label(r))'
          : '1.0';
  const code = () =>
    MATH +
    inputHelpers(v) +
    /* wgsl */ `
var<workgroup> shared_total: array<f32, ${WORKGROUP}>;
var<workgroup> shared_divisor: array<f32, ${WORKGROUP}>;
var<workgroup> shared_count: array<f32, ${WORKGROUP}>;
var<workgroup> shared_z: array<f32, ${WORKGROUP}>;
fn main(index: i32) {
  let lid = i32(localIndex);
  var total = 0.0;
  var divisor = 0.0;
  var count = 0.0;
  var z = 0.0;
  for (var r = lid; r < uniforms.rows; r = r + ${WORKGROUP}) {
    let at = r * ${perRow()};
    let value = result[at + ${valueSlot()}];
    let w = ml_row_weight(r);
    if (w == 1.0) { total = total + value; } else { total = total + w * value; }
    if (!ml_ignored(r)) {
      divisor = divisor + ${share};
      count = count + 1.0;
      ${zTerm ? `let lse = result[at + ${statsSlot('max')}] + result[at + ${statsSlot('log_sum')}]; z = z + uniforms.zLoss * lse * lse;` : ''}
    }
  }
  shared_total[lid] = total;
  shared_divisor[lid] = divisor;
  shared_count[lid] = count;
  shared_z[lid] = z;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}; s > 0; s = s >> 1u) {
    if (lid < s) {
      shared_total[lid] = shared_total[lid] + shared_total[lid + s];
      shared_divisor[lid] = shared_divisor[lid] + shared_divisor[lid + s];
      shared_count[lid] = shared_count[lid] + shared_count[lid + s];
      shared_z[lid] = shared_z[lid] + shared_z[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0) {
    let t = uniforms.rows * ${perRow()};
    ${mean ? 'result[t + 1] = shared_divisor[0];' : ''}
    result[t + ${COUNT}] = shared_count[0];
    // Liger's z-loss: its Σ z·lse² over the counted rows divided by their count, not by Σω.
    ${zTerm ? `result[t + ${TOTAL}] = shared_total[0] + (shared_divisor[0] / shared_count[0] - 1.0) * shared_z[0];` : `result[t + ${TOTAL}] = shared_total[0];`}
  }
}
`;
  return program({
    name: `reduce${mean ? `_mean_${meanOver}` : '_sum'}`,
    v,
    inputs: ['labels', ...optionalInputs(v)],
    outputShape: [STATS_LENGTH(rows)],
    workgroups: 1,
    workgroupSize: WORKGROUP,
    code,
  });
}

/** The scalar loss: Σ / divisor ('mean'; NaN when every row is ignored, as PyTorch) or Σ. */
export function pickProgram(v: Variant, mean: boolean): ProgramBase {
  const code = () =>
    MATH +
    /* wgsl */ `
fn main(index: i32) {
  if (index != 0) { return; }
  let t = uniforms.rows * ${perRow()};
  let total = stats[t + ${TOTAL}];
  ${mean ? 'let divisor = stats[t + 1]; if (divisor == 0.0) { result[0] = ml_nan(); } else { result[0] = total / divisor; }' : 'result[0] = total;'}
}
`;
  return program({ name: `pick${mean ? '_mean' : '_sum'}`, v, inputs: ['stats'], outputShape: [1], workgroups: 1, workgroupSize: 1, code });
}

/**
 * The gradient [rows, classes] for the upstream dy ([] or [rows]), from the logits and the
 * saved statistics: w·(a·p_j + u_j(b + d·p_j)) with w = dy·(1/divisor)·sample weight, the
 * sparse target's and MPCE's argmax entries written whole, complement entropy's r_j term.
 */
export function gradProgram(v: Variant, rows: number, classes: number, gradChunks: number, dyPerRow: boolean): ProgramBase {
  const st = steps(v);
  const code = () =>
    rowCode(v) +
    loadStatsCode(statsLayout()) +
    /* wgsl */ `
// Per workgroup: w, a, b, d, max, log_sum, target entry, argmax entry, cot, cot_hi, cot_lo, cot_lo + cot_value.
// p_j = exp((q_j − max) − log_sum) and complement entropy's r_j = exp((q_j − cot_hi) − cot_lo):
// a difference of a logit and a float near it first (exact near the row's top), then the small
// rest; max + log_sum rounded to one f32 was ~1e-3 off at logits near 16384.
var<workgroup> row_f: array<f32, 12>;
// ignored (1) or not, y, k (the argmax when its entry is written apart, else −1).
var<workgroup> row_i: array<i32, 3>;
fn main(index: i32) {
  ${rowSlice('gradChunks')}
  if (lid == 0 && valid) {
    let s = ml_load_stats(r * ${perRow()});
    let divisor = stats[uniforms.rows * ${perRow()} + 1];
    ${v.zPerRow ? `let count = stats[uniforms.rows * ${perRow()} + ${COUNT}]; if (count != 0.0) { ml_z_scale = divisor / count; }` : ''}
    var scale = 0.0;
    if (divisor != 0.0) { scale = 1.0 / divisor; }
    let w = f32(dy[${dyPerRow ? 'r' : '0'}]) * scale * ml_row_weight(r);
    row_i[0] = 0; row_i[1] = -1; row_i[2] = -1;
    ${
      v.dense
        ? `
    let g = ml_dense_row(s);`
        : `
    if (ml_ignored(r)) { row_i[0] = 1; }
    let y = ml_label(r);
    row_i[1] = y;
    let k_is_y = s.argmax == y;
    let g = ml_sparse_row(s, ml_omega(y), k_is_y);
    var u_y = 0.0;
    ${v.smoothing ? 'u_y = ml_u(y);' : ''}
    row_f[6] = w * ml_target_gradient(g, s, u_y, k_is_y);
    ${
      v.needs.argmax
        ? `if (!k_is_y) {
      row_i[2] = s.argmax;
      var u_k = 0.0;
      ${v.smoothing ? 'u_k = ml_u(s.argmax);' : ''}
      row_f[7] = w * ml_argmax_gradient(g, s, u_k);
    }`
        : ''
    }`
    }
    row_f[0] = w; row_f[1] = g.a; row_f[2] = g.b; row_f[3] = g.d; row_f[4] = s.max; row_f[5] = s.log_sum;
    row_f[8] = g.cot; row_f[9] = g.cot_hi; row_f[10] = g.cot_lo; row_f[11] = g.cot_lo + g.cot_value;
  }
  workgroupBarrier();
  if (!valid) { return; }
  let ignored = row_i[0] == 1;
  let y = row_i[1]; let k = row_i[2];
  let w = row_f[0]; let a = row_f[1]; let b = row_f[2]; let d = row_f[3];
  let row_max = row_f[4]; let row_log_sum = row_f[5];
  let cot = row_f[8]; let cot_hi = row_f[9]; let cot_lo = row_f[10]; let cot_c = row_f[11];
  let base = r * uniforms.classes;
  let c0 = chunk * ${GRAD_SLICE};
  let c1 = min(c0 + ${GRAD_SLICE}, uniforms.classes);
  ${st.loop(`${WORKGROUP}`)}
    var g = ${st.T}(0.0);
    if (!ignored) {
      let raw = ${st.T}(logits[jv]);
      let q = ${v.vec4 ? 'ml_cap4' : 'ml_cap'}(raw);
      let p = exp((q - row_max) - row_log_sum);
      let u = ${st.u};
      g = w * (a * p + u * (b + d * p));
      ${
        v.kind.complement
          ? `if (cot != 0.0) {
        let dq = q - cot_hi;
        let rj = exp(dq - cot_lo);
        g = g + select(${st.T}(0.0), w * cot * rj * (dq - cot_c), rj > ${st.T}(0.0));
      }`
          : ''
      }
      ${v.dense ? '' : st.set('y', 'row_f[6]')}
      ${v.needs.argmax ? st.set('k', 'row_f[7]') : ''}
      ${v.softcap ? `g = g * ${v.vec4 ? 'ml_chain4' : 'ml_chain'}(raw);` : ''}
    }
    result[jv] = g;
  }
}
`;
  return program({
    name: `grad${dyPerRow ? '_rows' : ''}`,
    v,
    inputs: ['logits', 'labels', ...optionalInputs(v), 'stats', 'dy'],
    outputShape: [rows, classes],
    workgroups: rows * gradChunks,
    workgroupSize: WORKGROUP,
    code,
    wideInputs: true,
    wideOutput: true,
  });
}

// The fused head's WebGPU programs: the logits Z = H·W + b exist only as tiles of TILE_ROWS ×
// TILE_CLASSES in registers (a workgroup-memory GEMM over the depth D in steps of TILE_DEPTH), as
// on the CPU; the row math is the loss kernels' (../../kernels/webgpu):
//   stats   a workgroup per (row block, class range): each tile's logits into the rows' Partials
//           (online max and sum, the target left out and its logit kept), merged over the
//           workgroup; writes a Partial per (row, range) and each row's target logit;
//   merge   a thread per row: merges the ranges and finishes the row (the loss kernels' statistics
//           layout, so their reduce, pick and row-loss programs follow);
//   kgrad   a workgroup per class tile, over every row block: the tile's G = c·(p − onehot)
//           recomputed, then dW[:, tile] += H[rows]ᵀ·G, each column written by its own workgroup
//           alone (no atomics);
//   hgrad   a workgroup per (row block, class range): G again, then dH[rows] += G·W[:, tile]ᵀ and
//           the row block's Σ G per class for db;
//   sum     adds hgrad's parts: dH over the class ranges, db over the row blocks.
// Between products the W tile's workgroup memory holds the tile's logits or G: 13 KiB at most.
// One exp per logit per pass; 32-bit indices (kernels.ts refuses larger inputs first).
import { statsLayout } from '../../kernels/registry';
import {
  COUNT,
  finishRow,
  loadPartial,
  mergeRowsMain,
  PARTIAL_WORDS,
  program,
  ProgramBase,
  rowMath,
  softcapCode,
  STATS_LENGTH,
  storePartial,
  Variant,
  WORKGROUP,
  WORKGROUP_INDEX,
} from '../../kernels/webgpu/programs';
import { loadStatsCode, storeStatsCode } from '../../kernels/webgpu/wgsl/row_math';

export const TILE_ROWS = 32;
export const TILE_CLASSES = 64;
const TILE_DEPTH = 32;
/** Rows each thread of a tile holds (TILE_ROWS·TILE_CLASSES / WORKGROUP). */
const PER_THREAD = (TILE_ROWS * TILE_CLASSES) / WORKGROUP;

/** The head's uniform beyond the loss kernels' (its value is appended to theirs). */
export const HEAD_UNIFORMS = 'dims : i32, ';

const perRow = () => statsLayout().perRow;

/** The head's inputs as the programs bind them (kernels.ts passes them in this order). */
export function headInputs(v: Variant, bias: boolean): string[] {
  return ['hid', 'wt', 'labels', ...(bias ? ['bias'] : []), ...(v.classWeights ? ['classWeights'] : [])];
}

/**
 * ml_tile(r0, c0, lid): this thread's PER_THREAD logits of the tile at rows r0.., classes c0..:
 * column c0 + lid % TILE_CLASSES, rows r0 + (lid / TILE_CLASSES)·PER_THREAD + i (0 outside the
 * head). Every thread of the workgroup must call it (it has barriers).
 */
export function tileCode(bias: boolean): string {
  const loadsW = (TILE_DEPTH * TILE_CLASSES) / WORKGROUP;
  const each = (f: (i: number) => string, sep = '\n    ') => Array.from({ length: PER_THREAD }, (_, i) => f(i)).join(sep);
  return /* wgsl */ `
var<workgroup> tile_h: array<f32, ${TILE_ROWS * TILE_DEPTH}>;
// The W tile; between products it holds the tile's logits or gradient [TILE_ROWS][TILE_CLASSES].
var<workgroup> tile_w: array<f32, ${TILE_DEPTH * TILE_CLASSES}>;
fn ml_tile(r0: i32, c0: i32, lid: i32) -> array<f32, ${PER_THREAD}> {
  let col = lid % ${TILE_CLASSES};
  let rg = lid / ${TILE_CLASSES};
  ${each((i) => `var a${i} = 0.0;`, '\n  ')}
  for (var k0 = 0; k0 < uniforms.dims; k0 = k0 + ${TILE_DEPTH}) {
    for (var e = lid; e < ${TILE_ROWS * TILE_DEPTH}; e = e + ${WORKGROUP}) {
      let hr = r0 + e / ${TILE_DEPTH};
      let hk = k0 + e % ${TILE_DEPTH};
      var hv = 0.0;
      if (hr < uniforms.rows && hk < uniforms.dims) { hv = f32(hid[hr * uniforms.dims + hk]); }
      tile_h[e] = hv;
    }
    for (var m = 0; m < ${loadsW}; m = m + 1) {
      let e = lid + ${WORKGROUP} * m;
      let wk = k0 + e / ${TILE_CLASSES};
      let wc = c0 + e % ${TILE_CLASSES};
      var wv = 0.0;
      if (wk < uniforms.dims && wc < uniforms.classes) { wv = f32(wt[wk * uniforms.classes + wc]); }
      tile_w[e] = wv;
    }
    workgroupBarrier();
    let h0 = rg * ${PER_THREAD * TILE_DEPTH};
    for (var k = 0; k < ${TILE_DEPTH}; k = k + 1) {
      let w = tile_w[k * ${TILE_CLASSES} + col];
      ${each((i) => `a${i} = a${i} + tile_h[h0 + ${i * TILE_DEPTH} + k] * w;`, '\n      ')}
    }
    workgroupBarrier();
  }
  var b = 0.0;
  ${bias ? `if (c0 + col < uniforms.classes) { b = f32(bias[c0 + col]); }` : ''}
  return array<f32, ${PER_THREAD}>(${each((i) => `a${i} + b`, ', ')});
}
`;
}

/**
 * The start of the main of a program whose workgroup takes a block of TILE_ROWS rows from r0 and
 * the class range `chunk`, classes [cs, ce); lid is the thread. RANGE_UNIT_DECL goes at module
 * scope.
 */
export const RANGE_UNIT_DECL = 'var<workgroup> shared_wg: i32;';
export const RANGE_UNIT = `${WORKGROUP_INDEX}
  let lid = i32(localIndex);
  // The workgroup's index as a uniform value: the class loop below holds barriers.
  if (lid == 0) { shared_wg = wg; }
  let unit = workgroupUniformLoad(&shared_wg);
  let r0 = (unit / uniforms.chunks) * ${TILE_ROWS};
  let chunk = unit % uniforms.chunks;
  let cs = chunk * uniforms.chunkLen;
  let ce = min(cs + uniforms.chunkLen, uniforms.classes);`;

/** Row r's label when it counts (not ignored, a class id), else −1. */
const LIVE_LABEL = /* wgsl */ `
fn ml_live_label(r: i32) -> i32 {
  if (r >= uniforms.rows || ml_ignored(r) || ml_bad_label(r)) { return -1; }
  return ml_label(r);
}
`;

/**
 * Statistics: a workgroup per (block of TILE_ROWS rows, range `chunk` of chunkLen classes, a
 * multiple of TILE_CLASSES). Output: the Partials [rows·chunks·8], then each row's target logit
 * (uncapped; written by the workgroup whose range holds it).
 */
export function headStatsProgram(v: Variant, rows: number, chunks: number, bias: boolean): ProgramBase {
  // After each tile's product, its logits go through workgroup memory: a team of TEAM threads
  // per row then adds that row's columns, one Partial per thread (one ml_add in the code).
  const team = WORKGROUP / TILE_ROWS;
  const code = () =>
    rowMath(v) +
    softcapCode(v) +
    tileCode(bias) +
    LIVE_LABEL +
    /* wgsl */ `
${RANGE_UNIT_DECL}
fn ml_put(at: i32, q: Partial) { ${storePartial('tile_w', 'at', 'q')} }
fn ml_get(at: i32) -> Partial { return ${loadPartial('tile_w', 'at')}; }
fn main(index: i32) {
  ${RANGE_UNIT}
  let col = lid % ${TILE_CLASSES};
  let rg = lid / ${TILE_CLASSES};
  let slot = lid / ${team};
  let tid = lid % ${team};
  let r = r0 + slot;
  let y = ml_live_label(r);
  var p = ml_empty();
  for (var c0 = cs; c0 < ce; c0 = c0 + ${TILE_CLASSES}) {
    var z = ml_tile(r0, c0, lid);
    for (var i = 0; i < ${PER_THREAD}; i = i + 1) { tile_w[(rg * ${PER_THREAD} + i) * ${TILE_CLASSES} + col] = z[i]; }
    workgroupBarrier();
    if (y >= 0) {
      for (var k = tid; k < ${TILE_CLASSES}; k = k + ${team}) {
        let c = c0 + k;
        if (c < ce) {
          let x = tile_w[slot * ${TILE_CLASSES} + k];
          // The target: left out of the sums, its logit kept (uncapped) for the merge.
          if (c == y) { result[uniforms.rows * uniforms.chunks * ${PARTIAL_WORDS} + r] = x; }
          else { ml_add(&p, ml_cap(x), ${v.smoothing ? 'ml_u(c)' : '0.0'}, c); }
        }
      }
    }
    workgroupBarrier();
  }
  // The team's Partials merged into its first thread's by halves, through tile_w (eight words a
  // Partial: the upper half of each team at a time fits), so the workgroup's memory stays small.
  for (var half = ${team / 2}; half > 0; half = half / 2) {
    if (tid >= half && tid < 2 * half) { ml_put((slot * ${team / 2} + tid - half) * ${PARTIAL_WORDS}, p); }
    workgroupBarrier();
    if (tid < half) { ml_merge(&p, ml_get((slot * ${team / 2} + tid) * ${PARTIAL_WORDS})); }
    workgroupBarrier();
  }
  if (tid == 0 && r < uniforms.rows) {
    let at = (r * uniforms.chunks + chunk) * ${PARTIAL_WORDS};
    ${storePartial('result', 'at', 'p')}
  }
}
`;
  return program({
    name: `head_stats${bias ? '_bias' : ''}`,
    v,
    inputs: headInputs(v, bias),
    outputShape: [rows * chunks * PARTIAL_WORDS + rows],
    workgroups: Math.ceil(rows / TILE_ROWS) * chunks,
    workgroupSize: WORKGROUP,
    code,
    extraUniforms: HEAD_UNIFORMS,
  });
}

/** Merges each row's ranges (a thread per row) and finishes it: the loss kernels' statistics layout. */
export function headMergeProgram(v: Variant, rows: number): ProgramBase {
  const code = () =>
    rowMath(v) +
    softcapCode(v) +
    storeStatsCode(statsLayout()) +
    finishRow(v, `ml_cap(slices[uniforms.rows * uniforms.chunks * ${PARTIAL_WORDS} + r])`) +
    mergeRowsMain();
  return program({
    name: 'head_merge',
    v,
    inputs: ['labels', ...(v.classWeights ? ['classWeights'] : []), 'slices'],
    outputShape: [STATS_LENGTH(rows)],
    workgroups: Math.ceil(rows / 64),
    workgroupSize: 64,
    code,
    extraUniforms: HEAD_UNIFORMS,
  });
}

/**
 * The gradient's row scalars for a block of TILE_ROWS rows (threads 0.. of the block), and
 * ml_g(slot, c, raw): G at row slot, class c from its uncapped logit (0 on an ignored row).
 */
function gradientCode(v: Variant, dyPerRow: boolean): string {
  return /* wgsl */ `
// Per row slot: w, a, b, d, shift (max + log_sum), the target's entry.
var<workgroup> row_f: array<f32, ${TILE_ROWS * 6}>;
// Per row slot: live (1) or not, y.
var<workgroup> row_i: array<i32, ${TILE_ROWS * 2}>;
fn ml_setup_rows(r0: i32, lid: i32) {
  if (lid >= ${TILE_ROWS}) { return; }
  let r = r0 + lid;
  row_i[lid * 2] = 0;
  if (r >= uniforms.rows || ml_ignored(r)) { return; }
  let s = ml_load_stats(r * ${perRow()});
  let divisor = stats[uniforms.rows * ${perRow()} + 1];
  ${v.zPerRow ? `let count = stats[uniforms.rows * ${perRow()} + ${COUNT}]; if (count != 0.0) { ml_z_scale = divisor / count; }` : ''}
  var scale = 0.0;
  if (divisor != 0.0) { scale = 1.0 / divisor; }
  let w = f32(dy[${dyPerRow ? 'r' : '0'}]) * scale;
  let y = ml_label(r);
  let g = ml_sparse_row(s, ml_omega(y), false);
  var u_y = 0.0;
  ${v.smoothing ? 'u_y = ml_u(y);' : ''}
  row_i[lid * 2] = 1;
  row_i[lid * 2 + 1] = y;
  row_f[lid * 6] = w; row_f[lid * 6 + 1] = g.a; row_f[lid * 6 + 2] = g.b; row_f[lid * 6 + 3] = g.d;
  row_f[lid * 6 + 4] = s.max + s.log_sum;
  row_f[lid * 6 + 5] = w * ml_target_gradient(g, s, u_y, false);
}
fn ml_g(slot: i32, c: i32, raw: f32) -> f32 {
  if (row_i[slot * 2] == 0) { return 0.0; }
  var g = 0.0;
  if (c == row_i[slot * 2 + 1]) {
    g = row_f[slot * 6 + 5];
  } else {
    let p = exp(ml_cap(raw) - row_f[slot * 6 + 4]);
    let u = ${v.smoothing ? 'ml_u(c)' : '0.0'};
    g = row_f[slot * 6] * (row_f[slot * 6 + 1] * p + u * (row_f[slot * 6 + 2] + row_f[slot * 6 + 3] * p));
  }
  ${v.softcap ? 'g = g * ml_chain(raw);' : ''}
  return g;
}
// G of the tile at (r0, c0) into tile_w [TILE_ROWS][TILE_CLASSES]; every thread calls it.
fn ml_gradient_tile(r0: i32, c0: i32, lid: i32) {
  var z = ml_tile(r0, c0, lid);
  let col = lid % ${TILE_CLASSES};
  let rg = lid / ${TILE_CLASSES};
  for (var i = 0; i < ${PER_THREAD}; i = i + 1) {
    let slot = rg * ${PER_THREAD} + i;
    var g = 0.0;
    if (c0 + col < uniforms.classes && r0 + slot < uniforms.rows) { g = ml_g(slot, c0 + col, z[i]); }
    tile_w[slot * ${TILE_CLASSES} + col] = g;
  }
  workgroupBarrier();
}
`;
}

const gradInputs = (v: Variant, bias: boolean) => [...headInputs(v, bias), 'stats', 'dy'];

function gradPrelude(v: Variant, bias: boolean, dyPerRow: boolean): string {
  return rowMath(v) + softcapCode(v) + loadStatsCode(statsLayout()) + tileCode(bias) + gradientCode(v, dyPerRow);
}

/** The kernel's gradient [dims, classes]: a workgroup per class tile, over every row block. */
export function headKernelGradProgram(v: Variant, dims: number, classes: number, bias: boolean, dyPerRow: boolean): ProgramBase {
  const code = () =>
    gradPrelude(v, bias, dyPerRow) +
    /* wgsl */ `
fn main(index: i32) {
  ${WORKGROUP_INDEX}
  let lid = i32(localIndex);
  let col = lid % ${TILE_CLASSES};
  let rg = lid / ${TILE_CLASSES};
  let c0 = wg * ${TILE_CLASSES};
  let c = c0 + col;
  for (var r0 = 0; r0 < uniforms.rows; r0 = r0 + ${TILE_ROWS}) {
    ml_setup_rows(r0, lid);
    workgroupBarrier();
    ml_gradient_tile(r0, c0, lid);
    if (c < uniforms.classes) {
      let n = min(${TILE_ROWS}, uniforms.rows - r0);
      for (var d = rg; d < uniforms.dims; d = d + ${WORKGROUP / TILE_CLASSES}) {
        var s = 0.0;
        for (var i = 0; i < n; i = i + 1) { s = s + f32(hid[(r0 + i) * uniforms.dims + d]) * tile_w[i * ${TILE_CLASSES} + col]; }
        let at = d * uniforms.classes + c;
        if (r0 == 0) { result[at] = s; } else { result[at] = result[at] + s; }
      }
    }
    workgroupBarrier();
  }
}
`;
  return program({
    name: `head_kgrad${bias ? '_bias' : ''}${dyPerRow ? '_rows' : ''}`,
    v,
    inputs: gradInputs(v, bias),
    outputShape: [dims, classes],
    workgroups: Math.ceil(classes / TILE_CLASSES),
    workgroupSize: WORKGROUP,
    code,
    extraUniforms: HEAD_UNIFORMS,
  });
}

/**
 * The hidden's gradient: a workgroup per (row block, range of chunkLen classes, `chunks` ranges),
 * over the range's class tiles. Output [chunks, rows, dims]: each range's part (sumProgram adds
 * them when there are several), so that few rows still give the GPU enough workgroups. With a
 * bias, the bias's gradient per row block follows ([row blocks, classes], each entry written by
 * the workgroup whose range holds its class), for sumProgram too.
 */
export function headHiddenGradProgram(
  v: Variant,
  rows: number,
  dims: number,
  classes: number,
  ranges: number,
  bias: boolean,
  dyPerRow: boolean,
): ProgramBase {
  const code = () =>
    gradPrelude(v, bias, dyPerRow) +
    /* wgsl */ `
${RANGE_UNIT_DECL}
fn main(index: i32) {
  ${RANGE_UNIT}
  let out = chunk * uniforms.rows * uniforms.dims;
  ml_setup_rows(r0, lid);
  workgroupBarrier();
  let entries = min(${TILE_ROWS}, uniforms.rows - r0) * uniforms.dims;
  for (var e = lid; e < entries; e = e + ${WORKGROUP}) { result[out + r0 * uniforms.dims + e] = 0.0; }
  for (var c0 = cs; c0 < ce; c0 = c0 + ${TILE_CLASSES}) {
    ml_gradient_tile(r0, c0, lid);
    let n = min(${TILE_CLASSES}, uniforms.classes - c0);
    ${
      bias
        ? `if (lid < n) {
      var sb = 0.0;
      for (var i = 0; i < min(${TILE_ROWS}, uniforms.rows - r0); i = i + 1) { sb = sb + tile_w[i * ${TILE_CLASSES} + lid]; }
      result[uniforms.chunks * uniforms.rows * uniforms.dims + (r0 / ${TILE_ROWS}) * uniforms.classes + c0 + lid] = sb;
    }`
        : ''
    }
    for (var e = lid; e < entries; e = e + ${WORKGROUP}) {
      let i = e / uniforms.dims;
      let d = e % uniforms.dims;
      var s = 0.0;
      for (var k = 0; k < n; k = k + 1) { s = s + tile_w[i * ${TILE_CLASSES} + k] * f32(wt[d * uniforms.classes + c0 + k]); }
      let at = out + (r0 + i) * uniforms.dims + d;
      result[at] = result[at] + s;
    }
    workgroupBarrier();
  }
}
`;
  return program({
    name: `head_hgrad${bias ? '_bias' : ''}${dyPerRow ? '_rows' : ''}`,
    v,
    inputs: gradInputs(v, bias),
    outputShape: ranges === 1 && !bias ? [rows, dims] : [ranges * rows * dims + (bias ? Math.ceil(rows / TILE_ROWS) * classes : 0)],
    workgroups: Math.ceil(rows / TILE_ROWS) * ranges,
    workgroupSize: WORKGROUP,
    code,
    extraUniforms: HEAD_UNIFORMS,
  });
}

/** A thread per element i of `shape`: result[i] = `value` (WGSL reading the input `src`, `helpers` beside). */
function elementwiseProgram(v: Variant, name: string, shape: number[], value: (i: string) => string, helpers = ''): ProgramBase {
  const size = shape.reduce((a, b) => a * b, 1);
  const code = () => /* wgsl */ `${helpers}
fn main(index: i32) {
  ${WORKGROUP_INDEX}
  let i = wg * ${WORKGROUP} + i32(localIndex);
  if (i < ${size}) { result[i] = ${value('i')}; }
}
`;
  return program({
    name: `${name}_${size}`,
    v,
    inputs: ['src'],
    outputShape: shape,
    workgroups: Math.ceil(size / WORKGROUP),
    workgroupSize: WORKGROUP,
    code,
    extraUniforms: HEAD_UNIFORMS,
  });
}

/**
 * The sum of `parts` consecutive buffers of `shape` that start at word `chunks` (a uniform) of the
 * input: the hidden's gradient over class ranges, the bias's over row blocks.
 */
export function sumProgram(v: Variant, shape: number[], parts: number): ProgramBase {
  const size = shape.reduce((a, b) => a * b, 1);
  const helpers = /* wgsl */ `
fn ml_parts(i: i32) -> f32 {
  var s = 0.0;
  for (var k = 0; k < ${parts}; k = k + 1) { s = s + src[uniforms.chunks + k * ${size} + i]; }
  return s;
}`;
  return elementwiseProgram(v, `head_sum${parts}`, shape, (i) => `ml_parts(${i})`, helpers);
}

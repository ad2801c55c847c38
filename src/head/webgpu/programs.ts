// The fused head's WebGPU programs: the logits Z = H·W + b exist only as tiles of TILE_ROWS ×
// TILE_CLASSES in registers (a workgroup-memory GEMM over the depth D in steps of TILE_DEPTH), as
// on the CPU; the row math is the loss kernels' (../../kernels/webgpu):
//   stats   a workgroup per (row block, class range): each tile's logits into the rows' Partials
//           (online max and sum, the target left out and its logit kept), merged over the
//           workgroup; writes a Partial per (row, range) and each row's target logit;
//   merge   a thread per row: merges the ranges and finishes the row (the loss kernels' statistics
//           layout, so their reduce, pick and row-loss programs follow);
//   kgrad   a workgroup per (class tile, group of row blocks): the tile's G = c·(p − onehot)
//           recomputed, then dW[:, tile] += H[rows]ᵀ·G, each column of a group's part written by
//           its own workgroup alone (no atomics);
//   hgrad   a workgroup per (row block, class range): G again, then dH[rows] += G·W[:, tile]ᵀ and
//           the row block's Σ G per class for db;
//   sum     adds the parts: dW over the row groups, dH over the class ranges, db over the row blocks.
// Every product is register-blocked: a thread of 128 holds a 4 × 4 block of its output and reads
// vec4 from workgroup memory (the tile: 4 rows × 4 classes; dW: 4 depths × 4 classes; dH: 4 rows ×
// 4 depths), 16 multiply-adds per two vec4 read. Between products the W tile's workgroup memory
// holds the tile's logits or G and the H tile's a chunk of H or W: 13 KiB at most.
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
/**
 * A tile's thread holds ROWS_PER_THREAD rows × four classes: the classes in fours (vec4 columns,
 * QUADS of them) and the rows in groups of ROWS_PER_THREAD, a thread per (group, four).
 */
const QUADS = TILE_CLASSES / 4;
const ROWS_PER_THREAD = 4;
const GROUPS = TILE_ROWS / ROWS_PER_THREAD;
/** The head programs' threads per workgroup. */
export const HEAD_WORKGROUP = GROUPS * QUADS;
const PER_THREAD = 4 * ROWS_PER_THREAD;
/** The tiles' vec4 in workgroup memory: H's and W's chunks between products. */
const H_QUADS = (TILE_ROWS * TILE_DEPTH) / 4;
/** The hidden's gradient: a thread per (row group, four of depth); W's chunks of classes. */
const HGRAD_DEPTH = 4 * QUADS;
const HGRAD_SLAB = (4 * H_QUADS) / HGRAD_DEPTH;
// The kernel's gradient: a thread per (four of depth, four of classes) of a tile's depth step.
if ((4 * HEAD_WORKGROUP) / QUADS !== TILE_DEPTH) throw new Error('mixloss: the head tile does not match its workgroup');
const each = (n: number, f: (i: number) => string, sep = '\n') => Array.from({ length: n }, (_, i) => f(i)).join(sep);

/** The head's uniform beyond the loss kernels' (its value is appended to theirs). */
export const HEAD_UNIFORMS = 'dims : i32, ';

const perRow = () => statsLayout().perRow;

/** The head's inputs as the programs bind them (kernels.ts passes them in this order). */
export function headInputs(v: Variant, bias: boolean): string[] {
  return ['hid', 'wt', 'labels', ...(bias ? ['bias'] : []), ...(v.classWeights ? ['classWeights'] : [])];
}

/** WGSL: fn name(i, j) -> vec4: the row-major matrix `input` [rows, cols] at row i, columns j .. j + 3 (0 outside). */
function fourReader(name: string, input: string, rows: string, cols: string): string {
  return /* wgsl */ `
fn ${name}(i: i32, j: i32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (i < ${rows}) {
    let at = i * ${cols} + j;
    for (var k = 0; k < 4; k = k + 1) { if (j + k < ${cols}) { v[k] = f32(${input}[at + k]); } }
  }
  return v;
}`;
}

/**
 * The tile's GEMM and its workgroup memory. A thread (group g = lid / QUADS, four f = lid % QUADS)
 * holds the ROWS_PER_THREAD × 4 logits at rows g·ROWS_PER_THREAD.. and classes 4f .. 4f + 3 of
 * the tile: per four steps of depth it reads ROWS_PER_THREAD vec4 of H and four of W for
 * 16·ROWS_PER_THREAD multiply-adds, each W vec4 read by consecutive threads, each H vec4 by a
 * group's threads alike.
 *   ml_tile(r0, c0, lid)     this thread's logits of the tile at rows r0.., classes c0.. (0
 *                            outside the head), element i at row ml_tile_row(lid, i) and
 *                            class ml_tile_col(lid, i); every thread must call it (barriers);
 *   ml_tile_put(lid, z)      the logits (or G) into tile_w as [TILE_ROWS][TILE_CLASSES];
 *   ml_tw(i), ml_tw_set      tile_w's scalar i of that layout;
 *   ml_load_h(r0, k0, lid)   H[r0 .., k0 .. k0 + TILE_DEPTH] into tile_h ([row][depth / 4]).
 */
export function tileCode(bias: boolean): string {
  const R = ROWS_PER_THREAD;
  return /* wgsl */ `
// H's tile [TILE_ROWS][TILE_DEPTH / 4]; between products a chunk of H or W.
var<workgroup> tile_h: array<vec4<f32>, ${H_QUADS}>;
// W's tile [TILE_DEPTH][QUADS]; between products the tile's logits or G [TILE_ROWS][QUADS].
var<workgroup> tile_w: array<vec4<f32>, ${(TILE_DEPTH * TILE_CLASSES) / 4}>;
fn ml_tw(i: i32) -> f32 { return tile_w[i >> 2u][i & 3]; }
fn ml_tw_set(i: i32, x: f32) { tile_w[i >> 2u][i & 3] = x; }
fn ml_tile_row(lid: i32, i: i32) -> i32 { return (lid / ${QUADS}) * ${R} + i / 4; }
fn ml_tile_col(lid: i32, i: i32) -> i32 { return (lid % ${QUADS}) * 4 + i % 4; }
${fourReader('ml_hid4', 'hid', 'uniforms.rows', 'uniforms.dims')}
${fourReader('ml_wt4', 'wt', 'uniforms.dims', 'uniforms.classes')}
fn ml_load_h(r0: i32, k0: i32, lid: i32) {
  for (var e = lid; e < ${H_QUADS}; e = e + ${HEAD_WORKGROUP}) {
    tile_h[e] = ml_hid4(r0 + e / ${TILE_DEPTH / 4}, k0 + (e % ${TILE_DEPTH / 4}) * 4);
  }
}
fn ml_tile(r0: i32, c0: i32, lid: i32) -> array<f32, ${PER_THREAD}> {
  let f = lid % ${QUADS};
  let h0 = (lid / ${QUADS}) * ${(R * TILE_DEPTH) / 4};
  ${each(R, (r) => `var a${r} = vec4<f32>(0.0);`, '\n  ')}
  for (var k0 = 0; k0 < uniforms.dims; k0 = k0 + ${TILE_DEPTH}) {
    ml_load_h(r0, k0, lid);
    for (var e = lid; e < ${(TILE_DEPTH * TILE_CLASSES) / 4}; e = e + ${HEAD_WORKGROUP}) {
      tile_w[e] = ml_wt4(k0 + e / ${QUADS}, c0 + (e % ${QUADS}) * 4);
    }
    workgroupBarrier();
    for (var q = 0; q < ${TILE_DEPTH / 4}; q = q + 1) {
      let w = q * ${4 * QUADS} + f;
      ${each(4, (j) => `let w${j} = tile_w[w + ${j * QUADS}];`, '\n      ')}
      ${each(R, (r) => `let x${r} = tile_h[h0 + ${(r * TILE_DEPTH) / 4} + q];\n      a${r} = a${r} + x${r}.x * w0 + x${r}.y * w1 + x${r}.z * w2 + x${r}.w * w3;`, '\n      ')}
    }
    workgroupBarrier();
  }
  var b = vec4<f32>(0.0);
  ${bias ? `for (var j = 0; j < 4; j = j + 1) { let c = c0 + f * 4 + j; if (c < uniforms.classes) { b[j] = f32(bias[c]); } }` : ''}
  ${each(R, (r) => `a${r} = a${r} + b;`, '\n  ')}
  return array<f32, ${PER_THREAD}>(${each(R, (r) => `a${r}.x, a${r}.y, a${r}.z, a${r}.w`, ', ')});
}
fn ml_tile_put(lid: i32, z: array<f32, ${PER_THREAD}>) {
  let at = (lid / ${QUADS}) * ${R * QUADS} + lid % ${QUADS};
  ${each(R, (r) => `tile_w[at + ${r * QUADS}] = vec4<f32>(z[${4 * r}], z[${4 * r + 1}], z[${4 * r + 2}], z[${4 * r + 3}]);`, '\n  ')}
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
  const team = HEAD_WORKGROUP / TILE_ROWS;
  const code = () =>
    rowMath(v) +
    softcapCode(v) +
    tileCode(bias) +
    LIVE_LABEL +
    /* wgsl */ `
${RANGE_UNIT_DECL}
fn ml_put(at: i32, q: Partial) {
  var w: array<f32, ${PARTIAL_WORDS}>;
  ${storePartial('w', '0', 'q')}
  for (var i = 0; i < ${PARTIAL_WORDS}; i = i + 1) { ml_tw_set(at + i, w[i]); }
}
fn ml_get(at: i32) -> Partial {
  var w: array<f32, ${PARTIAL_WORDS}>;
  for (var i = 0; i < ${PARTIAL_WORDS}; i = i + 1) { w[i] = ml_tw(at + i); }
  return ${loadPartial('w', '0')};
}
fn main(index: i32) {
  ${RANGE_UNIT}
  let slot = lid / ${team};
  let tid = lid % ${team};
  let r = r0 + slot;
  let y = ml_live_label(r);
  var p = ml_empty();
  for (var c0 = cs; c0 < ce; c0 = c0 + ${TILE_CLASSES}) {
    ml_tile_put(lid, ml_tile(r0, c0, lid));
    workgroupBarrier();
    if (y >= 0) {
      for (var k = tid; k < ${TILE_CLASSES}; k = k + ${team}) {
        let c = c0 + k;
        if (c < ce) {
          let x = ml_tw(slot * ${TILE_CLASSES} + k);
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
    workgroupSize: HEAD_WORKGROUP,
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
// Per row slot: w, a, b, d, max, the target's entry, log_sum.
var<workgroup> row_f: array<f32, ${TILE_ROWS * 7}>;
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
  row_f[lid * 7] = w; row_f[lid * 7 + 1] = g.a; row_f[lid * 7 + 2] = g.b; row_f[lid * 7 + 3] = g.d;
  row_f[lid * 7 + 4] = s.max;
  row_f[lid * 7 + 6] = s.log_sum;
  row_f[lid * 7 + 5] = w * ml_target_gradient(g, s, u_y, false);
}
fn ml_g(slot: i32, c: i32, raw: f32) -> f32 {
  if (row_i[slot * 2] == 0) { return 0.0; }
  var g = 0.0;
  if (c == row_i[slot * 2 + 1]) {
    g = row_f[slot * 7 + 5];
  } else {
    // (q − max) − log_sum: max + log_sum rounded to one f32 was ~1e-3 off at logits near 16384.
    let p = exp((ml_cap(raw) - row_f[slot * 7 + 4]) - row_f[slot * 7 + 6]);
    let u = ${v.smoothing ? 'ml_u(c)' : '0.0'};
    g = row_f[slot * 7] * (row_f[slot * 7 + 1] * p + u * (row_f[slot * 7 + 2] + row_f[slot * 7 + 3] * p));
  }
  ${v.softcap ? 'g = g * ml_chain(raw);' : ''}
  return g;
}
// The output's entry at: x on a workgroup's first pass over it, else added (no zeroing pass).
fn ml_accumulate(at: i32, x: f32, first: bool) {
  if (first) { result[at] = x; } else { result[at] = result[at] + x; }
}
// G of the tile at (r0, c0) into tile_w [TILE_ROWS][TILE_CLASSES]; every thread calls it.
fn ml_gradient_tile(r0: i32, c0: i32, lid: i32) {
  var z = ml_tile(r0, c0, lid);
  for (var i = 0; i < ${PER_THREAD}; i = i + 1) {
    let slot = ml_tile_row(lid, i);
    let c = c0 + ml_tile_col(lid, i);
    var g = 0.0;
    if (c < uniforms.classes && r0 + slot < uniforms.rows) { g = ml_g(slot, c, z[i]); }
    z[i] = g;
  }
  ml_tile_put(lid, z);
  workgroupBarrier();
}
`;
}

const gradInputs = (v: Variant, bias: boolean) => [...headInputs(v, bias), 'stats', 'dy'];

function gradPrelude(v: Variant, bias: boolean, dyPerRow: boolean): string {
  return rowMath(v) + softcapCode(v) + loadStatsCode(statsLayout()) + tileCode(bias) + gradientCode(v, dyPerRow);
}

/**
 * The kernel's gradient: a workgroup per (class tile, group of `chunkLen` rows, `chunks` groups),
 * over the group's row blocks. Output [dims, classes] for one group, else each group's part
 * [groups, dims, classes] (sumProgram adds them), so that few classes still give the GPU enough
 * workgroups.
 */
export function headKernelGradProgram(
  v: Variant,
  dims: number,
  classes: number,
  groups: number,
  bias: boolean,
  dyPerRow: boolean,
): ProgramBase {
  const code = () =>
    gradPrelude(v, bias, dyPerRow) +
    /* wgsl */ `
${RANGE_UNIT_DECL}
fn main(index: i32) {
  ${WORKGROUP_INDEX}
  let lid = i32(localIndex);
  // The workgroup's index as a uniform value: the row loop below holds barriers.
  if (lid == 0) { shared_wg = wg; }
  let unit = workgroupUniformLoad(&shared_wg);
  let tiles = (uniforms.classes + ${TILE_CLASSES - 1}) / ${TILE_CLASSES};
  let rs = (unit / tiles) * uniforms.chunkLen;
  let re = min(rs + uniforms.chunkLen, uniforms.rows);
  let out = (unit / tiles) * uniforms.dims * uniforms.classes;
  // A thread's 4 × 4 of each [TILE_DEPTH, TILE_CLASSES] block of dW: depths 4e .. 4e + 3,
  // classes 4f .. 4f + 3; H's rows × that depth in tile_h: per row one vec4 of G and one of H for
  // 16 multiply-adds.
  let f = lid % ${QUADS};
  let e = lid / ${QUADS};
  let c0 = (unit % tiles) * ${TILE_CLASSES};
  let c = c0 + f * 4;
  for (var r0 = rs; r0 < re; r0 = r0 + ${TILE_ROWS}) {
    ml_setup_rows(r0, lid);
    workgroupBarrier();
    ml_gradient_tile(r0, c0, lid);
    let n = min(${TILE_ROWS}, re - r0);
    for (var d0 = 0; d0 < uniforms.dims; d0 = d0 + ${TILE_DEPTH}) {
      ml_load_h(r0, d0, lid);
      workgroupBarrier();
      var a = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
      for (var i = 0; i < n; i = i + 1) {
        let g = tile_w[i * ${QUADS} + f];
        let x = tile_h[i * ${TILE_DEPTH / 4} + e];
        a[0] = a[0] + x.x * g;
        a[1] = a[1] + x.y * g;
        a[2] = a[2] + x.z * g;
        a[3] = a[3] + x.w * g;
      }
      workgroupBarrier();
      for (var j = 0; j < 4; j = j + 1) {
        let d = d0 + e * 4 + j;
        if (d < uniforms.dims) {
          for (var q = 0; q < 4; q = q + 1) {
            if (c + q < uniforms.classes) {
              let at = out + d * uniforms.classes + c + q;
              ml_accumulate(at, a[j][q], r0 == rs);
            }
          }
        }
      }
    }
  }
}
`;
  return program({
    name: `head_kgrad${bias ? '_bias' : ''}${dyPerRow ? '_rows' : ''}`,
    v,
    inputs: gradInputs(v, bias),
    outputShape: groups === 1 ? [dims, classes] : [groups * dims * classes],
    workgroups: Math.ceil(classes / TILE_CLASSES) * groups,
    workgroupSize: HEAD_WORKGROUP,
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
  let f = lid % ${QUADS};
  let g = lid / ${QUADS};
  let g0 = g * ${ROWS_PER_THREAD * QUADS};
  ml_setup_rows(r0, lid);
  workgroupBarrier();
  for (var c0 = cs; c0 < ce; c0 = c0 + ${TILE_CLASSES}) {
    ml_gradient_tile(r0, c0, lid);
    let n = min(${TILE_CLASSES}, uniforms.classes - c0);
    ${
      bias
        ? `if (lid < n) {
      var sb = 0.0;
      for (var i = 0; i < min(${TILE_ROWS}, uniforms.rows - r0); i = i + 1) { sb = sb + ml_tw(i * ${TILE_CLASSES} + lid); }
      result[uniforms.chunks * uniforms.rows * uniforms.dims + (r0 / ${TILE_ROWS}) * uniforms.classes + c0 + lid] = sb;
    }`
        : ''
    }
    // dH[the group's rows][4f .. 4f + 3 past d0] += G · Wᵀ over slabs of HGRAD_SLAB classes; W's
    // [HGRAD_DEPTH, HGRAD_SLAB] chunk in tile_h as [four of classes][depth % 4][depth / 4]: per
    // four classes ROWS_PER_THREAD vec4 of G and four of W for 16·ROWS_PER_THREAD multiply-adds.
    for (var d0 = 0; d0 < uniforms.dims; d0 = d0 + ${HGRAD_DEPTH}) {
      ${each(ROWS_PER_THREAD, (r) => `var s${r} = vec4<f32>(0.0);`, '\n      ')}
      for (var k0 = 0; k0 < n; k0 = k0 + ${HGRAD_SLAB}) {
        for (var t = lid; t < ${H_QUADS}; t = t + ${HEAD_WORKGROUP}) {
          let d = t / ${HGRAD_SLAB / 4};
          let kq = t % ${HGRAD_SLAB / 4};
          tile_h[kq * ${HGRAD_DEPTH} + (d % 4) * ${HGRAD_DEPTH / 4} + d / 4] = ml_wt4(d0 + d, c0 + k0 + kq * 4);
        }
        workgroupBarrier();
        for (var q = 0; q < min(${HGRAD_SLAB / 4}, (n - k0 + 3) / 4); q = q + 1) {
          let w = q * ${HGRAD_DEPTH} + f;
          ${each(4, (j) => `let w${j} = tile_h[w + ${(j * HGRAD_DEPTH) / 4}];`, '\n          ')}
          ${each(ROWS_PER_THREAD, (r) => `let x${r} = tile_w[g0 + ${r * QUADS} + k0 / 4 + q];\n          s${r} = s${r} + vec4<f32>(dot(x${r}, w0), dot(x${r}, w1), dot(x${r}, w2), dot(x${r}, w3));`, '\n          ')}
        }
        workgroupBarrier();
      }
      for (var j = 0; j < 4; j = j + 1) {
        let d = d0 + f * 4 + j;
        if (d < uniforms.dims) {
          let at = out + (r0 + g * ${ROWS_PER_THREAD}) * uniforms.dims + d;
          ${each(ROWS_PER_THREAD, (r) => `if (r0 + g * ${ROWS_PER_THREAD} + ${r} < uniforms.rows) { ml_accumulate(at + ${r} * uniforms.dims, s${r}[j], c0 == cs); }`, '\n          ')}
        }
      }
    }
  }
}
`;
  return program({
    name: `head_hgrad${bias ? '_bias' : ''}${dyPerRow ? '_rows' : ''}`,
    v,
    inputs: gradInputs(v, bias),
    outputShape: ranges === 1 && !bias ? [rows, dims] : [ranges * rows * dims + (bias ? Math.ceil(rows / TILE_ROWS) * classes : 0)],
    workgroups: Math.ceil(rows / TILE_ROWS) * ranges,
    workgroupSize: HEAD_WORKGROUP,
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

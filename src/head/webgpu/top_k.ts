// headTopK on the webgpu backend: each row's k best classes of hidden · kernel + bias, as
// log-probabilities and class ids, with the logits only as the head's tiles (no [N, C] buffer):
//   scan   a workgroup per (block of TILE_ROWS rows, class range): each tile's logits (the head's
//          GEMM tile, softcap applied) into workgroup memory, then a thread per row keeps the
//          online max and Σ exp of the range and its k best (value, class) in sorted order;
//          writes one record per (row, range): [max, Σ exp, k values, k class ids];
//   merge  a thread per row: lse from the ranges' (max, Σ exp), and the k best of the ranges' lists,
//          visited in class order (a tie keeps the class seen first: the lower id). Run twice: once
//          for the log-probabilities (float32), once for the class ids (int32). NaN logits enter no
//          list (as on the cpu): a row with fewer than k others gets class −1 and −∞ there.
// k is a constant of the programs (each k compiles its own); class ids travel as floats, exact
// below 2^24 classes (the kernel refuses more first).
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

import { kernelInput as input } from '../../kernels/attrs';
import type { WebGPUBackendLike } from '../../kernels/webgpu/kernel';
import { program, ProgramBase, softcapCode, Variant, WORKGROUP_INDEX } from '../../kernels/webgpu/programs';
import { throwShaderErrors } from '../../kernels/webgpu/shader_errors';
import { named } from '../../validate';
import { HeadTopKAttrs, LinearLossAttrs } from '../kernel_names';
import { checkBindings, headScalars, headUniforms, headVariant } from './kernels';
import { HEAD_UNIFORMS, HEAD_WORKGROUP, RANGE_UNIT, RANGE_UNIT_DECL, TILE_CLASSES, TILE_ROWS, tileCode } from './programs';

/** The largest k the webgpu kernel keeps per row (a thread's private lists). */
export const WEBGPU_TOP_K_MAX = 64;
/** Class ids travel as float32: exact below this many classes. */
export const WEBGPU_TOP_K_CLASSES = 2 ** 24;

/** A record per (row, range): max, Σ exp, then k values and k class ids. */
const recordWords = (k: number) => 2 + 2 * k;

/** Inserts (x, c) into the sorted list (tv, ti) of k when it beats the last; ties stay behind. */
const insertCode = (k: number) => /* wgsl */ `
fn ml_insert(tv: ptr<function, array<f32, ${k}>>, ti: ptr<function, array<f32, ${k}>>, x: f32, c: f32) {
  if (!(x > (*tv)[${k - 1}])) { return; }
  var p = ${k - 1};
  while (p > 0 && x > (*tv)[p - 1]) {
    (*tv)[p] = (*tv)[p - 1];
    (*ti)[p] = (*ti)[p - 1];
    p = p - 1;
  }
  (*tv)[p] = x;
  (*ti)[p] = c;
}
`;

const emptyLists = (k: number) => /* wgsl */ `
  var tv: array<f32, ${k}>;
  var ti: array<f32, ${k}>;
  for (var i = 0; i < ${k}; i = i + 1) { tv[i] = -0x1.fffffep+127f; ti[i] = -1.0; }`;

function scanProgram(v: Variant, rows: number, chunks: number, k: number, bias: boolean): ProgramBase {
  const words = recordWords(k);
  const code = () =>
    softcapCode(v) +
    tileCode(bias) +
    insertCode(k) +
    /* wgsl */ `
${RANGE_UNIT_DECL}
fn main(index: i32) {
  ${RANGE_UNIT}
  let r = r0 + lid;
  var m = -0x1.fffffep+127f;
  var s = 0.0;
  ${emptyLists(k)}
  for (var c0 = cs; c0 < ce; c0 = c0 + ${TILE_CLASSES}) {
    ml_tile_put(lid, ml_tile(r0, c0, lid));
    workgroupBarrier();
    if (lid < ${TILE_ROWS} && r < uniforms.rows) {
      for (var j = 0; j < min(${TILE_CLASSES}, ce - c0); j = j + 1) {
        let x = ml_cap(ml_tw(lid * ${TILE_CLASSES} + j));
        if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s = s + exp(x - m); }
        ml_insert(&tv, &ti, x, f32(c0 + j));
      }
    }
    workgroupBarrier();
  }
  if (lid < ${TILE_ROWS} && r < uniforms.rows) {
    let at = (r * uniforms.chunks + chunk) * ${words};
    result[at] = m;
    result[at + 1] = s;
    for (var i = 0; i < ${k}; i = i + 1) { result[at + 2 + i] = tv[i]; result[at + 2 + ${k} + i] = ti[i]; }
  }
}
`;
  return program({
    name: `head_topk_scan_${k}${bias ? '_bias' : ''}`,
    v,
    inputs: ['hid', 'wt', ...(bias ? ['bias'] : [])],
    outputShape: [rows * chunks * words],
    workgroups: Math.ceil(rows / TILE_ROWS) * chunks,
    workgroupSize: HEAD_WORKGROUP,
    code,
    extraUniforms: HEAD_UNIFORMS,
  });
}

function mergeProgram(v: Variant, rows: number, k: number, ids: boolean): ProgramBase {
  const words = recordWords(k);
  const code = () =>
    insertCode(k) +
    /* wgsl */ `
fn main(index: i32) {
  ${WORKGROUP_INDEX}
  let r = wg * 64 + i32(localIndex);
  if (r >= uniforms.rows) { return; }
  var m = -0x1.fffffep+127f;
  for (var q = 0; q < uniforms.chunks; q = q + 1) { m = max(m, records[(r * uniforms.chunks + q) * ${words}]); }
  var s = 0.0;
  ${emptyLists(k)}
  for (var q = 0; q < uniforms.chunks; q = q + 1) {
    let at = (r * uniforms.chunks + q) * ${words};
    s = s + records[at + 1] * exp(records[at] - m);
    for (var i = 0; i < ${k}; i = i + 1) {
      let c = records[at + 2 + ${k} + i];
      if (c >= 0.0) { ml_insert(&tv, &ti, records[at + 2 + i], c); }
    }
  }
  let lse = m + log(s);
  for (var i = 0; i < ${k}; i = i + 1) { ${ids ? 'result[r * ' + k + ' + i] = i32(ti[i]);' : 'result[r * ' + k + ' + i] = select(tv[i] - lse, -uniforms.INFINITY, ti[i] < 0.0);'} }
}
`;
  return program({
    name: `head_topk_merge_${k}${ids ? '_ids' : ''}`,
    v,
    inputs: ['records'],
    outputShape: [rows, k],
    workgroups: Math.ceil(rows / 64),
    workgroupSize: 64,
    code,
    extraUniforms: HEAD_UNIFORMS,
    intOutput: ids,
  });
}

export interface WebGPUTopKArgs {
  inputs: NamedTensorInfoMap;
  attrs?: unknown;
  backend: unknown;
}

/** [values [N, k] float32, indices [N, k] int32]. */
export function webgpuHeadTopK({ inputs, attrs, backend }: WebGPUTopKArgs): TensorInfo[] {
  const a = attrs as HeadTopKAttrs;
  try {
    const gpu = backend as WebGPUBackendLike;
    throwShaderErrors(gpu.device);
    const [rows, dims] = input(inputs, 'hidden').shape;
    const classes = input(inputs, 'kernel').shape[1];
    const k = a.k; // ≤ WEBGPU_TOP_K_MAX, and classes < WEBGPU_TOP_K_CLASSES: headTopK checks both first
    // The programs take the head's variant and uniforms (a plain CE head, for the softcap and shapes).
    const head: LinearLossAttrs = {
      op: a.op,
      loss: { kind: 'mixed', alpha: 1, beta: 0, ...(a.softcap > 0 ? { softcap: a.softcap } : {}) },
      reduction: 'sum',
      bias: a.bias,
      classWeights: false,
      device: 'cpu',
    };
    const v = headVariant(head, false);
    const scalars = headScalars(v, head, rows, classes);
    checkBindings(
      gpu,
      [
        ['the hidden [N, D]', rows * dims],
        ['the kernel [D, C]', dims * classes],
        ['the per-range lists [N, ranges, 2 + 2k]', rows * scalars.chunks * recordWords(k)],
      ],
      'run headTopK on the cpu or wasm backend',
    );
    const uniforms = headUniforms(v, scalars, dims);
    const ins = ['hidden', 'kernel', ...(a.bias ? ['bias'] : [])].map((n) => input(inputs, n));
    const records = gpu.runWebGPUProgram(scanProgram(v, rows, scalars.chunks, k, a.bias), ins, 'float32', uniforms);
    try {
      const values = gpu.runWebGPUProgram(mergeProgram(v, rows, k, false), [records], 'float32', uniforms);
      try {
        const run = gpu.runWebGPUProgram as (p: unknown, i: TensorInfo[], d: string, u: unknown[]) => TensorInfo;
        return [values, run.call(gpu, mergeProgram(v, rows, k, true), [records], 'int32', uniforms)];
      } catch (e) {
        gpu.disposeData(values.dataId);
        throw e;
      }
    } finally {
      gpu.disposeData(records.dataId);
    }
  } catch (e) {
    throw named(e, a.op);
  }
}

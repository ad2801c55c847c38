// The per-row math of the fused losses in WGSL: the same steps, in the same order and with the
// same guards, as the native core's accumulator.h (Partial, add, merge, finish_sparse,
// finish_dense), row_stats.h (RowStats and its stored layout, generated here from the addon's
// slot map) and row_math.h (sparse_row, dense_row, the target and argmax entries). WGSL has no
// f64: the native core's double accumulators are f32 here, and log1p / expm1 are written out
// (series near 0, to a few ulp). A kind's own row loss comes from ../kind_rows.ts; what the
// kind needs, whether it is linear and its parameters come from the registry (NativeLossKind).
//
// Non-finite values: WGSL has no ∞ or NaN literals, so they come from tfjs's uniforms
// (uniforms.INFINITY, uniforms.NAN), and the tests are the helpers tfjs puts in every program:
// isnan (on the bits, which no compiler may fold away) and isinf.
import type { NativeLossKind, NativeStatsLayout } from '../../../native';
import { KIND_ROWS } from '../kind_rows';

/**
 * What the statistics pass gathers beyond the base sums (loss_spec.h's needs, by the names the
 * addon gives them): targets (Σ t·q, Σ t, Σ t·e, min t against the targets or the smoothing
 * vector), argmax (the first index of the row's max), expLogit (Σ e·(q − max) over the others).
 */
export type Needs = NativeLossKind['needs'];

/** Helpers every program shares: the non-finite constants, and the f32 forms of log, log1p, expm1, pow. */
export const MATH = /* wgsl */ `
fn ml_inf() -> f32 { return uniforms.INFINITY; }
fn ml_nan() -> f32 { return uniforms.NAN; }
fn ml_finite(x: f32) -> bool { return !isnan(x) && !isinf(x); }
// x (finite or −∞), hidden from the compiler's algebra: a min with a uniform it cannot see
// through. A rounding error recovered as a − (b + x), x = fl(a − b), is otherwise folded to 0
// (lavapipe did: 2-sum without the correction).
fn ml_opaque(x: f32) -> f32 { return min(x, ml_inf()); }
// log with log(0) = −∞ (WGSL leaves log(0) to the implementation).
fn ml_log(x: f32) -> f32 { if (x == 0.0) { return -ml_inf(); } return log(x); }
// log(1 + x), x >= -1, to a few ulp. Not Goldberg's log(u)·x/(u − 1): that needs log exact near
// 1, and Vulkan only bounds log's absolute error there (2^−21; lavapipe was 7e−5 off at
// x = 1.1e−4). Near 0 it is 2·atanh(s), s = x/(2 + x), summed to s^11 (|s| <= 0.172: the
// first term left out, s^13/13, is below 6e−11 relative, far under f32's 6e−8).
fn ml_log1p(x: f32) -> f32 {
  if (abs(x) < 0.41421356) {
    let s = x / (2.0 + x);
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 / 11.0)))));
  }
  return ml_log(1.0 + x);
}
// exp(x) − 1, to a few ulp: its Taylor series for |x| < 1 (to x^12: the rest is below 2e−10
// relative; Kahan's form would need log exact near 1, as above), exp(x) − 1 beyond.
fn ml_expm1(x: f32) -> f32 {
  if (abs(x) < 1.0) {
    return x * (1.0 + x / 2.0 * (1.0 + x / 3.0 * (1.0 + x / 4.0 * (1.0 + x / 5.0 * (1.0 + x / 6.0 * (1.0 + x / 7.0 *
      (1.0 + x / 8.0 * (1.0 + x / 9.0 * (1.0 + x / 10.0 * (1.0 + x / 11.0 * (1.0 + x / 12.0)))))))))));
  }
  return exp(x) - 1.0;
}
// x^y for x >= 0 with C's pow at the edges: x^0 = 1 (also for x = 0), 0^y = 0 (y > 0) or ∞ (y < 0).
fn ml_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (isnan(x) || isnan(y)) { return ml_nan(); }
  if (x == 0.0) { if (y > 0.0) { return 0.0; } return ml_inf(); }
  if (isinf(x)) { if (y > 0.0) { return ml_inf(); } return 0.0; }
  return exp2(y * log2(x));
}
`;

/**
 * Partial statistics of a slice of a row (accumulator.h's Partial), their add, rebase and
 * merge. A NaN logit makes sum NaN, which survives every merge; masked (−∞) logits add nothing.
 * One difference, for f32: the targets' logit sum is t_rel = Σ t·(q − max), moved with the max
 * (as e_logit is), not Σ t·q. CE = T·lse − Σ t·q is then T·log_sum − t_rel: no cancellation of
 * two logit-sized terms (Σ t·q in f32 left CE ~1e-3 off with logits near 1e4). A −∞ logit with
 * t ≠ 0 makes t_rel ∓∞ in any frame.
 */
export function partialCode(n: Needs): string {
  return /* wgsl */ `
struct Partial {
  max: f32, sum: f32, t_rel: f32, mass: f32, t_exp: f32, argmax: i32, e_logit: f32, t_min: f32,
};
fn ml_empty() -> Partial { return Partial(-ml_inf(), 0.0, 0.0, 0.0, 0.0, -1, 0.0, ml_inf()); }
fn ml_is_empty(p: Partial) -> bool { return p.sum == 0.0 && p.t_exp == 0.0; }
fn ml_rebase(p: ptr<function, Partial>, new_max: f32) {
  ${n.targets ? 'if ((*p).max != -ml_inf() && (*p).mass != 0.0) { (*p).t_rel = (*p).t_rel + ((*p).max - new_max) * (*p).mass; }' : ''}
  if (ml_is_empty(*p)) { (*p).max = new_max; return; }
  let shift = (*p).max - new_max;
  let f = exp(shift);
  ${n.expLogit ? 'if ((*p).e_logit != 0.0 || (*p).sum != 0.0) { (*p).e_logit = f * ((*p).e_logit + shift * (*p).sum); }' : ''}
  (*p).sum = (*p).sum * f;
  (*p).t_exp = (*p).t_exp * f;
  (*p).max = new_max;
}
fn ml_add(p: ptr<function, Partial>, x: f32, t: f32, j: i32) {
  ${
    n.targets
      ? `let mass0 = (*p).mass;
  (*p).mass = mass0 + t;
  if (t < (*p).t_min || isnan(t)) { (*p).t_min = t; }
  if (t != 0.0 && !(x > -ml_inf())) { (*p).t_rel = (*p).t_rel + t * x; }  // −∞ or NaN: in any frame`
      : ''
  }
  if (isnan(x)) { (*p).sum = ml_nan(); return; }
  if (x == -ml_inf()) { return; }
  ${n.targets ? 'if (t != 0.0 && x <= (*p).max) { (*p).t_rel = (*p).t_rel + t * (x - (*p).max); }' : ''}
  if (x > (*p).max) {
    var f = 0.0;
    if ((*p).max != -ml_inf()) { f = exp((*p).max - x); }
    ${n.targets ? 'if ((*p).max != -ml_inf() && mass0 != 0.0) { (*p).t_rel = (*p).t_rel + ((*p).max - x) * mass0; }' : ''}
    ${n.expLogit ? 'if (f == 0.0) { (*p).e_logit = 0.0; } else { (*p).e_logit = f * ((*p).e_logit + ((*p).max - x) * (*p).sum); }' : ''}
    (*p).sum = (*p).sum * f + 1.0;
    ${n.targets ? '(*p).t_exp = (*p).t_exp * f + t;' : ''}
    (*p).max = x;
    ${n.argmax ? '(*p).argmax = j;' : ''}
  } else {
    let e = exp(x - (*p).max);
    (*p).sum = (*p).sum + e;
    ${n.targets ? '(*p).t_exp = (*p).t_exp + t * e;' : ''}
    ${n.expLogit ? '(*p).e_logit = (*p).e_logit + e * (x - (*p).max);' : ''}
  }
}
fn ml_merge(into: ptr<function, Partial>, other_in: Partial) {
  var other = other_in;
  // The first index of the larger max, decided before both move to it (t_rel is relative to
  // each one's max, so both move, empty or not).
  let other_empty = ml_is_empty(other);
  let into_empty = ml_is_empty(*into);
  let take = !other_empty &&
    (into_empty || other.max > (*into).max || (other.max == (*into).max && other.argmax >= 0 && other.argmax < (*into).argmax));
  if (other.max > (*into).max) { ml_rebase(into, other.max); } else if ((*into).max > other.max) { ml_rebase(&other, (*into).max); }
  (*into).t_rel = (*into).t_rel + other.t_rel;
  (*into).mass = (*into).mass + other.mass;
  if (other.t_min < (*into).t_min || isnan(other.t_min)) { (*into).t_min = other.t_min; }
  if (other_empty) { return; }
  if (take) { (*into).argmax = other.argmax; }
  if (into_empty) {
    (*into).sum = other.sum;
    (*into).t_exp = other.t_exp;
    (*into).e_logit = other.e_logit;
    return;
  }
  (*into).sum = (*into).sum + other.sum;
  (*into).t_exp = (*into).t_exp + other.t_exp;
  (*into).e_logit = (*into).e_logit + other.e_logit;
}
`;
}

/**
 * The merge of a subgroup's Partials, returned to every invocation (call it where the whole
 * subgroup is active): the same result as ml_merge over them, from subgroup reductions alone —
 * the max, each sum rescaled to it, NaN kept, the first argmax among the maxima, t_min with NaN
 * winning. Needs `enable subgroups;`.
 */
export function subgroupMergeCode(n: Needs): string {
  return /* wgsl */ `
fn ml_subgroup_merge(p: Partial) -> Partial {
  let empty = ml_is_empty(p);
  var r = ml_empty();
  r.max = subgroupMax(p.max);  // an empty Partial's max is −∞
  // exp(max − r.max): 1 at the max (also when both are ∞, as ml_merge leaves equal maxima alone)
  var f = 0.0;
  if (!empty) { f = select(exp(p.max - r.max), 1.0, p.max == r.max); }
  r.sum = subgroupAdd(select(p.sum * f, 0.0, empty));
  r.t_exp = subgroupAdd(select(p.t_exp * f, 0.0, empty));
  ${n.expLogit ? 'r.e_logit = subgroupAdd(select(f * (p.e_logit + (p.max - r.max) * p.sum), 0.0, empty || (p.e_logit == 0.0 && p.sum == 0.0)));' : ''}
  ${
    n.targets
      ? `r.t_rel = subgroupAdd(select(p.t_rel, p.t_rel + (p.max - r.max) * p.mass, p.max != -ml_inf() && p.mass != 0.0 && p.max != r.max));
  r.mass = subgroupAdd(p.mass);
  r.t_min = select(subgroupMin(p.t_min), ml_nan(), subgroupAny(isnan(p.t_min)));`
      : ''
  }
  ${
    n.argmax
      ? `let k = subgroupMin(select(0x7fffffff, p.argmax, !empty && p.max == r.max && p.argmax >= 0));
  r.argmax = select(k, -1, k == 0x7fffffff);`
      : ''
  }
  return r;
}
`;
}

/**
 * RowStats fields that take two slots, `<field>_hi` and `<field>_lo` (row_stats.h): how each is
 * stored, loaded, and set in the zero and NaN rows. Every other slot holds the field of its name.
 */
const SPLIT_FIELDS: Record<
  string,
  { type: string; zero: string; nan: string; store(hi: number, lo: number): string; load(hi: number, lo: number): string }
> = {
  // the first index of the max: its high and low 24 bits, each exact in f32
  argmax: {
    type: 'i32',
    zero: '-1',
    nan: '0',
    store: (hi, lo) => `let k = max(s.argmax, 0); result[at + ${hi}] = f32(k >> 24u); result[at + ${lo}] = f32(k & 0xffffff);`,
    load: (hi, lo) => `(i32(stats[at + ${hi}]) << 24u) + i32(stats[at + ${lo}])`,
  },
  // a double as hi + lo natively; two f32 here (x + y, see ml_finish_sparse), kept apart
  log_others: {
    type: 'vec2<f32>',
    zero: 'vec2<f32>(0.0)',
    nan: 'vec2<f32>(n)',
    store: (hi, lo) => `result[at + ${hi}] = s.log_others.x; result[at + ${lo}] = s.log_others.y;`,
    load: (hi, lo) => `vec2<f32>(stats[at + ${hi}], stats[at + ${lo}])`,
  },
};

export interface StatsField {
  name: string;
  /** its slot, or its two slots [hi, lo] */
  slots: number[];
  split?: (typeof SPLIT_FIELDS)[string];
}

/** The RowStats fields in slot order, from the addon's slot map. */
export function statsFields(layout: NativeStatsLayout): StatsField[] {
  const bySlot = Object.entries(layout.slots).sort((a, b) => a[1] - b[1]);
  if (bySlot.length !== layout.perRow || bySlot.some(([, i], k) => i !== k)) {
    throw new Error(`mixloss: the addon's row statistics slots are not 0..${layout.perRow - 1}`);
  }
  const fields: StatsField[] = [];
  for (const [slot, index] of bySlot) {
    const m = /^(.*)_(hi|lo)$/.exec(slot);
    const split = m !== null ? SPLIT_FIELDS[m[1]] : undefined;
    if (m === null || split === undefined) {
      fields.push({ name: slot, slots: [index] });
    } else if (m[2] === 'hi') {
      const lo = layout.slots[`${m[1]}_lo`];
      if (lo === undefined) throw new Error(`mixloss: the row statistics slot ${slot} has no ${m[1]}_lo`);
      fields.push({ name: m[1], slots: [index, lo], split });
    }
  }
  return fields;
}

/** RowStats (row_stats.h): its fields from the slot map, the zero and NaN rows, the finished rows (accumulator.h). */
export function statsCode(layout: NativeStatsLayout): string {
  const fields = statsFields(layout);
  const decl = fields.map((f) => `${f.name}: ${f.split?.type ?? 'f32'}`).join(', ');
  const zero = fields.map((f) => f.split?.zero ?? '0.0').join(', ');
  const nan = fields.map((f) => f.split?.nan ?? 'n').join(', ');
  return /* wgsl */ `
struct RowStats { ${decl}, };
fn ml_zero_stats() -> RowStats { return RowStats(${zero}); }
fn ml_nan_stats() -> RowStats {
  let n = ml_nan();
  return RowStats(${nan});
}
fn ml_finish_sparse(others_in: Partial, target_logit: f32, y: i32, u_y: f32) -> RowStats {
  var others = others_in;
  var r = ml_zero_stats();
  if (others.argmax < 0 || target_logit > others.max || (target_logit == others.max && y < others.argmax)) {
    r.argmax = y;
  } else {
    r.argmax = others.argmax;
  }
  // What depends on the other classes alone is read in their own frame, before a rebase to q_y
  // (rebased, their sum underflows f32 once q_y is ~88 above them: Σ r log r read 0): complement
  // entropy's Σ_{j≠y} r log r, and log Σ_{j≠y} exp(q_j − max) = x + y, where max + x is the
  // others' max up to x's rounding (x = 0 when q_y is not above them) and y carries that
  // rounding and the others' log-sum, so that the gradient's hi = max + x and lo = y give
  // log Σ_{j≠y} exp(q_j) as q − hi − lo to f32's precision however large the logits or far q_y
  // is above the rest.
  // NaN tested on the bits: a compiler may take NaN != 0 as false (WGSL lets it assume no NaN).
  if (isnan(others.sum)) { r.cot = ml_nan(); } else if (others.sum > 0.0) { r.cot = others.e_logit / others.sum - log(others.sum); }
  let log_others = ml_log(others.sum);
  var ot_x = 0.0;
  var ot_y = 0.0;
  if (target_logit > others.max && others.sum > 0.0) {
    ot_x = ml_opaque(others.max - target_logit);
    if (ot_x > -ml_inf()) { ot_y = (others.max - (target_logit + ot_x)) + log_others; }
  } else if (others.sum > 0.0) {
    ot_y = log_others;  // the others' frame is the row's: x = 0, so that max + x is max exactly
  } else {
    ot_x = log_others;  // −∞ (no other class), or NaN
  }
  if (target_logit > others.max) { ml_rebase(&others, target_logit); }
  let d = target_logit - others.max;
  // A row entirely −∞, or holding +∞ (d is NaN then), has no softmax: NaN, complement entropy's
  // statistic included (its others' sum alone can be 0 or finite there).
  if (isnan(d)) { r.cot = ml_nan(); }
  let e_y = exp(d);
  let s = others.sum + e_y;
  r.max = others.max;
  r.log_sum = ml_log(s);
  if (others.sum <= e_y) { r.ce = ml_log1p(others.sum / e_y); } else { r.ce = ml_log(s) - d; }
  r.el = others.sum / s;
  r.log_others = vec2<f32>(ot_x, ot_y);
  r.mass = 1.0;
  r.pt = e_y / s;
  if (others.mass != 0.0 || u_y != 0.0) {
    // Σ_c u_c (lse − q_c) = U·log s − Σ_c u_c (q_c − max), the target's term added here.
    var u_rel = others.t_rel;
    if (u_y != 0.0) { u_rel = u_rel + u_y * d; }
    r.u_mass = others.mass + u_y;
    r.u_ce = (others.mass + u_y) * ml_log(s) - u_rel;
    r.u_pt = (others.t_exp + u_y * e_y) / s;
  }
  return r;
}
fn ml_finish_dense(p: Partial) -> RowStats {
  var r = ml_zero_stats();
  let log_sum = ml_log(p.sum);
  r.max = p.max;
  r.log_sum = log_sum;
  r.ce = p.mass * log_sum - p.t_rel;
  r.el = p.mass - p.t_exp / p.sum;
  r.mass = p.mass;
  r.pt = p.t_exp / p.sum;
  r.argmax = p.argmax;
  r.t_min = p.t_min;
  return r;
}
`;
}

/** Storing a row's statistics in the output buffer (row_stats.h's store_stats). */
export function storeStatsCode(layout: NativeStatsLayout): string {
  const lines = statsFields(layout).map((f) =>
    f.split ? f.split.store(f.slots[0], f.slots[1]) : `result[at + ${f.slots[0]}] = s.${f.name};`,
  );
  return `
fn ml_store_stats(s: RowStats, at: i32) {
  ${lines.join('\n  ')}
}
`;
}

/** Loading a row's statistics from an input named \`stats\` (row_stats.h's load_stats). */
export function loadStatsCode(layout: NativeStatsLayout): string {
  const lines = statsFields(layout).map(
    (f) => `s.${f.name} = ${f.split ? f.split.load(f.slots[0], f.slots[1]) : `stats[at + ${f.slots[0]}]`};`,
  );
  return `
fn ml_load_stats(at: i32) -> RowStats {
  var s = ml_zero_stats();
  ${lines.join('\n  ')}
  return s;
}
`;
}

/** row_math.h's sparse_row, dense_row and the sparse target and argmax entries, for one kind. */
export function rowMathCode(kind: NativeLossKind): string {
  const own = KIND_ROWS[kind.name];
  if (!kind.linear && own === undefined) throw new Error(`mixloss: no WGSL kind_row for the loss kind '${kind.name}'`); // kernel.ts checks first
  // Kinds linear in the targets: α and β as uniforms (the addon's linearCoefficients), kind_row from them.
  const kindRow = kind.linear
    ? /* wgsl */ `
fn kind_linear() -> Linear { return Linear(uniforms.lin_alpha, uniforms.lin_beta); }
fn kind_row(s: RowStats, k_is_y: bool) -> KindRow {
  let l = kind_linear();
  var v = l.beta * s.el;
  if (l.alpha != 0.0) { v = v + l.alpha * s.ce; }
  return KindRow(v, l.alpha + l.beta * s.pt, 0.0);
}`
    : /* wgsl */ `
${own}
fn kind_linear() -> Linear { return Linear(0.0, 0.0); }`;
  return /* wgsl */ `
struct KindRow { value: f32, c: f32, ck: f32, };
struct Linear { alpha: f32, beta: f32, };
struct RowGrad {
  value: f32, a: f32, b: f32, d: f32, main: f32, ck: f32, cot: f32, cot_hi: f32, cot_lo: f32, cot_value: f32,
};
${kindRow}
// The z term's scale beside zLoss: 1, or (a gradient under Liger's class-weighted mean) Σω/n.
var<private> ml_z_scale: f32 = 1.0;
fn ml_add_z_loss(s: RowStats, g: ptr<function, RowGrad>) {
  if (uniforms.zLoss == 0.0) { return; }
  let z = uniforms.zLoss * ml_z_scale;
  let lse = s.max + s.log_sum;
  (*g).value = (*g).value + z * lse * lse;
  (*g).a = (*g).a + 2.0 * z * lse;
}
fn ml_sparse_row(s: RowStats, omega: f32, k_is_y: bool) -> RowGrad {
  let k = kind_row(s, k_is_y);
  let eps = uniforms.smoothing;
  let wm = (1.0 - eps) * omega;
  var g = RowGrad(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (wm != 0.0) { g.value = wm * k.value; }
  g.main = wm * k.c;
  g.ck = wm * k.ck;
  g.a = g.main;
  ${
    kind.complement
      ? `
  let scale = wm / f32(uniforms.classes);
  if (wm != 0.0) { g.value = scale * k.value; } else { g.value = 0.0; }
  if (s.log_others.x > -ml_inf()) {
    g.cot = scale;
    // log Σ_{j≠y} exp(q_j) as hi + lo, kept apart: hi is a float near the logits (q − hi is
    // exact near the top) and lo is small, so that q − hi − lo keeps its digits at any logit size.
    g.cot_hi = s.max + s.log_others.x;
    g.cot_lo = s.log_others.y;
    g.cot_value = s.cot;
  }`
      : ''
  }
  if (eps > 0.0) {
    let l = kind_linear();
    let e = eps / f32(uniforms.classes);
    var ce_part = 0.0;
    if (l.alpha != 0.0) { ce_part = l.alpha * s.u_ce; }
    g.value = g.value + e * (ce_part + l.beta * (s.u_mass - s.u_pt));
    g.a = g.a + e * (l.alpha * s.u_mass + l.beta * s.u_pt);
    g.b = -e * l.alpha;
    g.d = -e * l.beta;
  }
  ml_add_z_loss(s, &g);
  return g;
}
fn ml_dense_row(s: RowStats) -> RowGrad {
  let l = kind_linear();
  var g = RowGrad(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  g.value = l.beta * s.el;
  if (l.alpha != 0.0) { g.value = g.value + l.alpha * s.ce; }
  g.a = l.alpha * s.mass + l.beta * s.pt;
  g.b = -l.alpha;
  g.d = -l.beta;
  ml_add_z_loss(s, &g);
  return g;
}
fn ml_target_gradient(g: RowGrad, s: RowStats, u_y: f32, k_is_y: bool) -> f32 {
  let p = s.pt;
  var ck = g.ck;
  if (k_is_y) { ck = 0.0; }
  return -g.main * s.el + (g.a - g.main) * p + u_y * (g.b + g.d * p) - ck;
}
fn ml_argmax_gradient(g: RowGrad, s: RowStats, u_k: f32) -> f32 {
  let p = exp(-s.log_sum);
  return g.a * p + u_k * (g.b + g.d * p) + g.ck;
}
`;
}

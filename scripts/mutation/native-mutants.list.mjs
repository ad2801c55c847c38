// The deliberate bugs of native-mutants.mjs: each replaces one exact piece of a source file
// (found exactly once) with a wrong one. Grouped by the kind of mistake they stand for.
export const MUTANTS = [
  // Sign flips.
  { id: 'mixed-c-sign', file: 'native/core/row_math.h', what: 'c = α − β·p_y instead of α + β·p_y',
    find: 'static_cast<float>(P.alpha + P.beta * p)}', replace: 'static_cast<float>(P.alpha - P.beta * p)}' },
  { id: 'focal-c-sign', file: 'native/core/row_math.h', what: 'focal c = w − w1·p·CE',
    find: 'static_cast<float>(w + w1 * p_ce)', replace: 'static_cast<float>(w - w1 * p_ce)' },
  { id: 'dense-grad-sign', file: 'native/core/row_blocks.cpp', what: 'dense gradient t·(b − kd·e)',
    find: 'g[j] = k * e + static_cast<float>(t[j]) * (b + kd * e);', replace: 'g[j] = k * e + static_cast<float>(t[j]) * (b - kd * e);' },
  { id: 'target-entry-sign', file: 'native/core/fused_loss.cpp', what: 'target entry +w·c·(1 − p_y)',
    find: 'static_cast<float>(-weight(r) * sparse_row(P, s).c * s.el)', replace: 'static_cast<float>(weight(r) * sparse_row(P, s).c * s.el)' },
  { id: 'rebase-sign', file: 'native/core/row_math.h', what: 'rebase by exp(new − old) instead of exp(old − new)',
    find: 'exp(static_cast<double>(p.max) - static_cast<double>(new_max))', replace: 'exp(static_cast<double>(new_max) - static_cast<double>(p.max))' },

  // ×1.0001 on a gradient or value term (what an absolute tolerance let through at large C).
  { id: 'sparse-grad-x1.0001', file: 'native/core/row_blocks.cpp', what: 'every non-target gradient entry ×1.0001',
    find: 'for (int64_t j = 0; j < n; ++j) g[j] = k * (kFromLogits ? expf(src[j] - shift) : src[j]);',
    replace: 'for (int64_t j = 0; j < n; ++j) g[j] = k * 1.0001f * (kFromLogits ? expf(src[j] - shift) : src[j]);' },
  { id: 'target-entry-x1.0001', file: 'native/core/fused_loss.cpp', what: 'target gradient entry ×1.0001',
    find: 'static_cast<float>(-weight(r) * sparse_row(P, s).c * s.el)', replace: 'static_cast<float>(-weight(r) * sparse_row(P, s).c * s.el * 1.0001)' },
  { id: 'gce-c-x1.0001', file: 'native/core/row_math.h', what: 'GCE c = 1.0001·p^q',
    find: 'static_cast<float>(pq)}', replace: 'static_cast<float>(pq * 1.0001)}' },
  { id: 'el-value-x1.0001', file: 'native/core/row_math.h', what: 'sparse 1 − p_y ×1.0001',
    find: 'r.el = static_cast<float>(others.sum / s);', replace: 'r.el = static_cast<float>(others.sum / s * 1.0001);' },
  { id: 'dense-a-x1.0001', file: 'native/core/row_math.h', what: 'dense a = 1.0001·(αT + βΣtp)',
    find: 'static_cast<float>(P.alpha * static_cast<double>(s.mass) + P.beta * pt)', replace: 'static_cast<float>(1.0001 * (P.alpha * static_cast<double>(s.mass) + P.beta * pt))' },
  { id: 'to-p-x1.0001', file: 'native/core/fused_loss.cpp', what: 'p_j scale ×1.0001 in the gradient pass',
    find: 'std::exp(static_cast<double>(e_shift) - s.max - s.log_sum)', replace: '1.0001 * std::exp(static_cast<double>(e_shift) - s.max - s.log_sum)' },

  // Dropped factors and terms.
  { id: 'focal-drop-w', file: 'native/core/row_math.h', what: 'focal value CE instead of (1 − p)^γ·CE',
    find: 'return {static_cast<float>(w * ce),', replace: 'return {static_cast<float>(ce),' },
  { id: 'gce-drop-q', file: 'native/core/row_math.h', what: 'GCE value without the 1/q',
    find: 'static_cast<float>(-expm1(-q * ce) / q)', replace: 'static_cast<float>(-expm1(-q * ce))' },
  { id: 'dense-ce-drop-mass', file: 'native/core/row_math.h', what: 'dense CE = lse − Σtq (mass T dropped)',
    find: 'r.ce = static_cast<float>(p.mass * lse - p.t_logit);', replace: 'r.ce = static_cast<float>(lse - p.t_logit);' },
  { id: 'to-p-drop-log-sum', file: 'native/core/fused_loss.cpp', what: 'p_j = exp(q − max) without − log Σ',
    find: 'std::exp(static_cast<double>(e_shift) - s.max - s.log_sum)', replace: 'std::exp(static_cast<double>(e_shift) - s.max)' },
  { id: 'backward-drop-row-dy', file: 'native/core/fused_loss.cpp', what: 'backward uses dy[0] for every row',
    find: 'return static_cast<double>(dy[dy_len == 1 ? 0 : r]) * dy_scale;', replace: 'return static_cast<double>(dy[0]) * dy_scale;' },
  { id: 'scale-rows-drop-row-dy', file: 'native/core/fused_loss.cpp', what: 'scale_rows uses dy[0] for every row',
    find: 'static_cast<double>(dy[dy_len == 1 ? 0 : s.row]) * scale', replace: 'static_cast<double>(dy[0]) * scale' },
  { id: 'masked-slice-no-zero', file: 'native/core/fused_loss.cpp', what: 'an all-masked slice leaves its gradient unwritten',
    find: 'std::fill(g + s.begin, g + s.end, 0.0f);', replace: ';' },

  // Swapped parameters.
  { id: 'dense-swap-b-d', file: 'native/core/row_math.h', what: 'dense b and d swapped (−β, −α)',
    find: '-P.alpha, -P.beta};', replace: '-P.beta, -P.alpha};' },
  { id: 'tamed-swap-exponent', file: 'native/core/row_math.h', what: 'tamed c = (1 − log p)^a instead of ^(−a)',
    find: 'static_cast<float>(pow(u, -a))', replace: 'static_cast<float>(pow(u, a))' },
  { id: 'focal-swap-p-el', file: 'native/core/row_math.h', what: 'focal weight (p)^γ instead of (1 − p)^γ',
    find: 'const double w = pow(one_minus_p, g);', replace: 'const double w = pow(p, g);' },

  // Off-by-one bounds and precision paths.
  { id: 'label-bound-off-by-one', file: 'native/core/fused_loss.h', what: 'int32 label = C accepted',
    find: 'return y < 0 || y >= classes;', replace: 'return y < 0 || y > classes;' },
  { id: 'around-target-off-by-one', file: 'native/core/fused_loss.cpp', what: 'the target logit counted among the others',
    find: 'std::clamp(y + 1, s.begin, s.end)', replace: 'std::clamp(y, s.begin, s.end)' },
  { id: 'last-block-skipped', file: 'native/core/row_blocks.cpp', what: 'a final block of one element is skipped',
    find: `void accumulate_sparse(const float* x, int64_t n, Partial& acc) {
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {`,
    replace: `void accumulate_sparse(const float* x, int64_t n, Partial& acc) {
  for (int64_t j0 = 0; j0 + 1 < n; j0 += kBlock) {` },
  { id: 'split-rows-last-part', file: 'native/core/fused_loss.cpp', what: 'the last slice of a split row not merged',
    find: 'for (int64_t k = 1; k < plan.parts; ++k) merge(', replace: 'for (int64_t k = 1; k < plan.parts - 1; ++k) merge(' },
  { id: 'ce-no-log1p-branch', file: 'native/core/row_math.h', what: 'CE as log(s) − d always (cancels near p_y = 1)',
    find: 'others.sum <= e_y ? log1p(others.sum / e_y) : log(s) - d', replace: 'log(s) - d' },
  { id: 'ce-log1p-always', file: 'native/core/row_math.h', what: 'CE as log1p(others / e_y) always (∞ when e_y underflows)',
    find: 'others.sum <= e_y ? log1p(others.sum / e_y) : log(s) - d', replace: 'log1p(others.sum / e_y)' },
  { id: 'pt-from-el', file: 'native/core/row_math.h', what: 'p_y read as 1 − el from the float el (loses tiny p_y)',
    find: 'r.pt = static_cast<float>(e_y / s);', replace: 'r.pt = 1.0f - static_cast<float>(others.sum / s);' },
  { id: 'dense-tq-float', file: 'native/core/row_blocks.cpp', what: 'Σ t·q summed in float (overflows)',
    find: 'tq += tj != 0.0f ? static_cast<double>(tj) * x[j] : 0.0;', replace: 'tq += tj != 0.0f ? static_cast<float>(tj * x[j]) : 0.0f;' },
  { id: 'focal-0-times-inf', file: 'native/core/row_math.h', what: 'focal p·CE without the p = 0 guard (0·∞)',
    find: 'const double p_ce = p == 0.0 ? 0.0 : p * ce;', replace: 'const double p_ce = p * ce;' },
  { id: 'nan-flag-dropped', file: 'native/core/row_blocks.cpp', what: 'a block max ignores NaN (the row is not poisoned)',
    find: 'nan |= (x[j] != x[j]);', replace: 'nan |= 0;' },
  { id: 'masked-block-entered', file: 'native/core/row_blocks.cpp', what: 'an all −∞ block rebases (exp(−∞ + ∞) = NaN)',
    find: 'if (bm == -INFINITY) return false;  // all masked', replace: 'if (false) return false;  // all masked' },

  // Removed validation and fallbacks.
  { id: 'no-float-label-integer-check', file: 'native/core/fused_loss.h', what: 'float ids need not be integers',
    find: '&& floorf(y) == y);', replace: ');' },
  { id: 'no-beta-check', file: 'native/addon/checks.h', what: 'negative β accepted',
    find: 'if (p.alpha < 0 || p.beta < 0)', replace: 'if (p.alpha < 0)' },
  { id: 'no-length-check', file: 'native/addon/checks.h', what: 'a longer buffer than the shape accepted',
    find: 'if (static_cast<int64_t>(t.length) != length)', replace: 'if (static_cast<int64_t>(t.length) < length)' },
  { id: 'no-kind-check', file: 'native/addon/checks.h', what: 'loss kind 4 accepted',
    find: 'kind > 3 ||', replace: 'kind > 4 ||' },
  { id: 'no-thread-cap', file: 'native/core/thread_pool.cpp', what: 'MIXLOSS_NUM_THREADS not capped',
    find: `  if (n > ThreadPool::kMaxThreads) {
    std::fprintf`, replace: `  if (false) {
    std::fprintf` },
  { id: 'no-thread-fallback', file: 'native/core/thread_pool.cpp', what: 'a thread that cannot start aborts',
    find: `                   i);
      break;`, replace: `                   i);
      throw;` },
  { id: 'env-threads-unchecked', file: 'native/core/thread_pool.cpp', what: 'MIXLOSS_NUM_THREADS=2x read as 2',
    find: "if (end == env || *end != '\\0' || errno == ERANGE || n < 1) {", replace: 'if (end == env || errno == ERANGE || n < 1) {' },
];

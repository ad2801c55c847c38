// libFuzzer target over the native core's entry points, below N-API: every loss
// kind with parameters anywhere in its registry range (ends included), both label forms, class
// and sample weights, ignore_index, label smoothing and z-loss, shapes that split rows across
// threads, labels out of range and logits with NaN and ±∞. Invariants, besides "no crash and
// no sanitizer report":
//   - find_bad_label finds exactly the first row whose class id is neither in [0, C) nor
//     ignored; the kernels only run when there is none (as the addon does);
//   - forward and forward_backward give the same row losses and statistics;
//   - backward from forward's statistics gives forward_backward's gradient;
//   - with finite logits and weights: finite row losses and gradients; ignored rows 0;
//   - without z-loss each gradient row sums to ~0 (softmax is shift invariant);
//   - with finite logits (sometimes all shifted by up to ±2^17), the row statistics (CE, 1 − p_y, p_y, log Σ_{j≠y} e_j, Σ r log r; the
//     dense forms) agree with a float64 computation from their definitions;
//   - with softcap (sometimes: a cap of 1, 3, 30 or 1000), the same on cap·tanh(q/cap), to the
//     rounding of the capped logits (the sum-to-0 check does not hold: the chain factor differs per entry).
// Build and run: scripts/fuzz.sh (clang's libFuzzer, with ASan and UBSan).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fused_loss.h"
#include "fuzz_input.h"
#include "losses/registry.h"

using namespace mixloss;

namespace {

using fuzz::Input;

// A value of a parameter's range: its ends (when closed and finite), just inside them, or a
// point in between; open or infinite ends are approached, not reached.
float param_value(Input& in, const losses::ParamSpec& s) {
  const double lo = std::isinf(s.min) ? -1e3 : s.min, hi = std::isinf(s.max) ? 1e3 : s.max;
  double v;
  switch (in.byte() % 5) {
    case 0: v = s.min_open || std::isinf(s.min) ? lo + 1e-3 * (hi - lo) : lo; break;
    case 1: v = s.max_open || std::isinf(s.max) ? hi - 1e-3 * (hi - lo) : hi; break;
    case 2: v = lo + (hi - lo) * 1e-6; break;
    default: v = lo + (hi - lo) * (in.u16() / 65535.0); break;
  }
  if (s.min_open && v <= s.min) v = std::nextafter(static_cast<float>(s.min), HUGE_VALF);
  if (s.max_open && v >= s.max) v = std::nextafter(static_cast<float>(s.max), -HUGE_VALF);
  return static_cast<float>(v);
}

uint64_t mix(uint64_t& s) {
  s += 0x9e3779b97f4a7c15ull;
  uint64_t z = s;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The call being checked, printed when an invariant breaks (row r: logits, label, gradient).
struct Shown {
  const float* logits = nullptr;
  const float* grad = nullptr;
  const int32_t* ids = nullptr;
  int64_t classes = 0;
  const LossParams* params = nullptr;
  int64_t rows = 0;
  unsigned flags = 0;
} shown;

void fail(const char* what, int64_t r, double a, double b) {
  std::fprintf(stderr, "mixloss fuzz: invariant broken: %s (row %lld: %.9g vs %.9g)\n", what, static_cast<long long>(r), a, b);
  if (shown.params != nullptr) {
    const LossParams& p = *shown.params;
    std::fprintf(stderr,
                 "kind %d alpha %.9g beta %.9g gamma %.9g q %.9g truncation %.9g a %.9g z_loss %.9g smoothing %.9g softcap %.9g "
                 "ignore %d:%lld; %lld rows × %lld classes, flags 0x%x\n",
                 static_cast<int>(p.kind), p.alpha, p.beta, p.gamma, p.q, p.truncation, p.a, p.z_loss, p.label_smoothing, p.softcap,
                 p.has_ignore_index ? 1 : 0, static_cast<long long>(p.ignore_index), static_cast<long long>(shown.rows),
                 static_cast<long long>(shown.classes), shown.flags);
  }
  if (shown.logits != nullptr && r >= 0) {
    std::fprintf(stderr, "label %d\nlogit,gradient\n", shown.ids != nullptr ? shown.ids[r] : -1);
    for (int64_t j = 0; j < shown.classes; ++j)
      std::fprintf(stderr, "%.9g,%.9g\n", shown.logits[r * shown.classes + j],
                   shown.grad != nullptr ? shown.grad[r * shown.classes + j] : 0.0);
  }
  std::abort();
}

bool close(double a, double b, double rel, double abs) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= abs + rel * std::fmax(std::fabs(a), std::fabs(b));
}

// The row statistics in float64, straight from the definitions (row_stats.h), for a row of
// finite logits: q_y against the log-sum-exp of the other classes, a = lse_o − q_y, so that
// CE = softplus(a), 1 − p_y = σ(a), p_y = σ(−a), log Σ_{j≠y} exp(q_j − max) = lse_o − max, without the
// kernels' rebasing; and Σ_{j≠y} r log r with r_j = exp(q_j − lse_o). Dense targets t: CE =
// Σ t (lse − q), p_t = Σ t p, EL = Σ t − p_t.
struct RefStats {
  double ce, el, pt, log_others, cot, mass;
  double u_ce = 0, u_pt = 0, u_mass = 0;  // label smoothing's vector u: Σ u (lse − q), Σ u p, Σ u
};

double softplus(double a) { return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a)); }

RefStats reference_dense(const float* q, const float* t, int64_t C) {
  double m = -INFINITY, s = 0, mass = 0, tq = 0, tp = 0;
  for (int64_t j = 0; j < C; ++j) m = std::fmax(m, q[j]);
  for (int64_t j = 0; j < C; ++j) s += std::exp(q[j] - m);
  const double lse = m + std::log(s);
  for (int64_t j = 0; j < C; ++j) {
    mass += t[j];
    tq += static_cast<double>(t[j]) * q[j];
    tp += t[j] * std::exp(q[j] - lse);
  }
  return {mass * lse - tq, mass - tp, tp, 0, 0, mass};
}

RefStats reference_sparse(const float* q, int64_t C, int64_t y, const float* u) {
  double mo = -INFINITY;
  for (int64_t j = 0; j < C; ++j)
    if (j != y) mo = std::fmax(mo, q[j]);
  RefStats r{0, 0, 1, -INFINITY, 0, 1};
  if (u != nullptr) {  // smoothing's sums are the dense statistics against u
    const RefStats d = reference_dense(q, u, C);
    r.u_ce = d.ce;
    r.u_pt = d.pt;
    r.u_mass = d.mass;
  }
  if (mo == -INFINITY) return r;  // one class
  double so = 0;
  for (int64_t j = 0; j < C; ++j)
    if (j != y) so += std::exp(q[j] - mo);
  const double lse_o = mo + std::log(so), a = lse_o - q[y];
  r.ce = softplus(a);
  r.el = 1.0 / (1.0 + std::exp(-a));
  r.pt = 1.0 / (1.0 + std::exp(a));
  r.log_others = lse_o - std::fmax(mo, q[y]);  // log Σ_{j≠y} exp(q_j − max)
  for (int64_t j = 0; j < C; ++j) {
    if (j == y) continue;
    const double rj = std::exp(q[j] - lse_o);
    if (rj > 0) r.cot += rj * (q[j] - lse_o);
  }
  return r;
}

// The stored statistics of row r against the reference, to what the kernels' float parts allow:
// the exponentials (≤ 1.1 ulp) summed in float lanes, block by block (up to 2048 / 16 = 128
// terms a lane: a relative error of the others' sum below ~8e-6), so an absolute error below
// ~1e-5 in log Σ, which each statistic feels through its derivative (σ(a) for CE, ...); the
// float the statistic is stored in; and, for Σ r log r, the sizes of the terms that cancel.
// With softcap the kernels' capped logits are floats within ~6e-7·cap of cap·tanh(q/cap) (the
// polynomial or rational tanh, and the float they round to): `z` is that bound, which moves log Σ
// and each logit by as much, so CE by 2z, p_y by 2z·p_y(1 − p_y), and the others as their
// derivatives allow.
void check_stats(const float* st, const RefStats& want, bool dense, bool cot, bool smoothing, int64_t C, int64_t r, double z = 0.0) {
  const double s = 2e-5, u = 2e-7, tiny = 1e-44;
  auto expect = [&](const char* what, double got, double ref, double tol) {
    if (!(std::fabs(got - ref) <= tol)) fail(what, r, got, ref);
  };
  if (dense) {
    const double T = std::fabs(want.mass);
    expect("row statistic ce vs float64", st[slot::ce], want.ce, (s + 2 * z) * T + u * std::fabs(want.ce) + tiny);
    expect("row statistic pt vs float64", st[slot::pt], want.pt, (s + 2 * z) * T + u * std::fabs(want.pt) + tiny);
    expect("row statistic el vs float64", st[slot::el], want.el, (s + 2 * z) * T + u * std::fabs(want.el) + tiny);
    expect("row statistic mass vs float64", st[slot::mass], want.mass, 1e-5 * T + tiny);
    return;
  }
  const double p = (s + 2 * z) * want.el * want.pt;  // p_y's share of an error in log Σ
  expect("row statistic ce vs float64", st[slot::ce], want.ce, s * want.el + 2 * z + u * want.ce + tiny);
  expect("row statistic el vs float64", st[slot::el], want.el, p + u * want.el + tiny);
  expect("row statistic pt vs float64", st[slot::pt], want.pt, p + u * want.pt + tiny);
  const double log_others = static_cast<double>(st[slot::log_others_hi]) + st[slot::log_others_lo];
  if (std::isinf(want.log_others)) {
    if (log_others != want.log_others) fail("row statistic log_others vs float64", r, log_others, want.log_others);
  } else {
    expect("row statistic log_others vs float64", log_others, want.log_others, s + z + 1e-12 * std::fabs(want.log_others));
  }
  if (smoothing) {
    const double U = std::fabs(want.u_mass);
    // Σ_c u_c (lse − q_c) = U·(lse − m) + Σ u (m − q): the second sum's non-negative terms in
    // float lanes (with ones for u), within ~8e-6 of their sum.
    expect("row statistic u_ce vs float64", st[slot::u_ce], want.u_ce, (s + 2 * z) * U + 1e-5 * std::fabs(want.u_ce) + tiny);
    expect("row statistic u_pt vs float64", st[slot::u_pt], want.u_pt, (s + 2 * z) * U + u * std::fabs(want.u_pt) + tiny);
    expect("row statistic u_mass vs float64", st[slot::u_mass], want.u_mass, 1e-6 * U + tiny);
  }
  if (cot)
    expect("row statistic cot (Σ r log r) vs float64", st[slot::cot], want.cot,
           1.5 * (s + 2 * z) * (1.0 + std::fabs(want.cot) + std::log(static_cast<double>(C))));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  // Shape: mostly small; sometimes one or two long rows (split into slices across threads).
  const uint8_t shape = in.byte();
  const int64_t rows = 1 + shape % 9;
  const int64_t classes = (shape & 0x80) ? 2000 + in.u16() % 20000 : 1 + in.u16() % 300;
  LossParams P{};
  P.kind = static_cast<LossKind>(in.byte() % kLossKindCount);
  bool linear = false, valid = true;
  visit_kind(P.kind, [&](auto k) {
    using K = decltype(k);
    linear = K::kLinear;
    for (const losses::ParamSpec& s : K::kParams)
      if (s.name != nullptr) P.*(s.field) = param_value(in, s);
    valid = K::check(P) == nullptr;
    return 0;
  });
  if (!valid) return 0;  // the addon rejects it (a constraint between parameters)
  const uint8_t flags = in.byte();
  const bool dense = linear && (flags & 1);
  const bool class_weights = !dense && (flags & 2);
  const bool row_weights = flags & 4;
  if (flags & 8) P.z_loss = (in.byte() % 4) * 0.25f * 1e-2f;
  if (linear && !dense && (flags & 16)) P.label_smoothing = in.byte() / 255.0f;
  if (!dense && (flags & 32)) {
    P.has_ignore_index = true;
    P.ignore_index = (flags & 64) ? -100 : static_cast<int64_t>(in.byte() % (classes + 1));
  }
  const bool finite = !(flags & 128);
  uint64_t seed = in.u16() | (uint64_t{in.u16()} << 16);
  const float scale = std::ldexp(1.0f, static_cast<int>(in.byte() % 24) - 6);  // logits up to ~2^17
  const int64_t n = rows * classes;

  std::vector<float> logits(static_cast<size_t>(n));
  for (auto& x : logits) x = (static_cast<float>(mix(seed) >> 40) / 16777216.0f * 2 - 1) * scale;
  if (!finite) {
    static const float kSpecial[] = {NAN, INFINITY, -INFINITY, -INFINITY, 0.0f, 3e38f, -3e38f};
    for (int k = in.byte() % 8; k > 0; --k) logits[static_cast<size_t>(mix(seed) % n)] = kSpecial[in.byte() % 7];
  }
  std::vector<int32_t> ids(static_cast<size_t>(rows));
  std::vector<float> targets;
  for (int64_t r = 0; r < rows; ++r) ids[r] = static_cast<int32_t>(mix(seed) % classes);
  if (P.has_ignore_index && rows > 1) ids[mix(seed) % rows] = static_cast<int32_t>(P.ignore_index);
  const uint8_t corrupt = in.byte();
  if (!dense && corrupt % 7 == 0) {  // a bad class id somewhere
    static const int64_t kBad[] = {-1, 0, -2147483647 - 1, 2147483647};
    const int64_t b = kBad[corrupt % 4];
    ids[mix(seed) % rows] = static_cast<int32_t>(b == 0 ? classes : b);
  }
  if (dense) {  // one-hot, soft, or all-zero rows (the op checks rows are distributions)
    targets.assign(static_cast<size_t>(n), 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t form = in.byte() % 3;
      if (form == 0) targets[r * classes + ids[r]] = 1.0f;
      if (form == 1) {
        double sum = 0;
        for (int64_t j = 0; j < classes; ++j) sum += targets[r * classes + j] = static_cast<float>(mix(seed) % 1000);
        for (int64_t j = 0; j < classes; ++j)
          targets[r * classes + j] = sum > 0 ? static_cast<float>(targets[r * classes + j] / sum) : 0.0f;
      }
    }
  }
  std::vector<float> cw, rw;
  if (class_weights)
    for (int64_t j = 0; j < classes; ++j) cw.push_back((mix(seed) % 5) * 0.5f);
  if (row_weights)
    for (int64_t r = 0; r < rows; ++r) rw.push_back((mix(seed) % 5) * 0.5f);
  // Sometimes every logit shifted by ±2^k, k < 18 (read last, so that the kept inputs keep
  // their meaning): the spread stays, the sizes grow, and sums of q or t·q cancel in CE's terms.
  if (const uint8_t shift = in.byte(); shift & 1) {
    const float offset = std::ldexp(shift & 2 ? -1.0f : 1.0f, (shift >> 2) % 18);
    for (auto& x : logits) x += offset;
  }
  // Sometimes softcap (read after the shift, for the same reason).
  if (const uint8_t cap = in.byte(); cap & 1) {
    static const float kCaps[] = {1.0f, 3.0f, 30.0f, 1000.0f};
    P.softcap = kCaps[(cap >> 1) % 4];
  }

  std::vector<float> stats(static_cast<size_t>(rows * kStatsPerRow)), stats2(stats.size());
  LossCall c{logits.data(),
             rows,
             classes,
             dense ? Labels{LabelFormat::kDenseFloat32, targets.data()} : Labels{LabelFormat::kSparseInt32, ids.data()},
             P,
             class_weights ? cw.data() : nullptr,
             stats.data(),
             row_weights ? rw.data() : nullptr};

  if (!dense) {
    int64_t first_bad = -1;
    for (int64_t r = 0; r < rows && first_bad < 0; ++r) {
      const bool ignored = P.has_ignore_index && ids[r] == P.ignore_index;
      if (!ignored && (ids[r] < 0 || ids[r] >= classes)) first_bad = r;
    }
    const int64_t found = cpu::find_bad_label(c);
    if (found != first_bad) fail("find_bad_label", found, static_cast<double>(found), static_cast<double>(first_bad));
    if (found >= 0) return 0;  // the addon throws before any kernel runs
  }

  std::vector<float> loss1(static_cast<size_t>(rows)), loss2(loss1.size()), grad(static_cast<size_t>(n)), grad2(grad.size());
  const double scale_grad = 1.0 / static_cast<double>(rows);
  cpu::forward(c, loss1.data());
  LossCall c2 = c;
  c2.stats = stats2.data();
  cpu::forward_backward(c2, loss2.data(), scale_grad, grad.data());
  const float dy = 1.0f;
  cpu::backward(c, &dy, 1, scale_grad, grad2.data());

  shown = {logits.data(), grad.data(), dense ? nullptr : ids.data(), classes, &P, rows, flags};
  // Label smoothing's vector: the class weights, or ones.
  const bool smoothing = !dense && P.label_smoothing > 0.0f;
  std::vector<float> u;
  if (smoothing) u = class_weights ? cw : std::vector<float>(static_cast<size_t>(classes), 1.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const bool ignored = !dense && P.has_ignore_index && ids[r] == P.ignore_index;
    if (!close(loss1[r], loss2[r], 1e-4, 1e-5)) fail("forward vs forward_backward row loss", r, loss1[r], loss2[r]);
    // The size of the terms that cancel: the weight times the parameters (α·CE + β·EL with
    // α = 999, β = −998 leaves ~1e-6 of terms ~1, a rounding that the two passes make
    // differently; and a one-class row's gradient is 0 in exact arithmetic) and CE = −log p_y,
    // which multiplies the entries of MPCE and focal loss.
    const double ce = std::isfinite(stats2[r * kStatsPerRow + slot::ce]) ? std::fabs(stats2[r * kStatsPerRow + slot::ce]) : 0.0;
    const double terms = (1.0 + std::fabs(P.alpha) + std::fabs(P.beta) + std::fabs(P.alpha * P.gamma)) * (1.0 + ce) * scale_grad *
                         (row_weights ? rw[r] : 1.0) * (class_weights ? 2.0 : 1.0);
    double sum = 0, abs_sum = 0;
    bool row_finite = true;
    for (int64_t j = 0; j < classes; ++j) {
      const double g = grad[r * classes + j], g2 = grad2[r * classes + j];
      if (!close(g, g2, 1e-3, 1e-6 * terms)) fail("backward vs forward_backward gradient", r, g, g2);
      row_finite = row_finite && std::isfinite(g);
      sum += g;
      abs_sum += std::fabs(g);
    }
    if (ignored && (loss1[r] != 0.0f || abs_sum != 0.0)) fail("an ignored row adds something", r, loss1[r], abs_sum);
    if (finite && !std::isfinite(loss1[r])) fail("finite inputs, non-finite row loss", r, loss1[r], 0);
    if (finite && !row_finite) fail("finite inputs, non-finite gradient", r, sum, abs_sum);
    // Relative to the entries, and to the size of the terms that cancel (above). MPCE's argmax
    // entry ~CE·(1 − p_k) reads 1 − p_k from a row sum kept in float lanes: an absolute error of
    // ~1e-7·CE (docs/reliability.md).
    if (finite && P.z_loss == 0.0f && P.softcap == 0.0f && std::fabs(sum) > 1e-4 * abs_sum + 1e-6 * terms)
      fail("gradient row does not sum to 0", r, sum, abs_sum);
    if (finite && !ignored) {
      // The logits as the loss sees them: cap·tanh(q/cap) in float64, then rounded to float.
      std::vector<float> q(logits.begin() + r * classes, logits.begin() + (r + 1) * classes);
      if (P.softcap > 0.0f)
        for (auto& x : q) x = static_cast<float>(P.softcap * std::tanh(static_cast<double>(x) / P.softcap));
      const RefStats want = dense ? reference_dense(q.data(), &targets[r * classes], classes)
                                  : reference_sparse(q.data(), classes, ids[r], smoothing ? u.data() : nullptr);
      const bool cot = (kind_needs(P.kind) & kNeedExpLogit) != 0;
      const double z = 6e-7 * P.softcap;
      check_stats(&stats[r * kStatsPerRow], want, dense, cot, smoothing, classes, r, z);
      check_stats(&stats2[r * kStatsPerRow], want, dense, cot, smoothing, classes, r, z);
    }
  }
  return 0;
}
